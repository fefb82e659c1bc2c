"""The project queue reads the mirror: its pending view, counts, poll, "load more" and
"select all" ask nothing of Layers once the project is synced; a project never synced is
filled once, through the sync engine's own reads, on its first view; the page says how
fresh it is, offers "refresh now", and keeps showing the last synced copy when Layers
stops answering. The history (other statuses) still reads Layers, and says so."""

import html as html_lib
import re
import uuid

from django.urls import reverse

from dashboard.models import MirrorAction, MirrorCampaign, SyncRead, SyncState
from tests.conftest import ACME, login, mirror_sync, sync_next_tick

HTMX = {"HX-Request": "true"}


def upstream_calls(sandbox) -> int:
    return sum(sandbox.control("stats")["calls"].values())


def queue_url(**query):
    url = reverse("queue", args=[ACME])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def row_ids(html: str) -> list[str]:
    return re.findall(r'id="pa-(pa_[0-9A-Z]+)"', html)


def warm(client):
    """The first view of Acme's queue (it fills the mirror once)."""
    login(client, "approver")
    assert client.get(queue_url()).status_code == 200


def test_a_project_never_synced_is_filled_once_on_its_first_view_through_the_engines_reads(
    sandbox, people, client
):
    login(client, "approver")
    assert not MirrorAction.objects.filter(project_id=ACME).exists()
    html = client.get(queue_url()).content.decode()
    mirrored = set(
        MirrorAction.objects.pending().filter(project_id=ACME).values_list("pk", flat=True)
    )
    assert mirrored and set(row_ids(html)) == mirrored
    # Every read it made is in the engine's ledger (counted in its share).
    kinds = set(SyncRead.objects.filter(project_id=ACME).values_list("kind", flat=True))
    assert {"project", "first", "campaigns"} <= kinds
    assert not SyncState.objects.filter(project_id=ACME, last_full_refresh_at=None).exists()
    before = upstream_calls(sandbox)
    client.get(queue_url())
    assert upstream_calls(sandbox) == before  # once only


def test_the_queue_page_makes_no_upstream_read_when_the_mirror_is_warm(sandbox, people, client):
    warm(client)
    sandbox.control("pending-bulk", projectId=ACME, platform="meta", count=60)
    mirror_sync(ACME, "meta")  # Layers changed behind our back: the engine reads the list
    before = upstream_calls(sandbox)
    page = client.get(queue_url(platform="meta")).content.decode()
    for sort in ("newest", "expiring", "money"):
        client.get(queue_url(sort=sort))
    campaign = MirrorAction.objects.pending().filter(project_id=ACME).exclude(campaign_id=None)
    client.get(queue_url(campaign=campaign.first().campaign_id))
    more = html_lib.unescape(re.search(r'hx-get="\?([^"]+)" hx-target="#load-more"', page).group(1))
    client.get(reverse("queue", args=[ACME]) + "?" + more, headers=HTMX)
    client.get(reverse("queue-counts", args=[ACME]))
    client.get(reverse("queue-fresh", args=[ACME]), {"since": "2020-01-01T00:00:00Z", "full": "1"})
    client.get(reverse("queue-bulk-preview", args=[ACME]), {"platform": "meta"})
    assert upstream_calls(sandbox) == before


def test_load_more_walks_every_pending_action_once_in_the_chosen_order(sandbox, people, client):
    warm(client)
    sandbox.control("pending-bulk", projectId=ACME, platform="meta", count=110)
    mirror_sync(ACME, "meta")
    expected = MirrorAction.objects.pending().filter(project_id=ACME, platform="meta").count()
    assert expected > 100
    seen, url = [], queue_url(platform="meta", sort="expiring")
    page = client.get(url).content.decode()
    while True:
        seen += row_ids(page)
        found = re.search(r'hx-get="\?([^"]+)" hx-target="#load-more"', page)
        if not found:
            break
        query = html_lib.unescape(found.group(1))
        page = client.get(reverse("queue", args=[ACME]) + "?" + query, headers=HTMX)
        page = page.content.decode()
        assert "<h1>" not in page  # the next rows only
    assert len(seen) == len(set(seen)) == expected
    expiries = dict(MirrorAction.objects.filter(pk__in=seen).values_list("pk", "expires_at"))
    assert [expiries[i] for i in seen] == sorted(expiries[i] for i in seen)


def test_a_load_more_link_not_signed_here_is_refused(sandbox, people, client):
    warm(client)
    answer = client.get(queue_url(cursor="eyJrIjogIjEiLCAiaWQiOiAiIn0"), headers=HTMX)
    assert answer.status_code == 400


def test_the_queue_says_how_fresh_it_is_and_refresh_now_asks_the_engine_for_one_read(
    sandbox, people, client
):
    warm(client)
    html = client.get(queue_url()).content.decode()
    line = re.search(r'id="freshness-line">([^<]+)<', html).group(1)
    assert line.startswith("Synced") and "ago" in line or "just now" in line
    assert "Refresh now" in html
    before = upstream_calls(sandbox)
    answer = client.post(
        reverse("inbox-refresh"), {"customer": ACME, "next": queue_url()}, headers=HTMX
    )
    assert answer.status_code == 200
    assert upstream_calls(sandbox) == before  # asked for, not read in the request
    assert SyncState.objects.filter(project_id=ACME, requested_at__isnull=False).exists()
    assert "A refresh is on its way" in client.get(queue_url()).content.decode()
    tick = sync_next_tick()
    assert {(p, why) for p, _, why in tick.refreshed} >= {(ACME, "requested")}
    assert not SyncState.objects.filter(project_id=ACME, requested_at__isnull=False).exists()


def test_a_proposal_synced_after_the_page_opened_is_announced_by_the_poll_from_the_mirror(
    sandbox, people, client
):
    warm(client)
    page = client.get(queue_url(platform="meta")).content.decode()
    poll = html_lib.unescape(re.search(r'id="queue-fresh" hx-get="([^"]+)"', page).group(1))
    sandbox.control("clock", advanceSeconds=10)
    sandbox.control("pending-bulk", projectId=ACME, platform="meta", count=2)
    mirror_sync(ACME, "meta")
    before = upstream_calls(sandbox)
    answer = client.get(poll)
    assert answer.status_code == 200 and "2 new actions" in answer.content.decode()
    assert upstream_calls(sandbox) == before


def test_when_layers_stops_answering_the_queue_shows_the_last_synced_copy_under_a_banner(
    sandbox, people, client
):
    warm(client)
    shown = row_ids(client.get(queue_url()).content.decode())
    sandbox.control(
        "faults",
        faults=[{"kind": "status", "status": 503, "pathContains": "/pending", "count": 1000}],
    )
    mirror_sync(ACME, "meta")  # the engine's read fails: it backs off
    html = client.get(queue_url()).content.decode()
    assert 'id="layers-down"' in html and "Layers is not answering" in html
    assert row_ids(html) == shown


def test_changing_a_campaigns_authority_here_updates_its_rows_matrix_at_once(
    sandbox, people, client
):
    warm(client)
    action = (
        MirrorAction.objects.pending()
        .filter(project_id=ACME, entity_type="campaign", platform="meta")
        .first()
    )
    mirrored = MirrorCampaign.objects.get(project_id=ACME, campaign_id=action.campaign_id)
    axis = next(a for a in ("creative", "tactical", "structural") if mirrored.authority[a] != "off")
    login(client, "admin")
    answer = client.post(
        reverse("campaign-authority", args=[ACME, "meta", action.campaign_id]),
        {axis: "off", "idempotency_key": str(uuid.uuid4())},
    )
    assert answer.status_code in (200, 302)
    mirrored.refresh_from_db()
    assert mirrored.authority[axis] == "off"
    before = upstream_calls(sandbox)
    html = client.get(queue_url(platform="meta")).content.decode()
    start = html.index(f'id="pa-{action.pending_id}"')
    row = html[start : html.index("</article>", start)]
    assert f'{axis.capitalize()} <span class="pill axis-off">off</span>' in row
    assert upstream_calls(sandbox) == before


def test_the_history_is_read_from_layers_and_the_page_says_so(sandbox, people, client):
    warm(client)
    item_id = row_ids(client.get(queue_url(platform="meta")).content.decode())[0]
    client.post(
        reverse("queue-decide", args=[ACME, "meta", item_id]),
        {"decision": "approve", "idempotency_key": str(uuid.uuid4())},
    )
    html = client.get(queue_url(platform="meta", status="approved")).content.decode()
    assert 'id="history-source"' in html and "read from Layers" in html
    assert item_id in row_ids(html)
    assert 'id="freshness-line"' not in html
    # The decision left the pending view at once (the mirror learnt it).
    assert item_id not in row_ids(client.get(queue_url(platform="meta")).content.decode())


def test_a_project_never_synced_without_room_in_the_engines_share_is_asked_for_not_read(
    sandbox, people, client
):
    from django.utils import timezone

    from dashboard.services.sync import budget

    now = timezone.now()
    SyncRead.objects.bulk_create(  # the engine spent its share this minute
        [SyncRead(at=now, kind="sweep") for _ in range(budget.share_per_minute())]
    )
    login(client, "approver")
    before = upstream_calls(sandbox)
    html = client.get(queue_url()).content.decode()
    assert upstream_calls(sandbox) == before
    assert "Not synced yet" in html and 'id="queue-empty"' in html
    assert SyncState.objects.filter(project_id=ACME, requested_at__isnull=False).exists()


def test_a_decided_row_of_the_mirrored_queue_is_redrawn_without_a_list_read_to_find_it(
    sandbox, people, client
):
    from django.core.cache import cache

    warm(client)
    pending_id = row_ids(client.get(queue_url(platform="meta")).content.decode())[0]
    cache.clear()  # nothing remembered but the mirror
    before = sandbox.control("stats")["byRoute"]
    answer = client.post(
        reverse("queue-decide", args=[ACME, "meta", pending_id]),
        {
            "decision": "reject",
            "reason": "Needs more data first",
            "idempotency_key": str(uuid.uuid4()),
        },
        headers=HTMX,
    )
    html = answer.content.decode()
    assert answer.status_code == 200 and f'id="pa-{pending_id}"' in html  # the row, redrawn
    assert "status-rejected" in html or ">rejected<" in html
    after = sandbox.control("stats")["byRoute"]
    assert after.get("GET pending.list", 0) == before.get("GET pending.list", 0)
    assert MirrorAction.objects.get(pk=pending_id).status == "rejected"


def test_with_layers_down_a_decision_fails_with_its_sentence_and_the_row_keeps_the_typing(
    sandbox, people, client, settings
):
    from django.core.cache import cache

    warm(client)
    pending_id = row_ids(client.get(queue_url(platform="meta")).content.decode())[0]
    cache.clear()
    settings.LAYERS_API_BASE_URL = "http://127.0.0.1:9/nowhere"  # nothing listens there
    settings.LAYERS_READ_TIMEOUT = 0.5
    html = client.post(
        reverse("queue-decide", args=[ACME, "meta", pending_id]),
        {
            "decision": "reject",
            "reason": "Typed while Layers was away",
            "idempotency_key": str(uuid.uuid4()),
        },
        headers=HTMX,
    ).content.decode()
    assert f'id="pa-{pending_id}"' in html  # the row, from the mirror
    assert 'value="Typed while Layers was away"' in html and "try again" in html
    assert MirrorAction.objects.get(pk=pending_id).status == "pending"


def test_a_project_whose_lists_were_synced_but_not_its_campaigns_reads_them_once_on_first_view(
    sandbox, people, client
):
    from dashboard.services.mirror import mirror_project_detail, mirror_refresh

    for platform in mirror_project_detail(ACME):  # what the engine did before the campaigns
        mirror_refresh(ACME, platform)
    assert not MirrorCampaign.objects.filter(project_id=ACME).exists()
    login(client, "approver")
    before = sandbox.control("stats")["byRoute"]
    html = client.get(queue_url(platform="meta")).content.decode()
    after = sandbox.control("stats")["byRoute"]
    assert after.get("GET pending.list", 0) == before.get("GET pending.list", 0)  # lists kept
    assert after["GET campaigns.list"] - before.get("GET campaigns.list", 0) == 1
    assert 'class="authority-matrix"' in html
    calls = upstream_calls(sandbox)
    client.get(queue_url(platform="meta"))
    assert upstream_calls(sandbox) == calls
