"""The queue row's own date and countdown formatting says exactly what Django's filters say."""

import random
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.timesince import timeuntil

from dashboard.templatetags.rows import _until, _when

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)


def test_the_countdown_reads_like_djangos_timeuntil_for_every_span_up_to_a_month_and_beyond():
    rng = random.Random(7)
    spans = [
        *range(0, 3 * 86400, 59),
        *(rng.randint(0, 40 * 86400) for _ in range(5000)),
        7 * 86400,
        28 * 86400,
    ]
    for seconds in spans:
        when = NOW + timedelta(seconds=seconds)
        assert _until(when, NOW) == timeuntil(when, NOW), seconds


def test_an_expiry_already_past_reads_zero_minutes_as_django_says():
    assert _until(NOW - timedelta(hours=2), NOW) == timeuntil(NOW - timedelta(hours=2), NOW)


def test_times_read_like_the_date_filter_in_the_current_time_zone(settings):
    rng = random.Random(3)
    for zone in ("UTC", "America/Los_Angeles", "Asia/Kolkata"):
        settings.TIME_ZONE = zone
        timezone.deactivate()
        for _ in range(300):
            when = NOW + timedelta(seconds=rng.randint(-(10**8), 10**8))
            assert _when(when) == date_format(timezone.localtime(when), "M j, H:i")
    assert _when(None) == ""
