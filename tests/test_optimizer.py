"""The optimizer: starting a run for a platform layer and following it to the end, with the
sandbox answering over real HTTP and its clock moved forward instead of waiting."""

import re
import uuid

from django.urls import reverse

from dashboard.models import DecisionRecord
from tests.conftest import ACME, login

HTMX = {"HX-Request": "true"}


def start(client, platform="meta", dry_run=False, key=None):
    data = {
        "platform": platform,
        "idempotency_key": key or str(uuid.uuid4()),
        **({"dry_run": "1"} if dry_run else {}),
    }
    return client.post(reverse("optimizer-start", args=[ACME]), data)


def run_url_of(response):
    assert response.status_code == 302, response.content[:500]
    location = response.headers["Location"]
    assert re.fullmatch(rf"/projects/{ACME}/optimizer/runs/run_[0-9A-Z]{{26}}/", location)
    return location


def test_a_run_is_followed_through_its_stages_until_it_completes_and_links_to_the_queue(
    sandbox, people, client
):
    login(client, "approver")
    url = run_url_of(start(client, "meta"))
    running = client.get(url).content.decode()
    assert 'id="run-state">running' in running
    assert 'hx-trigger="every 2s"' in running
    assert "Fetching 30 days of performance" in running

    sandbox.control("clock", advanceSeconds=30)
    done = client.get(url, headers=HTMX).content.decode()
    assert 'id="run-state">completed' in done
    assert "hx-trigger" not in done  # finished: the fragment stops polling
    assert 'id="run-summary"' in done
    assert re.search(r"<strong>\d+</strong> queued for approval", done)
    assert (
        f'href="/projects/{ACME}/queue/?platform=meta&amp;status=pending&amp;new_since=' in done
    )  # its proposals marked New


def test_a_dry_run_proposes_but_queues_and_applies_nothing(sandbox, people, client):
    login(client, "approver")
    url = run_url_of(start(client, "tiktok", dry_run=True))
    sandbox.control("clock", advanceSeconds=30)
    html = client.get(url).content.decode()
    assert "Dry run on TikTok" in html
    assert "A dry run: nothing was applied and nothing was queued." in html
    assert 'id="review-proposals"' not in html


def test_a_double_submitted_run_starts_one_run(sandbox, people, client):
    login(client, "approver")
    key = str(uuid.uuid4())
    first = run_url_of(start(client, "apple", key=key))
    second = run_url_of(start(client, "apple", key=key))
    assert first == second
    assert DecisionRecord.objects.filter(idempotency_key=key).count() == 1
    stats = sandbox.control("stats")
    assert (
        sum(
            n
            for route, n in stats["executedByRoute"].items()
            if "optimizer" in route and "run" in route
        )
        == 1
    )


def test_starting_while_a_run_is_going_leads_to_the_running_one(sandbox, people, client):
    login(client, "approver")
    first = run_url_of(start(client, "meta"))
    second = start(client, "meta", dry_run=True)
    assert run_url_of(second) == first


def test_the_campaigns_page_lists_the_runs_started_here(sandbox, people, client):
    login(client, "approver")
    url = run_url_of(start(client, "meta"))
    run_id = url.rstrip("/").rsplit("/", 1)[1]
    html = client.get(reverse("campaigns", args=[ACME])).content.decode()
    assert f">{run_id}</a>" in html
    assert "approver" in html


def test_a_viewer_can_watch_a_run_but_not_start_one(sandbox, people, client):
    login(client, "approver")
    url = run_url_of(start(client, "meta"))
    client.logout()
    login(client, "viewer")
    assert client.get(url).status_code == 200
    assert start(client, "meta").status_code == 403


def test_an_unknown_run_is_a_sentence(sandbox, people, client):
    login(client, "viewer")
    response = client.get(reverse("optimizer-run", args=[ACME, "run_01HZZZZZZZZZZZZZZZZZZZZZZZ"]))
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode()


def test_an_upstream_fault_when_starting_keeps_the_page_and_says_so(sandbox, people, client):
    login(client, "approver")
    sandbox.control(
        "faults",
        faults=[{"kind": "status", "status": 500, "count": 5, "pathContains": "/optimizer/run"}],
    )
    response = start(client, "meta")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).content.decode()
    assert "Nothing was changed by this attempt; you can safely try again." in html
