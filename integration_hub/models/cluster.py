from django.db import models


class ClusterHeartbeat(models.Model):
    """The last time a task cluster ran the heartbeat task, so the dashboard can say whether
    background jobs are being processed."""

    cluster_name = models.CharField(max_length=200, unique=True)
    host = models.CharField(max_length=200, blank=True)
    seen_at = models.DateTimeField()

    class Meta:
        # Job Admin's right to start a job now (datasync run, accounting sync) is held here,
        # beside the record of the cluster that runs them.
        permissions = [("run_jobs", "Can run jobs now and see run history")]

    def __str__(self) -> str:
        return f"{self.cluster_name} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"
