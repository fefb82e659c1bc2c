"""The sync engine's benchmark at a tiny size: it proves the harness runs and prints every
figure. It asserts no timings (machines here are noisy); `manage.py sync_bench` is the real
run."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.same_on_every_backend
def test_the_sync_benchmark_runs_end_to_end_and_prints_every_measure():
    out = io.StringIO()
    call_command("sync_bench", "--tiny", stdout=out)
    table = out.getvalue()
    for measure in ("T (sweep period)", "reads/min at rest", "webhook → row p95"):
        assert measure in table
