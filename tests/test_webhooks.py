"""The webhook receiver: signatures (HMAC-SHA256 over "t.body", 5 minutes, rotation),
dedupe by event id, storage, processing by the task worker after the answer, and real
signed deliveries from the sandbox changing the queue, the run page and the notices."""

import hashlib
import hmac
import io
import json
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from dashboard.models import Notice, WebhookEvent, WebhookSecret
from dashboard.services.webhooks import EVENTS
from tests.conftest import ACME, PASSWORD
from tests.test_bulk import run_worker

SECRET = "whsec_dashboard_current"
OLD_SECRET = "whsec_dashboard_previous"
URL = "/webhooks/layers"


def sign(body: bytes, *secrets: str, t: int | None = None) -> str:
    t = int(time.time()) if t is None else t
    macs = [
        hmac.new(s.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest() for s in secrets
    ]
    return ",".join([f"t={t}"] + [f"v1={m}" for m in macs])


def envelope(event_type="ads.write.denied", event_id=None, project_id=ACME, **data) -> dict:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:26].upper()}",
        "type": event_type,
        "apiVersion": "v1",
        "createdAt": "2026-11-29T03:00:00Z",
        "organizationId": "org_2481fa5c-a404-44ed-a561-565392499abc",
        "projectId": project_id,
        "data": data
        or {
            "verdictId": "ver_01TEST",
            "reason": "authority_axis_off",
            "axis": "tactical",
            "platform": "meta",
            "entityType": "campaign",
            "entityId": "cmp_01TEST",
            "requestedChange": {"dailyBudgetCents": 9000},
            "actorType": "partner",
        },
    }


def deliver(
    client,
    event: dict,
    *secrets: str,
    t=None,
    body: bytes | None = None,
    signature: str | None = None,
):
    raw = json.dumps(event).encode()
    header = signature if signature is not None else sign(raw, *(secrets or (SECRET,)), t=t)
    return client.post(
        URL,
        data=body if body is not None else raw,
        content_type="application/json",
        headers={
            "X-Layers-Signature": header,
            "X-Layers-Event-Id": event["id"],
            "X-Layers-Event-Type": event["type"],
        },
    )


@pytest.fixture
def secret(settings):
    settings.LAYERS_WEBHOOK_SECRET = SECRET
    return SECRET


# --- signatures ------------------------------------------------------------------------


def test_a_good_signature_is_accepted_stored_and_processed_by_the_worker(
    transactional_db, client, secret
):
    event = envelope()
    response = deliver(client, event)
    assert response.status_code == 200
    stored = WebhookEvent.objects.get(event_id=event["id"])
    assert stored.event_type == "ads.write.denied" and stored.project_id == ACME
    assert stored.payload == event
    assert stored.processed_at is None and Notice.objects.count() == 0  # not in the request
    run_worker()
    stored.refresh_from_db()
    assert stored.processed_at is not None and stored.outcome == "processed"
    notice = Notice.objects.get(event_id=event["id"])
    assert notice.kind == "denied" and notice.link == reverse("verdict", args=[ACME, "ver_01TEST"])
    assert "tactical authority was off" in notice.sentence


def test_a_signature_made_with_another_secret_is_refused_and_nothing_is_stored(
    transactional_db, client, secret
):
    response = deliver(client, envelope(), "whsec_someone_else")
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0 and Notice.objects.count() == 0


def test_a_tampered_body_is_refused(transactional_db, client, secret):
    event = envelope()
    raw = json.dumps(event).encode()
    tampered = raw.replace(b"authority_axis_off", b"kill_switch_active")
    response = deliver(client, event, body=tampered, signature=sign(raw, SECRET))
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


# Just past the 5 minutes either way, and far past. A future stamp is checked a moment after
# it is made (the whole second dropped, then the request), so it is 310 s ahead, not 301: at
# 301 a busy machine's check once saw it 299.9 s ahead and let it in.
@pytest.mark.parametrize("skew", [-301, 310, -3600, 86400])
def test_a_stale_or_future_timestamp_is_refused(transactional_db, client, secret, skew):
    response = deliver(client, envelope(), t=int(time.time()) + skew)
    assert response.status_code == 401
    assert "5 minutes" in response.json()["error"]
    assert WebhookEvent.objects.count() == 0


def test_a_timestamp_a_little_off_either_way_is_accepted(transactional_db, client, secret):
    assert deliver(client, envelope(), t=int(time.time()) - 290).status_code == 200
    assert deliver(client, envelope(), t=int(time.time()) + 290).status_code == 200
    assert WebhookEvent.objects.count() == 2


def test_a_missing_or_malformed_signature_header_is_a_bad_request(transactional_db, client, secret):
    assert deliver(client, envelope(), signature="").status_code == 400
    assert deliver(client, envelope(), signature="t=abc,v1=00").status_code == 400
    assert deliver(client, envelope(), signature=f"t={int(time.time())}").status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_without_any_secret_configured_every_delivery_is_refused(
    transactional_db, client, settings
):
    settings.LAYERS_WEBHOOK_SECRET = ""
    assert deliver(client, envelope()).status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_a_replayed_event_id_is_answered_ok_but_stored_and_acted_on_once(
    transactional_db, client, secret
):
    event = envelope()
    first, second = deliver(client, event), deliver(client, event)
    assert first.status_code == 200 and second.status_code == 200
    assert second.json()["duplicate"] is True
    run_worker()
    assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1
    assert Notice.objects.filter(event_id=event["id"]).count() == 1


def test_during_a_rotation_a_header_with_two_v1_values_passes_with_either_secret(
    transactional_db, client, settings
):
    settings.LAYERS_WEBHOOK_SECRET = SECRET  # we already switched to the new secret
    assert deliver(client, envelope(), OLD_SECRET, SECRET).status_code == 200
    settings.LAYERS_WEBHOOK_SECRET = OLD_SECRET  # we have not switched yet
    assert deliver(client, envelope(), OLD_SECRET, SECRET).status_code == 200
    settings.LAYERS_WEBHOOK_SECRET = f"{SECRET}, {OLD_SECRET}"  # we accept both meanwhile
    assert deliver(client, envelope(), OLD_SECRET).status_code == 200
    assert deliver(client, envelope(), "whsec_neither", "whsec_nor").status_code == 401
    assert WebhookEvent.objects.count() == 3


def test_a_secret_stored_by_the_register_command_is_accepted_too(
    transactional_db, client, settings
):
    settings.LAYERS_WEBHOOK_SECRET = ""
    WebhookSecret.objects.create(
        url="https://dash.example/webhooks/layers", secret="whsec_registered"
    )
    assert deliver(client, envelope(), "whsec_registered").status_code == 200


def test_an_unknown_event_type_is_stored_and_marked_ignored_never_an_error(
    transactional_db, client, secret
):
    event = envelope("ads.something.new", fooBar=1)
    assert deliver(client, event).status_code == 200
    run_worker()
    stored = WebhookEvent.objects.get(event_id=event["id"])
    assert stored.outcome == "ignored" and stored.processed_at is not None and stored.error == ""
    assert Notice.objects.count() == 0


def test_processing_is_idempotent_and_the_process_command_picks_up_what_was_left(
    transactional_db, secret
):
    from dashboard.services.webhooks import webhook_event_process

    event = envelope(
        "ads.optimizer.run.completed",
        runId="run_01LEFT",
        jobId="job_01LEFT",
        platform="meta",
        dryRun=False,
        summary={"proposed": 4, "queued": 3, "dispatched": 1, "skipped": 0},
        changes=[],
    )
    WebhookEvent.objects.create(
        event_id=event["id"], event_type=event["type"], project_id=ACME, payload=event
    )
    call_command("webhooks_process")
    stored = WebhookEvent.objects.get(event_id=event["id"])
    assert stored.outcome == "processed"
    assert webhook_event_process(event["id"]) == "processed"  # again: nothing more happens
    [notice] = Notice.objects.filter(event_id=event["id"])
    assert (
        notice.sentence
        == "Optimizer run finished on Meta: 3 proposals to review, 1 applied directly."
    )
    assert notice.link == reverse("queue", args=[ACME]) + "?platform=meta"
    assert notice.second_link == f"/projects/{ACME}/optimizer/runs/run_01LEFT/"


# --- registering -----------------------------------------------------------------------


def test_registering_says_clearly_when_the_api_has_no_webhook_endpoints(sandbox, transactional_db):
    # The sandbox has the route; a 404 on it stands in for an API that does not.
    sandbox.control(
        "faults",
        faults=[{"kind": "status", "status": 404, "pathContains": "/v1/webhook-endpoints"}],
    )
    with pytest.raises(CommandError) as refused:
        call_command("webhooks_register", "--url", "https://dash.example/webhooks/layers")
    assert "Layers refused to register the webhook endpoint" in str(refused.value)
    assert "does not offer webhook endpoints" in str(refused.value)
    assert WebhookSecret.objects.count() == 0


def test_registering_with_the_sandbox_stores_the_secret_and_its_test_ping_is_accepted(
    sandbox, transactional_db, live_server, settings
):
    settings.LAYERS_WEBHOOK_SECRET = ""  # only the secret the command stores can verify
    sandbox.control("tick")  # settle the seeded story first
    sandbox.control("webhooks", url=None, autoDeliver=False)
    port = urlsplit(live_server.url).port
    receiver = f"http://127.0.0.1:{port}{URL}"
    out = io.StringIO()
    call_command("webhooks_register", "--url", receiver, stdout=out)
    [stored] = WebhookSecret.objects.all()
    assert stored.url == receiver and stored.secret.startswith("whsec_") and stored.endpoint_id
    assert f"endpoint {stored.endpoint_id}" in out.getvalue()
    endpoint = sandbox.api("GET", f"/v1/webhook-endpoints/{stored.endpoint_id}").json()
    assert endpoint["url"] == receiver and endpoint["events"] == list(EVENTS)

    ping = sandbox.api("POST", f"/v1/webhook-endpoints/{stored.endpoint_id}/test")
    assert ping.status_code == 202, ping.text
    assert sandbox.control("tick")["webhooks"]["delivered"] == 1
    run_worker()
    event = WebhookEvent.objects.get(event_id=ping.json()["eventId"])
    assert event.event_type == "test.ping" and event.outcome == "processed"
    assert event.payload["data"]["endpointId"] == stored.endpoint_id


@pytest.mark.parametrize(
    "url", ["http://dash.example/webhooks/layers", "http://localhost.evil.example/webhooks/layers"]
)
def test_registering_refuses_a_plain_http_url(transactional_db, url):
    with pytest.raises(CommandError, match="must be https"):
        call_command("webhooks_register", "--url", url)


# --- real deliveries from the sandbox ----------------------------------------------------


def listen(sandbox, live_server, settings):
    settings.LAYERS_WEBHOOK_SECRET = SECRET
    sandbox.control("tick")  # settle the seeded story before listening
    sandbox.control(
        "webhooks",
        url=live_server.url + URL,
        secret=SECRET,
        previousSecret=OLD_SECRET,
        autoDeliver=False,
    )


def pending_items(sandbox, platform, status="pending"):
    response = sandbox.api(
        "GET", f"/v1/projects/{ACME}/ads/{platform}/pending", params={"status": status}
    )
    return response.json()["items"]


def campaign_id(sandbox, name):
    items = sandbox.api("GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}).json()[
        "items"
    ]
    return next(c["campaignId"] for c in items if c["name"] == name)


def approve(client, platform, pending_id):
    response = client.post(
        reverse("queue-decide", args=[ACME, platform, pending_id]),
        {"decision": "approve", "comment": "Go", "idempotency_key": str(uuid.uuid4())},
        headers={"HX-Request": "true"},
    )
    html = (
        response.content.decode()
    )  # the row again when the queue rendered it before, else a sentence
    assert response.status_code == 200 and ("status-approved" in html or "Approved." in html)


def test_signed_deliveries_from_the_sandbox_update_the_queue_and_raise_notices(
    sandbox, people, client, live_server, settings
):
    listen(sandbox, live_server, settings)
    assert client.login(username="approver", password=PASSWORD)
    meta = pending_items(sandbox, "meta")[0]
    refusing = campaign_id(sandbox, "Launch: Oat Milk Latte")  # the platform refuses its changes
    oat_milk = next(
        i
        for i in pending_items(sandbox, "tiktok")
        if refusing in (i["entityId"], i["proposedAction"].get("detail", {}).get("campaignId"))
    )
    # The queue is read (and cached) before anything happens.
    dispatched_url = reverse("queue", args=[ACME]) + "?platform=meta&status=dispatched"
    assert f'id="pa-{meta["pendingId"]}"' not in client.get(dispatched_url).content.decode()
    approve(client, "meta", meta["pendingId"])
    approve(client, "tiktok", oat_milk["pendingId"])
    client.get(dispatched_url)  # cached again, before the dispatch

    ticked = sandbox.control("tick")
    assert ticked["webhooks"]["delivered"] >= 2, ticked
    run_worker()

    events = {
        e.payload["data"]["pendingId"]: e
        for e in WebhookEvent.objects.filter(event_type="approval.dispatched")
    }
    assert events[meta["pendingId"]].outcome == "processed"
    html = client.get(dispatched_url).content.decode()
    assert f'id="pa-{meta["pendingId"]}"' in html  # the cached list was dropped by the webhook
    failed_html = client.get(
        reverse("queue", args=[ACME]) + "?platform=tiktok&status=dispatch_failed"
    ).content.decode()
    assert f'id="pa-{oat_milk["pendingId"]}"' in failed_html and "refused the change" in failed_html

    [failure] = Notice.objects.filter(kind="dispatch_failed")
    assert "could not be applied" in failure.sentence and "TikTok" in failure.sentence
    assert failure.link.endswith(f"status=dispatch_failed#pa-{oat_milk['pendingId']}")
    page = client.get(reverse("notices")).content.decode()
    assert failure.sentence.replace("'", "&#x27;") in page


def test_a_denied_write_and_a_finished_run_arrive_as_notices_linking_to_verdict_and_run(
    sandbox, people, client, live_server, settings
):
    listen(sandbox, live_server, settings)
    assert client.login(username="approver", password=PASSWORD)
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"tactical": "off"})
    cold_brew = campaign_id(sandbox, "Q3 Prospecting — Cold Brew")
    denied = sandbox.api(
        "PATCH",
        f"/v1/projects/{ACME}/ads/meta/campaigns/{cold_brew}/budget",
        json={"dailyBudgetCents": 9000},
    )
    verdict_id = denied.json()["error"]["details"]["verdictId"]
    layer = sandbox.api("GET", f"/v1/projects/{ACME}/ads/meta/defaults").json()["layerId"]
    run = sandbox.api(
        "POST",
        f"/v1/projects/{ACME}/ads/optimizer/run",
        json={"layerId": layer, "platform": "meta_ads"},
    ).json()
    badge_before = client.get(reverse("notices-count")).content.decode()

    sandbox.control("clock", advanceSeconds=30)
    sandbox.control("tick")
    run_worker()

    denial = Notice.objects.get(kind="denied")
    assert denial.link == reverse("verdict", args=[ACME, verdict_id])
    assert "tactical authority was off" in denial.sentence
    finished = Notice.objects.get(kind="run_completed")
    assert finished.sentence.startswith("Optimizer run finished on Meta:")
    assert finished.second_link == reverse("optimizer-run", args=[ACME, run["runId"]])
    assert client.get(finished.second_link).status_code == 200
    badge_after = client.get(reverse("notices-count")).content.decode()
    assert "badge-empty" in badge_before
    assert '>2<span class="visually-hidden"> need attention' in badge_after
    # Reading them clears the count.
    client.post(reverse("notices-read"))
    assert "badge-empty" in client.get(reverse("notices-count")).content.decode()


def test_the_outsider_sees_no_notices_of_a_project_they_cannot_see(
    sandbox, people, client, live_server, settings
):
    listen(sandbox, live_server, settings)
    Notice.objects.create(project_id=ACME, kind="denied", sentence="Acme only", link="/")
    assert client.login(username="outsider", password=PASSWORD)
    assert "Acme only" not in client.get(reverse("notices")).content.decode()
    assert client.login(username="viewer", password=PASSWORD)
    assert "Acme only" in client.get(reverse("notices")).content.decode()


def test_once_the_mirror_has_discovered_the_customers_notices_name_them_from_it(
    sandbox, people, client
):
    from dashboard.models import MirrorProject
    from dashboard.services.mirror import mirror_projects_refresh

    mirror_projects_refresh(details=False)
    MirrorProject.objects.filter(project_id=ACME).update(name="Acme (as the mirror has it)")
    Notice.objects.create(project_id=ACME, kind="denied", sentence="Acme only", link="/")
    assert client.login(username="viewer", password=PASSWORD)
    html = client.get(reverse("notices")).content.decode()
    assert "Acme only" in html and "Acme (as the mirror has it)" in html


# --- replay (issue 14, finding 6) and malformed signatures (finding 7) ---------------------------


def post_signed(client, raw: bytes, *, event_id: str | None):
    headers = {"X-Layers-Signature": sign(raw, SECRET), "X-Layers-Event-Type": "job.completed"}
    if event_id is not None:
        headers["X-Layers-Event-Id"] = event_id
    return client.post(URL, data=raw, content_type="application/json", headers=headers)


def test_one_captured_signed_body_re_posted_with_three_header_ids_is_processed_once(
    transactional_db, client, secret
):
    event = envelope()
    raw = json.dumps(event).encode()  # captured once, signature and all
    answers = [
        post_signed(client, raw, event_id=event["id"]),
        post_signed(client, raw, event_id="evt_REPLAYED00000000000000001"),
        post_signed(client, raw, event_id="evt_REPLAYED00000000000000002"),
        post_signed(client, raw, event_id=None),
    ]
    assert [a.status_code for a in answers] == [200, 400, 400, 200]
    assert answers[1].json()["error"] == (
        "the X-Layers-Event-Id header does not match the signed body's event id"
    )
    assert answers[3].json()["duplicate"] is True
    run_worker()
    assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == [event["id"]]
    assert Notice.objects.count() == 1


def test_the_event_type_is_read_from_the_signed_body_never_from_the_header(
    transactional_db, client, secret
):
    event = envelope()  # ads.write.denied in the body; the header says job.completed
    assert post_signed(client, json.dumps(event).encode(), event_id=event["id"]).status_code == 200
    assert WebhookEvent.objects.get().event_type == "ads.write.denied"


def test_a_signed_body_without_an_event_id_is_a_bad_request(transactional_db, client, secret):
    event = envelope()
    del event["id"]
    response = post_signed(
        client, json.dumps(event).encode(), event_id="evt_FROMTHEHEADER00000000001"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "the signed body has no event id"
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    "header", ["t=1700000000,v1=é", "t=١٧٠٠٠٠٠٠٠٠,v1=00", "t=1700000000,v1=00\u2028", "ü"]
)
def test_a_signature_header_with_a_non_ascii_character_is_a_bad_request(
    transactional_db, client, secret, header
):
    response = deliver(client, envelope(), signature=header)
    assert response.status_code == 400
    assert response.json()["error"] == "the signature header is missing or malformed"
