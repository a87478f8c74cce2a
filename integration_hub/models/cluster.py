from django.db import models


class ClusterHeartbeat(models.Model):
    """The last time a task cluster (its Q_CLUSTER name, on one host) reported, on the
    database's clock: after its tasks and at least once a minute. The dashboard and /readyz
    read it to tell whether background jobs are being processed."""

    cluster_name = models.CharField(max_length=200)
    host = models.CharField(max_length=200, blank=True)
    seen_at = models.DateTimeField()

    class Meta:
        # Job Admin's right to start a job now (datasync run, accounting sync) is held here,
        # beside the record of the cluster that runs them.
        permissions = [("run_jobs", "Can run jobs now and see run history")]
        constraints = [
            # Clusters on several machines share one Q_CLUSTER name (the queue they serve).
            models.UniqueConstraint(
                fields=["cluster_name", "host"], name="cluster_heartbeat_name_host_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cluster_name} on {self.host or '?'} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"
