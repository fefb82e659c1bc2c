"""The benchmark at a tiny size: it proves the harness runs and prints every figure.
It asserts no timings (machines here are noisy); `make bench` is the real run."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.same_on_every_backend
def test_the_benchmark_runs_end_to_end_and_prints_every_measure():
    out = io.StringIO()
    call_command("bench", "--tiny", stdout=out)
    table = out.getvalue()
    for measure in (
        "1. Fan-out",
        "2. Shared reads",
        "3. Rendering",
        "4. A decision",
        "5. Bulk",
        "6. Throughput",
    ):
        assert measure in table
    assert "requests/s" in table and "memory per worker" in table


def test_a_measure_that_came_out_zero_is_reported_not_divided_by():
    """On a busy machine a tiny run can see no upstream read in its window (a ZeroDivisionError
    once ended the whole bench)."""
    from dashboard.management.commands.bench import ratio

    assert ratio(3, 2) == "1.50"
    assert ratio(0, 2) == "0.00"
    assert ratio(3, 0) == "– (nothing measured to compare with)"
