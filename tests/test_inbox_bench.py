"""The inbox bench at a tiny size: it proves the harness runs and prints every figure.
It asserts no timings (machines here are noisy); `manage.py inbox_bench` is the real run."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.same_on_every_backend
def test_the_inbox_bench_runs_end_to_end_and_prints_every_measure():
    out = io.StringIO()
    call_command("inbox_bench", "--tiny", stdout=out)
    table = out.getvalue()
    for measure in (
        "1. Inbox page (50 lines) vs one upstream",
        "upstream calls while serving the page  0",
        "2. HTML per line",
        "server time per line vs bare template",
        "3. p95, 5 people vs 1 person",
        "4. upstream reads/min at rest, sync on",
        "Served by 1 gunicorn processes",
    ):
        assert measure in table, table
