from django.db import models


class TimeStampedModel(models.Model):
    """Every model's `created_at` / `updated_at`."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
