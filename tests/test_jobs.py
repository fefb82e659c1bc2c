"""Issue 14, finding 3: `GET /v1/jobs/:id` is not scoped to a project, so the dashboard keeps
job → project in its database and a job page answers only under the project that started
the job (not only while a cache entry lasts)."""

import re

from django.core.cache import cache
from django.urls import reverse

from dashboard.models import LayersJob
from dashboard.services.jobs import job_remember
from tests.conftest import ACME, NORDLICHT
from tests.test_campaigns import campaign, grant, login, write


def budget_job(sandbox, client, amount="65"):
    c = campaign(sandbox, "Retargeting — Cart Abandoners")  # tactical auto: starts a job
    html = client.get(write(client, c, "budget", amount=amount).headers["Location"]).content
    return re.search(r"/jobs/(job_[0-9A-Z]{26})/", html.decode()).group(1)


def test_a_job_a_write_started_is_kept_with_its_project_and_campaign(sandbox, people, client):
    login(client, "approver")
    job_id = budget_job(sandbox, client)
    kept = LayersJob.objects.get(job_id=job_id)
    assert kept.project_id == ACME
    assert kept.campaign_id == campaign(sandbox, "Retargeting — Cart Abandoners")["campaignId"]
    assert client.get(reverse("job", args=[ACME, job_id])).status_code == 200


def test_a_job_of_another_project_is_refused_with_a_sentence_even_after_the_cache_is_emptied(
    sandbox, people, client
):
    grant(people, "approver", NORDLICHT, "viewer")
    login(client, "approver")
    job_id = budget_job(sandbox, client)
    cache.clear()  # the old check was a 24-hour cache entry: gone after an eviction or restart
    response = client.get(reverse("job", args=[NORDLICHT, job_id]))
    assert response.status_code == 404
    assert "There is no job with that id in this project" in response.content.decode()


def test_a_job_started_outside_the_dashboard_is_shown_in_no_project(sandbox, people, client):
    c = campaign(sandbox, "Retargeting — Cart Abandoners")
    started = sandbox.api(
        "PATCH",
        f"/v1/projects/{ACME}/ads/meta/campaigns/{c['campaignId']}/budget",
        json={"dailyBudgetCents": 7000},
        headers={"Idempotency-Key": "outside-the-dashboard-1"},
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["jobId"]
    login(client, "approver")
    assert client.get(reverse("job", args=[ACME, job_id])).status_code == 404


def test_a_job_id_stays_with_the_first_project_that_recorded_it(db):
    job_remember(project_id=ACME, job_id="job_01HZX9ABCDEF0123456789ABCD")
    job_remember(project_id=NORDLICHT, job_id="job_01HZX9ABCDEF0123456789ABCD", campaign_id="c")
    kept = LayersJob.objects.get(job_id="job_01HZX9ABCDEF0123456789ABCD")
    assert (kept.project_id, kept.campaign_id) == (ACME, "")


def test_an_address_that_matches_nothing_is_a_sentence_in_the_sites_layout(people, client):
    login(client, "viewer")
    response = client.get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing at this address." in html and 'id="not-found"' in html
    assert "projects/&lt;str" not in html and "tried" not in html  # no URL patterns shown
