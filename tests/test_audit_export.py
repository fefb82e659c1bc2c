"""Issue 14, finding 4 (a): the audit CSV export runs in the background. The request that
asks for it reads nothing from Layers; the worker reads the log inside a share of the key's
read budget, keeps the file in parts, one export runs at a time per person, the progress
page says how far it is and offers the download when done, and housekeeping deletes it
AUDIT_EXPORT_KEEP_HOURS later."""

import csv
import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from dashboard.models import AuditExport, AuditExportPart
from dashboard.services.audit_export import audit_export_execute
from dashboard.services.housekeeping import housekeeping_run
from tests.conftest import ACME, NORDLICHT, login
from tests.sandbox.support import start_of_a_fresh_minute
from tests.test_bulk import run_worker


def export_start(client, project_id=ACME, **filters):
    response = client.post(reverse("audit-export", args=[project_id]), filters)
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def export_csv(client, project_id=ACME, **filters) -> str:
    """Starts an export as the page's button does, lets the worker make it, downloads it."""
    progress = export_start(client, project_id, **filters)
    run_worker()
    response = client.get(progress + "download")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content).decode()


def make_denials(sandbox, count):
    from tests.test_audit import make_denials as made  # tests/test_audit.py imports this file

    made(sandbox, count)


def reads(sandbox):
    return sandbox.control("stats")["byRoute"].get("GET audit_log.list", 0)


def test_asking_for_an_export_reads_nothing_from_layers_and_the_worker_makes_it(
    sandbox, people, client, monkeypatch
):
    # Pages of 10 rather than 200: the same walk over several pages, 25 writes instead of 210.
    monkeypatch.setattr("dashboard.services.audit_export.SCAN_LIMIT", 10)
    make_denials(sandbox, 25)  # more than two pages of 10
    login(client, "viewer")
    before = reads(sandbox)
    progress = export_start(client)
    assert reads(sandbox) == before  # the request only recorded it
    page = client.get(progress).content.decode()
    assert "Queued, starting soon…" in page and 'hx-trigger="every 1s"' in page
    run_worker()
    assert reads(sandbox) - before >= 2
    page = client.get(progress).content.decode()
    assert "Finished" in page and 'id="export-download"' in page
    assert 'hx-trigger="every 1s"' not in page  # finished: the page stops polling
    body = b"".join(client.get(progress + "download").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) >= 25 and AuditExport.objects.get().rows == len(rows)
    assert AuditExport.objects.get().pages >= 3
    assert "lp_test_" not in body


def test_one_export_runs_at_a_time_for_each_person(sandbox, people, client):
    login(client, "admin")
    first = export_start(client)
    again = client.post(reverse("audit-export", args=[ACME]), {"decision": "deny"}, follow=True)
    assert again.redirect_chain[-1][0] == first
    assert "one export runs at a time for each person" in again.content.decode()
    assert AuditExport.objects.count() == 1
    run_worker()
    assert export_start(client) != first  # the first one is done: the next may start


def test_an_export_spends_at_most_its_share_of_the_read_budget_each_minute(
    sandbox, people, client, settings, monkeypatch
):
    # Pages of 10 rather than 200: the same pacing between pages, 25 writes instead of 450.
    monkeypatch.setattr("dashboard.services.audit_export.SCAN_LIMIT", 10)
    make_denials(sandbox, 25)  # three pages of 10
    sandbox.control("rate-tier", tier="standard")  # 120 reads a minute
    settings.AUDIT_EXPORT_READ_SHARE = 1 / 120  # one read a minute for the export
    # The budget's minute is the sandbox clock's: start the export a second into one, so the
    # minute cannot turn (and hand the export a fresh share without a wait) while it runs.
    start_of_a_fresh_minute(sandbox)
    login(client, "viewer")
    export_start(client)
    waits = []
    client.get(reverse("audit", args=[ACME]))  # someone reads: the budget becomes known
    export = audit_export_execute(export_id=AuditExport.objects.get().id, sleep=waits.append)
    assert export.status == "done" and export.pages >= 3
    assert len(waits) >= export.pages - 1  # a wait for the next minute between its reads
    assert all(0 < w <= 65 for w in waits)


def test_an_export_of_another_project_or_one_that_does_not_exist_is_a_404_sentence(
    sandbox, people, client
):
    login(client, "admin")
    progress = export_start(client)
    run_worker()
    login(client, "outsider")
    assert client.get(progress).status_code == 403
    missing = reverse(
        "audit-export-progress", args=[NORDLICHT, "00000000-0000-4000-8000-000000000000"]
    )
    response = client.get(missing)
    assert response.status_code == 404
    assert "There is no such export in this project" in response.content.decode()


def test_a_finished_export_is_deleted_with_its_parts_after_the_keep_hours(
    sandbox, people, client, settings
):
    settings.AUDIT_EXPORT_KEEP_HOURS = 2
    login(client, "viewer")
    export_csv(client)
    export = AuditExport.objects.get()
    AuditExport.objects.filter(id=export.id).update(finished_at=timezone.now() - timedelta(hours=1))
    assert housekeeping_run()["audit_exports"] == 0
    AuditExport.objects.filter(id=export.id).update(finished_at=timezone.now() - timedelta(hours=3))
    assert housekeeping_run()["audit_exports"] >= 1
    assert not AuditExport.objects.exists() and not AuditExportPart.objects.exists()


def test_the_export_keeps_the_filters_of_the_log_page(sandbox, people, client):
    login(client, "viewer")
    rows = list(csv.DictReader(io.StringIO(export_csv(client, decision="deny"))))
    assert rows and {r["decision"] for r in rows} == {"deny"}


def test_an_export_whose_worker_died_never_blocks_the_persons_next_one(
    sandbox, people, client, settings
):
    login(client, "viewer")
    first = export_start(client)  # no worker takes it
    stale = timezone.now() - timedelta(seconds=settings.BULK_STALE_SECONDS + 1)
    AuditExport.objects.update(created_at=stale, status="running", heartbeat_at=stale)
    second = export_start(client)
    assert second != first
    assert "the worker making it stopped" in client.get(first).content.decode()
