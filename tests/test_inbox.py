"""/inbox/: every pending action across the customers a person may see, from the mirror.

The mirror is filled the way the sync engine fills it (mirror_projects_refresh and
mirror_refresh, over HTTP from the sandbox); the pages then read only the mirror, which
the sandbox's call counter proves."""

import re
import uuid
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.models import BulkDecision
from dashboard.models.mirror import MirrorAction, SyncState
from tests.conftest import (
    ACME,
    BRIGHTSIDE,
    CUSTOMERS,
    NORDLICHT,
    PASSWORD,
    mirror_fill,
    upstream_calls,
)
from tests.test_hostile_text import CORPUS, LONG, RAW_MARKERS

HTMX = {"HX-Request": "true"}


def signed_in(client, username="manager"):
    assert client.login(username=username, password=PASSWORD)
    return client


def line_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="ix-([^"]+)" class="ix', html)


def pending(**filters):
    return MirrorAction.objects.pending().filter(**filters)


def test_the_inbox_lists_every_pending_action_of_the_customers_a_person_may_see(mirrored, client):
    html = signed_in(client).get(reverse("inbox")).content.decode()
    total = pending(project_id__in=CUSTOMERS).count()
    assert total > 0
    assert f"of {total} pending" in html
    assert len(line_ids(html)) == min(total, 50)
    assert {a.project_id for a in pending(pending_id__in=line_ids(html))} == set(CUSTOMERS)


def test_a_person_sees_only_the_customers_they_were_given(mirrored, client):
    html = signed_in(client, "outsider").get(reverse("inbox")).content.decode()
    ids = line_ids(html)
    assert ids
    assert set(pending(pending_id__in=ids).values_list("project_id", flat=True)) == {NORDLICHT}
    assert f"of {pending(project_id=NORDLICHT).count()} pending" in html
    assert "Acme" not in html


def test_a_detail_of_someone_elses_customer_is_refused(mirrored, client):
    action = pending(project_id=ACME).first()
    url = reverse("inbox-detail", args=[ACME, action.platform, action.pending_id])
    assert signed_in(client, "outsider").get(url).status_code == 403


def test_reading_the_inbox_its_details_and_its_poll_asks_nothing_of_layers(mirrored, client):
    signed_in(client)
    action = pending(project_id=ACME).first()
    before = upstream_calls(mirrored)
    client.get(reverse("inbox"))
    client.get(reverse("inbox"), {"customer": NORDLICHT, "sort": "spend", "page": "2"})
    client.get(reverse("inbox-detail", args=[ACME, action.platform, action.pending_id]))
    client.get(
        reverse("inbox-detail", args=[ACME, action.platform, action.pending_id]), headers=HTMX
    )
    client.get(reverse("inbox-fresh"), {"after": timezone.now().isoformat()})
    assert upstream_calls(mirrored) == before


@pytest.mark.parametrize(
    "query, check",
    [
        ({"customer": NORDLICHT}, lambda a: a.project_id == NORDLICHT),
        ({"platform": "tiktok"}, lambda a: a.platform == "tiktok"),
        ({"action": "update_budget"}, lambda a: a.action_type == "update_budget"),
        ({"axis": "structural"}, lambda a: a.axis == "structural"),
        (
            {"expiring": "1"},
            lambda a: a.expires_at <= timezone.now() + timedelta(hours=24),
        ),
    ],
)
def test_each_filter_narrows_the_lines_to_the_matching_actions(mirrored, client, query, check):
    if "expiring" in query:  # two of Acme's actions are made to expire within the day
        soon = timezone.now() + timedelta(hours=3)
        ids = list(pending(project_id=ACME).values_list("pk", flat=True)[:2])
        MirrorAction.objects.filter(pk__in=ids).update(expires_at=soon)
    html = signed_in(client).get(reverse("inbox"), query).content.decode()
    ids = line_ids(html)
    assert ids
    assert all(check(a) for a in pending(pending_id__in=ids))
    matching = [a for a in pending(project_id__in=CUSTOMERS) if check(a)]
    assert f"of {len(matching)} pending" in html


def test_the_inbox_sorts_by_expiry_by_default_and_by_spend_or_newest_on_request(mirrored, client):
    signed_in(client)

    def order(sort=None):
        query = {"sort": sort} if sort else {}
        ids = line_ids(client.get(reverse("inbox"), query).content.decode())
        by_id = {a.pending_id: a for a in pending(pending_id__in=ids)}
        return [by_id[i] for i in ids]

    expiring = [a.expires_at for a in order()]
    assert expiring == sorted(expiring)
    newest = [a.created_at for a in order("newest")]
    assert newest == sorted(newest, reverse=True)
    stakes = [abs(a.spend_change_minor or 0) for a in order("spend")]
    assert stakes == sorted(stakes, reverse=True) and stakes[0] > 0


def test_the_inbox_is_paged_fifty_lines_at_a_time_without_overlap(mirrored, client):
    mirrored.control("pending-bulk", projectId=ACME, platform="apple", count=60)
    from dashboard.services.mirror import mirror_refresh

    mirror_refresh(ACME, "apple")
    signed_in(client)
    total = pending(project_id__in=CUSTOMERS).count()
    first = line_ids(client.get(reverse("inbox")).content.decode())
    second_html = client.get(reverse("inbox"), {"page": "2"}).content.decode()
    second = line_ids(second_html)
    assert len(first) == 50 and len(second) == min(50, total - 50)
    assert not set(first) & set(second)
    assert f"51–{50 + len(second)} of {total} pending" in second_html
    assert 'rel="prev"' in second_html


def test_approving_from_the_inbox_without_javascript_decides_it_and_the_mirror_follows(
    mirrored, client
):
    action = pending(project_id=ACME, platform="meta").order_by("pending_id").first()
    url = reverse("inbox-decide", args=[ACME, "meta", action.pending_id])
    response = signed_in(client).post(
        url,
        {"decision": "approve", "comment": "Fine by me", "idempotency_key": str(uuid.uuid4())},
    )
    assert response.status_code == 302 and response.headers["Location"] == reverse("inbox")
    assert MirrorAction.objects.get(pk=action.pk).status == "approved"
    html = client.get(reverse("inbox")).content.decode()
    assert action.pending_id not in line_ids(html)
    upstream = mirrored.api(
        "GET",
        f"/v1/projects/{ACME}/ads/meta/pending",
        params={
            "status": "approved",
            "limit": 200,
        },
    ).json()["items"]
    assert action.pending_id in {a["pendingId"] for a in upstream}


def test_rejecting_in_place_answers_with_the_decided_row_and_a_missing_reason_keeps_it(
    mirrored, client
):
    action = pending(project_id=NORDLICHT).first()
    url = reverse("inbox-decide", args=[NORDLICHT, action.platform, action.pending_id])
    signed_in(client)
    key = str(uuid.uuid4())
    refused = client.post(url, {"decision": "reject", "idempotency_key": key}, headers=HTMX)
    assert "Say why you are rejecting it" in refused.content.decode()
    assert MirrorAction.objects.get(pk=action.pk).status == "pending"
    done = client.post(
        url,
        {"decision": "reject", "reason": "Not now", "idempotency_key": key},
        headers=HTMX,
    )
    html = done.content.decode()
    assert "status-rejected" in html and "Rejected." in html
    assert "inbox-changed" in done.headers.get("HX-Trigger", "")
    assert MirrorAction.objects.get(pk=action.pk).status == "rejected"


def test_the_detail_opens_with_the_rationale_and_forms_that_post_to_the_inbox(mirrored, client):
    action = pending(project_id=ACME).exclude(rationale="").first()
    url = reverse("inbox-detail", args=[ACME, action.platform, action.pending_id])
    fragment = signed_in(client).get(url, headers=HTMX).content.decode()
    assert fragment.startswith('<tr class="ix-detail"')
    decide = reverse("inbox-decide", args=[ACME, action.platform, action.pending_id])
    assert f'action="{decide}"' in fragment
    page = client.get(url).content.decode()  # without JavaScript: a page of its own
    assert "Back to the inbox" in page and f'action="{decide}"' in page


def test_a_viewer_sees_lines_without_boxes_and_may_not_decide(mirrored, client):
    html = signed_in(client, "viewer").get(reverse("inbox")).content.decode()
    assert line_ids(html) and 'class="select"' not in html and 'id="bulk-form"' not in html
    action = pending(project_id=ACME).first()
    url = reverse("inbox-decide", args=[ACME, action.platform, action.pending_id])
    response = client.post(url, {"decision": "approve", "idempotency_key": str(uuid.uuid4())})
    assert response.status_code == 403


def test_select_all_shows_how_many_match_the_cap_and_the_daily_spend_before_sending(
    mirrored, client
):
    html = signed_in(client).get(reverse("inbox"), {"customer": ACME}).content.decode()
    count = pending(project_id=ACME).count()
    assert f'<strong id="select-all-count">{count}</strong>' in html
    assert "at most 2000 at once" in html
    spend = sum(a.spend_change_minor or 0 for a in pending(project_id=ACME))
    if spend:
        assert 'id="select-all-spend"' in html


def test_select_all_over_the_cap_takes_as_many_as_the_cap_allows_the_expiring_soonest(
    mirrored, client, settings
):
    settings.BULK_MAX_ITEMS = 40  # the cap (2,000 by default), small enough to seed past fast
    mirrored.control("pending-bulk", projectId=NORDLICHT, platform="meta", count=60)
    from dashboard.services.mirror import mirror_refresh

    mirror_refresh(NORDLICHT, "meta")
    signed_in(client)
    html = client.get(reverse("inbox"), {"customer": NORDLICHT}).content.decode()
    assert 'id="select-all-cap"' in html
    key = str(uuid.uuid4())
    response = client.post(
        reverse("inbox-bulk-start"),
        {"decision": "approve", "select_all": "1", "customer": NORDLICHT, "bulk_key": key},
    )
    bulk = BulkDecision.objects.get(project_id=NORDLICHT)
    assert response.headers["Location"] == reverse("queue-bulk", args=[NORDLICHT, bulk.id])
    assert bulk.items.count() == 40
    taken = set(bulk.items.values_list("pending_id", flat=True))
    left = pending(project_id=NORDLICHT).exclude(pending_id__in=taken)
    assert left.count() >= 20
    latest_taken = max(
        pending(project_id=NORDLICHT)
        .filter(pending_id__in=taken)
        .values_list("expires_at", flat=True)
    )
    assert all(latest_taken <= e for e in left.values_list("expires_at", flat=True))


def test_a_bulk_across_three_customers_starts_one_per_customer_and_once_per_form(mirrored, client):
    chosen = [pending(project_id=p).first() for p in CUSTOMERS]
    selected = [f"{a.project_id}:{a.platform}:{a.pending_id}" for a in chosen]
    key = str(uuid.uuid4())
    data = {"decision": "reject", "text": "Not this week", "selected": selected, "bulk_key": key}
    signed_in(client)
    first = client.post(reverse("inbox-bulk-start"), data)
    again = client.post(reverse("inbox-bulk-start"), data)
    progress = reverse("inbox-bulk", args=[key])
    assert first.headers["Location"] == again.headers["Location"] == progress
    assert BulkDecision.objects.count() == 3
    page = client.get(first.headers["Location"]).content.decode()
    assert page.count(" of 1 ·") == 3


def test_a_bulk_on_a_customer_where_the_person_only_reads_is_refused(mirrored, client):
    action = pending(project_id=ACME).first()
    signed_in(client, "viewer")
    response = client.post(
        reverse("inbox-bulk-start"),
        {
            "decision": "approve",
            "selected": [f"{ACME}:{action.platform}:{action.pending_id}"],
            "bulk_key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 403 and not BulkDecision.objects.exists()


def poll_start(html: str) -> str:
    """The instant the inbox's live poll counts arrivals from, as the page gives it."""
    found = re.search(r'hx-get="[^"]*/inbox/fresh\?after=([^&"]+)', html)
    assert found, "the inbox has no live poll"
    return unquote(found.group(1))


def test_the_live_poll_counts_actions_that_reached_the_mirror_since_the_page(mirrored, client):
    signed_in(client)
    after = poll_start(client.get(reverse("inbox")).content.decode())
    quiet = client.get(reverse("inbox-fresh"), {"after": after})
    assert "new action" not in quiet.content.decode()
    mirrored.control("pending-bulk", projectId=BRIGHTSIDE, platform="meta", count=3)
    from dashboard.services.mirror import mirror_refresh

    mirror_refresh(BRIGHTSIDE, "meta")
    news = client.get(reverse("inbox-fresh"), {"after": after}).content.decode()
    assert "3 new actions" in news


def test_the_live_poll_announces_an_action_created_before_the_page_opened_but_synced_after(
    mirrored, client
):
    from dashboard.services.mirror import mirror_refresh

    # Three proposals for Brightside, which the sync has not read yet...
    mirrored.control("pending-bulk", projectId=BRIGHTSIDE, platform="meta", count=3)
    late = set(pending_ids_upstream(mirrored, BRIGHTSIDE, "meta")) - set(
        pending(project_id=BRIGHTSIDE, platform="meta").values_list("pk", flat=True)
    )
    assert len(late) == 3
    # ...then, two minutes later upstream, one for Nordlicht, which the sync reads at once.
    mirrored.control("clock", advanceSeconds=120)
    mirrored.control("pending-bulk", projectId=NORDLICHT, platform="meta", count=1)
    mirror_refresh(NORDLICHT, "meta")
    signed_in(client)
    after = poll_start(client.get(reverse("inbox")).content.decode())
    mirror_refresh(BRIGHTSIDE, "meta")  # Brightside's list is read after the page opened
    newest_before = pending(project_id=NORDLICHT).order_by("-created_at").first().created_at
    assert all(a.created_at < newest_before for a in pending(pending_id__in=late))
    news = client.get(reverse("inbox-fresh"), {"after": after}).content.decode()
    assert "3 new actions" in news
    # "Show them" lists the latest to arrive first, marked New.
    link = re.search(r'<a href="\?([^"]*new_since=[^"]*)">Show them', news).group(1)
    shown = client.get(reverse("inbox") + "?" + link.replace("&amp;", "&")).content.decode()
    rows = re.findall(r'<tr id="ix-([^"]+)"(.*?)</tr>', shown, re.S)
    assert {pending_id for pending_id, _ in rows[:3]} == late
    assert [">New</span>" in row for _, row in rows].count(True) == 3


def pending_ids_upstream(sandbox, project_id, platform) -> list[str]:
    response = sandbox.api(
        "GET",
        f"/v1/projects/{project_id}/ads/{platform}/pending",
        params={"status": "pending", "limit": 200},
    )
    return [item["pendingId"] for item in response.json()["items"]]


def test_with_layers_down_the_inbox_shows_the_last_rows_under_a_banner_and_a_decision_keeps_the_typing(  # noqa: E501 - the name is the test's sentence
    mirrored, client, settings
):
    from dashboard.layers import LayersError
    from dashboard.services.mirror import mirror_refresh

    settings.LAYERS_API_BASE_URL = "http://127.0.0.1:9/nowhere"  # nothing listens there
    with pytest.raises(LayersError):
        mirror_refresh(ACME, "meta")
    signed_in(client)
    html = client.get(reverse("inbox")).content.decode()
    assert 'id="layers-down"' in html and "Layers is not answering" in html
    assert line_ids(html)
    action = pending(project_id=ACME, platform="meta").first()
    url = reverse("inbox-decide", args=[ACME, "meta", action.pending_id])
    key = str(uuid.uuid4())
    response = client.post(
        url, {"decision": "reject", "reason": "Keep these words", "idempotency_key": key}
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert "Keep these words" in page and key in page
    assert "What you typed is kept" in page
    assert MirrorAction.objects.get(pk=action.pk).status == "pending"


def test_when_several_lists_fail_the_banner_names_the_latest_failure_on_the_inbox_and_the_queue(
    mirrored, client
):
    now = timezone.now()
    for platform, error, at in (
        ("meta", "The oldest failure.", now - timedelta(minutes=9)),
        ("tiktok", "The latest failure.", now - timedelta(minutes=1)),
        ("apple", "A failure with no time.", None),
    ):
        SyncState.objects.filter(project_id=ACME, platform=platform).update(
            consecutive_errors=2, last_error=error, last_error_at=at
        )
    signed_in(client)
    for url in (reverse("inbox"), reverse("queue", args=[ACME])):
        html = client.get(url).content.decode()
        assert "The latest failure." in html, url
        assert "The oldest failure." not in html and "A failure with no time." not in html


def test_hostile_text_from_layers_is_escaped_in_the_lines_and_the_detail(
    sandbox, people, manager, client
):
    sandbox.control("hostile", projectId=ACME, texts=CORPUS, longText=LONG)
    mirror_fill()
    signed_in(client)
    action = pending(project_id=ACME).first()
    for url, headers in (
        (reverse("inbox"), {}),
        (reverse("inbox"), {"customer": ACME}),
        (reverse("inbox-detail", args=[ACME, action.platform, action.pending_id]), HTMX),
        (reverse("home"), {}),
    ):
        html = client.get(url, headers=headers).content.decode()
        for marker in RAW_MARKERS:
            assert marker not in html, f"{url}: {marker!r} came through unescaped"
        assert 'href="javascript:' not in html.lower()


def test_the_projects_page_puts_the_customer_with_the_most_expiring_first(mirrored, client):
    soon = timezone.now() + timedelta(hours=2)
    ids = list(pending(project_id=BRIGHTSIDE).values_list("pk", flat=True)[:2])
    MirrorAction.objects.filter(pk__in=ids).update(expires_at=soon)
    html = signed_in(client).get(reverse("home")).content.decode()
    cards = re.findall(
        r'<li class="card project-line[^"]*" id="project-([^"]+)">(.*?)</li>', html, re.S
    )
    assert [project_id for project_id, _ in cards][0] == BRIGHTSIDE
    assert len(cards) == 3
    first = cards[0][1]
    assert f">{pending(project_id=BRIGHTSIDE).count()} pending</a>" in first
    expiring = pending(project_id=BRIGHTSIDE, expires_at__lte=timezone.now() + timedelta(hours=24))
    assert expiring.count() >= 2  # the two moved here, and any the demo seeds already close
    assert f">{expiring.count()} expire within 24 h</a>" in first
    assert "Synced" in html and "Refresh now" in html


def test_refresh_now_asks_the_sync_engine_for_that_customer(mirrored, client):
    signed_in(client)
    response = client.post(reverse("inbox-refresh"), {"customer": NORDLICHT, "next": "/inbox/"})
    assert response.status_code == 302
    requested = SyncState.objects.filter(requested_at__isnull=False)
    assert set(requested.values_list("project_id", flat=True)) == {NORDLICHT}


def test_the_inbox_says_not_synced_yet_before_the_first_pass(sandbox, manager, client):
    html = signed_in(client).get(reverse("inbox")).content.decode()
    assert "Not synced yet" in html and not line_ids(html)


def test_two_people_deciding_one_action_from_the_inbox_the_second_is_told_who_won(
    mirrored, people, client
):
    from django.test import Client

    action = pending(project_id=ACME, platform="meta").first()
    url = reverse("inbox-decide", args=[ACME, "meta", action.pending_id])
    first = signed_in(client)
    first.post(url, {"decision": "approve", "idempotency_key": str(uuid.uuid4())}, headers=HTMX)
    second = signed_in(Client(), "approver")
    answer = second.post(
        url,
        {"decision": "reject", "reason": "Too late?", "idempotency_key": str(uuid.uuid4())},
        headers=HTMX,
    ).content.decode()
    assert "Someone else decided first: this action is already approved by manager" in answer
    assert "Too late?" in answer
    assert MirrorAction.objects.get(pk=action.pk).status == "approved"
