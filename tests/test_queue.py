"""The pending-actions queue, driven through the dashboard's own URLs, with the sandbox
answering over real HTTP."""

import re
import threading
import uuid

import requests
from django.test import Client
from django.urls import reverse

from dashboard.models import DecisionRecord
from tests.conftest import ACME, PASSWORD, login, sync_next_tick

REVIEWER_KEY = "lp_test_REVIEWER00000003_sandbox-reviewer-secret-not-a-real-key-0000"


def queue_url(**query):
    url = reverse("queue", args=[ACME])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def pending_items(sandbox, platform, status="pending"):
    response = sandbox.api(
        "GET", f"/v1/projects/{ACME}/ads/{platform}/pending", params={"status": status}
    )
    return response.json()["items"]


def decide_url(platform, pending_id):
    return reverse("queue-decide", args=[ACME, platform, pending_id])


def test_the_queue_lists_pending_actions_from_every_platform_of_the_project(
    sandbox, people, client
):
    login(client, "approver")
    html = client.get(queue_url()).content.decode()
    for platform in ("meta", "tiktok", "apple"):
        for item in pending_items(sandbox, platform):
            assert f'id="pa-{item["pendingId"]}"' in html


def test_filters_live_in_the_url_and_narrow_the_queue(sandbox, people, client):
    login(client, "approver")
    html = client.get(queue_url(platform="meta")).content.decode()
    meta_ids = {i["pendingId"] for i in pending_items(sandbox, "meta")}
    shown = set(re.findall(r'id="pa-(pa_[0-9A-Z]+)"', html))
    assert shown == meta_ids
    assert '<option value="meta" selected>' in html


def test_approving_through_htmx_rerenders_the_row_as_approved_and_announces_the_change(
    sandbox, people, client
):
    login(client, "approver")
    item = pending_items(sandbox, "meta")[0]
    response = client.post(
        decide_url("meta", item["pendingId"]),
        {"decision": "approve", "comment": "Looks right", "idempotency_key": str(uuid.uuid4())},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="pa-{item["pendingId"]}"' in html
    assert "status-approved" in html
    assert "queue-changed" in response.headers["HX-Trigger"]
    assert item["pendingId"] not in {i["pendingId"] for i in pending_items(sandbox, "meta")}


def test_rejecting_without_a_reason_says_so_and_keeps_the_form(sandbox, people, client):
    login(client, "approver")
    item = pending_items(sandbox, "tiktok")[0]
    key = str(uuid.uuid4())
    response = client.post(
        decide_url("tiktok", item["pendingId"]),
        {"decision": "reject", "reason": "  ", "idempotency_key": key},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "Say why you are rejecting it" in html
    assert f'value="{key}"' in html  # the same form, the same key
    assert item["pendingId"] in {i["pendingId"] for i in pending_items(sandbox, "tiktok")}


def test_a_double_submitted_approval_is_decided_exactly_once(sandbox, people, client):
    login(client, "approver")
    item = pending_items(sandbox, "meta")[0]
    form = {"decision": "approve", "idempotency_key": str(uuid.uuid4())}
    first = client.post(decide_url("meta", item["pendingId"]), form, headers={"HX-Request": "true"})
    second = client.post(
        decide_url("meta", item["pendingId"]), form, headers={"HX-Request": "true"}
    )
    assert "status-approved" in first.content.decode()
    assert "status-approved" in second.content.decode()
    assert "Someone else decided first" not in second.content.decode()
    assert DecisionRecord.objects.filter(entity_id=item["pendingId"]).count() == 1
    stats = sandbox.control("stats")
    approvals = sum(n for route, n in stats["executedByRoute"].items() if "approve" in route)
    assert approvals == 1


def test_when_someone_else_decided_first_the_row_shows_it_and_keeps_what_was_typed(
    sandbox, people, client
):
    login(client, "approver")
    item = pending_items(sandbox, "meta")[0]
    path = f"/v1/projects/{ACME}/ads/meta/pending/{item['pendingId']}/reject"
    assert (
        sandbox.api("POST", path, key=REVIEWER_KEY, json={"reason": "Customer said no"}).status_code
        == 200
    )
    response = client.post(
        decide_url("meta", item["pendingId"]),
        {"decision": "approve", "comment": "My careful note", "idempotency_key": str(uuid.uuid4())},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "Someone else decided first: this action is already rejected" in html
    assert "status-rejected" in html
    assert "approve-form" not in html  # a decided row offers no decision
    assert "Your comment was not sent: <q>My careful note</q>" in html


def test_without_javascript_a_decision_redirects_back_to_the_queue_it_came_from(
    sandbox, people, client
):
    login(client, "approver")
    item = pending_items(sandbox, "apple")[0]
    back = queue_url(platform="apple")
    response = client.post(
        decide_url("apple", item["pendingId"]),
        {
            "decision": "reject",
            "quick_reason": "Needs more data first",
            "idempotency_key": str(uuid.uuid4()),
            "next": back,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == back
    page = client.get(back).content.decode()
    assert "Rejected. Verdict ver_" in page


def test_a_viewer_reads_the_queue_but_gets_no_decision_forms(sandbox, people, client):
    login(client, "viewer")
    html = client.get(queue_url()).content.decode()
    assert 'id="pa-' in html
    assert "approve-form" not in html
    assert "Deciding needs the approver role" in html


def test_an_upstream_failure_keeps_the_page_and_says_what_happened(sandbox, people, client):
    login(client, "approver")
    sandbox.control(
        "faults",
        faults=[{"kind": "status", "status": 500, "count": 50, "pathContains": "/pending"}],
    )
    response = client.get(queue_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="queue-partial-error"' in html
    assert 'id="topbar"' in html
    assert "Traceback" not in html


def test_many_people_opening_a_queue_never_synced_at_once_fill_it_once_and_all_see_it(
    sandbox, people, client, live_server
):
    # The queue reads the mirror; a project never synced is filled once by its first view
    # (through the sync engine's reads) while the others wait for it.
    login(client, "viewer")
    cookie = client.cookies["sessionid"].value
    pages = []

    def open_queue():
        answer = requests.get(
            live_server.url + queue_url(), cookies={"sessionid": cookie}, timeout=60
        )
        pages.append((answer.status_code, set(re.findall(r'id="pa-(pa_[0-9A-Z]+)"', answer.text))))

    threads = [threading.Thread(target=open_queue) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = {
        item["pendingId"]
        for platform in ("meta", "tiktok", "apple")
        for item in pending_items(sandbox, platform)
    }
    assert pages == [(200, expected)] * 12
    stats = sandbox.control("stats")
    pending_reads = sum(
        n
        for route, n in stats["byRoute"].items()
        if route.startswith("GET") and "pending" in route and "count" not in route
    )
    assert pending_reads == 3 + 3  # one list per platform, shared by all twelve (and ours)
    # Each row's authority matrix needs its campaign's authority (contract §4.11 has no
    # list of them): one read per campaign named, once, kept in the mirror.
    authority_reads = sum(
        n
        for route, n in stats["byRoute"].items()
        if route.startswith("GET") and "authority" in route
    )
    campaigns_named = {
        item["entityId"]
        if item["entityType"] == "campaign"
        else ((item.get("proposedAction") or {}).get("detail") or {}).get("campaignId")
        for platform in ("meta", "tiktok", "apple")
        for item in pending_items(sandbox, platform)
    } - {None}
    assert 0 < authority_reads <= len(campaigns_named)


def test_when_the_layers_key_may_not_decide_the_queue_says_so_and_offers_no_decision(
    sandbox, people, client, settings
):
    settings.LAYERS_API_KEY = "lp_test_READONLY00000002_sandbox-readonly-secret-not-a-real-key-0000"
    login(client, "approver")
    html = client.get(queue_url()).content.decode()
    assert 'id="key-cannot-decide"' in html
    assert "approve-form" not in html


# --- the live queue -------------------------------------------------------------------------


def fresh_url(client):
    """The poll URL the queue page carries (with its since and stamp)."""
    import html as html_lib

    page = client.get(reverse("queue", args=[ACME]) + "?platform=meta").content.decode()
    return html_lib.unescape(re.search(r'id="queue-fresh" hx-get="([^"]+)"', page).group(1))


def upstream_gets(sandbox) -> int:
    return sandbox.control("stats")["calls"]["GET"]


def test_polling_a_queue_in_which_nothing_changed_answers_204_without_asking_layers(
    sandbox, people, client
):
    assert client.login(username="approver", password=PASSWORD)
    url = fresh_url(client)
    before = upstream_gets(sandbox)
    for _ in range(3):
        assert client.get(url).status_code == 204
    assert upstream_gets(sandbox) == before


def test_a_webhook_saying_a_run_finished_makes_the_next_poll_announce_the_new_actions(
    sandbox, people, client, settings
):
    from tests.test_bulk import run_worker
    from tests.test_webhooks import SECRET, deliver, envelope

    settings.LAYERS_WEBHOOK_SECRET = SECRET
    assert client.login(username="approver", password=PASSWORD)
    url = fresh_url(client)
    sandbox.control("clock", advanceSeconds=10)
    sandbox.control(
        "pending-bulk", projectId=ACME, platform="meta", count=2
    )  # proposed upstream, no webhook yet
    assert client.get(url).status_code == 204
    run = envelope(
        "ads.optimizer.run.completed",
        runId="run_01TEST",
        platform="meta",
        dryRun=False,
        summary={"proposed": 2, "queued": 2, "dispatched": 0},
        changes=[],
    )
    assert deliver(client, run, SECRET).status_code == 200
    run_worker()  # the worker acts on the stored event: the list is marked dirty
    # The page reads the mirror: the sync engine's next tick reads the marked list.
    assert "meta" in {p for _, p, _ in sync_next_tick().refreshed}
    answer = client.get(url)
    assert answer.status_code == 200
    assert "2 new actions" in answer.content.decode() and "Show them" in answer.content.decode()


def test_proposals_no_webhook_announced_reach_the_poll_once_the_sweep_reads_their_list(
    sandbox, people, client, settings
):
    # The poll reads the mirror only ("full" polls too). Proposals no webhook and no feed
    # announced come in through the sync engine's reconciler, which reads every list again
    # within its period; the next poll then announces them.
    from django.conf import settings as live

    settings.SYNC_FEED = False
    assert client.login(username="approver", password=PASSWORD)
    url = fresh_url(client)
    sandbox.control("clock", advanceSeconds=10)
    sandbox.control("pending-bulk", projectId=ACME, platform="meta", count=3)
    before = upstream_gets(sandbox)
    assert client.get(url + "&full=1").status_code == 204  # nothing synced yet
    assert upstream_gets(sandbox) == before
    for tick in range(20):  # the sweep comes round (every list within T)
        later = live.SYNC_RECONCILE_MIN_SECONDS + 30 * tick
        if (ACME, "meta", "sweep") in sync_next_tick(later=later).refreshed:
            break
    else:
        raise AssertionError("the sweep never read Acme's meta list")
    answer = client.get(url + "&full=1")
    assert answer.status_code == 200 and "3 new actions" in answer.content.decode()


def test_a_decision_made_by_someone_else_here_changes_the_stamp_the_next_poll_sees(
    sandbox, people, client
):
    assert client.login(username="approver", password=PASSWORD)
    url = fresh_url(client)
    other = Client()
    assert other.login(username="admin", password=PASSWORD)
    pending_id = pending_items(sandbox, "meta")[0]["pendingId"]
    other.post(
        reverse("queue-decide", args=[ACME, "meta", pending_id]),
        {"decision": "approve", "idempotency_key": str(uuid.uuid4())},
    )
    assert client.get(url).status_code == 200  # looked again: the page's stamp is stale


def test_pages_go_out_gzipped_but_the_sandbox_api_answers_do_not(sandbox, people, client):
    assert client.login(username="approver", password=PASSWORD)
    page = client.get(reverse("queue", args=[ACME]), HTTP_ACCEPT_ENCODING="gzip")
    assert page["Content-Encoding"] == "gzip" and len(page.content) < 20_000
    # Compressing the stand-in API would weaken its ETags and blunt its "drop" fault.
    api = sandbox.api(
        "GET", f"/v1/projects/{ACME}/ads/meta/pending", headers={"Accept-Encoding": "gzip"}
    )
    assert api.status_code == 200 and "Content-Encoding" not in api.headers
