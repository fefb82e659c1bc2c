"""E-mail about the customers a person owns or covers: a daily digest, and alerts when one
of their actions will expire soon with nobody having acted on it (services/digests.py)."""

import secrets

from django.conf import settings
from django.db import models

__all__ = ["MailPreference", "MailSent"]


def _token() -> str:
    return secrets.token_urlsafe(32)


class MailPreference(models.Model):
    class Mode(models.TextChoices):
        OFF = "off", "No e-mail"
        DIGEST = "digest", "The daily digest only"
        DIGEST_ALERTS = "digest_alerts", "The daily digest, and alerts before an action expires"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_preference"
    )
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.DIGEST_ALERTS)
    hour = models.PositiveSmallIntegerField(default=8)  # of the day, in `time_zone`
    time_zone = models.CharField(max_length=64, default="UTC")
    # The unsubscribe link's secret: it works without signing in, so it is long and random.
    unsubscribe_token = models.CharField(max_length=64, unique=True, default=_token)
    updated_at = models.DateTimeField(auto_now=True)


class MailSent(models.Model):
    """One e-mail's claim: the unique row is what keeps several workers to one send per
    person and period (a digest's day in the person's time zone; an alert's action)."""

    class Kind(models.TextChoices):
        DIGEST = "digest", "Daily digest"
        ALERT = "alert", "Expiry alert"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    period = models.CharField(max_length=80)  # "2026-12-02" | the pending action's id
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "period"], name="one_mail_per_period")
        ]
        indexes = [models.Index(fields=["user", "kind", "-sent_at"])]
