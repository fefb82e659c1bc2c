"""What the operator's signals need from the database: the task worker's heartbeat."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per worker signal (`name`), touched by the periodic heartbeat task and by
    every task the worker runs. /health reads its age: a stopped worker stops touching it."""

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


__all__ = ["WorkerHeartbeat"]
