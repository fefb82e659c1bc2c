"""Campaigns, their authority and their writes, and campaign creation, driven through the
dashboard's own URLs with the sandbox answering over real HTTP."""

import re
import uuid

from django.core.cache import cache
from django.urls import reverse

from dashboard.models import DecisionRecord
from tests.conftest import ACME, BRIGHTSIDE, NORDLICHT, login

READONLY_KEY = "lp_test_READONLY00000002_sandbox-readonly-secret-not-a-real-key-0000"
HTMX = {"HX-Request": "true"}


def grant(people, username, project, role):
    from dashboard.models import ProjectGrant

    ProjectGrant.objects.update_or_create(
        user=people[username], project_id=project, defaults={"role": role}
    )


def campaign(sandbox, name, project=ACME):
    items = sandbox.api(
        "GET", f"/v1/projects/{project}/ads/campaigns", params={"limit": 200}
    ).json()["items"]
    return next(c for c in items if c["name"] == name)


def short(platform):
    return platform.removesuffix("_ads")


def authority_now(sandbox, c, project=ACME):
    path = (
        f"/v1/projects/{project}/ads/{short(c['platform'])}/campaigns/{c['campaignId']}/authority"
    )
    return sandbox.api("GET", path).json()


def set_authority(client, c, project=ACME, confirm=False, key=None, **axes):
    url = reverse("campaign-authority", args=[project, short(c["platform"]), c["campaignId"]])
    data = {
        **axes,
        "idempotency_key": key or str(uuid.uuid4()),
        **({"confirm": "1"} if confirm else {}),
    }
    return client.post(url, data, headers=HTMX)


def write(client, c, action, project=ACME, key=None, **data):
    url = reverse("campaign-write", args=[project, short(c["platform"]), c["campaignId"]])
    return client.post(url, {"action": action, "idempotency_key": key or str(uuid.uuid4()), **data})


def executed(sandbox, word):
    stats = sandbox.control("stats")
    return sum(n for route, n in stats["executedByRoute"].items() if word in route)


def list_html(client, project=ACME, query=""):
    response = client.get(reverse("campaigns", args=[project]) + query)
    assert response.status_code == 200
    return response.content.decode()


# --- the list ----------------------------------------------------------------------------------


def test_the_list_shows_every_platform_with_status_budget_in_the_account_currency_and_authority(
    sandbox, people, client
):
    login(client, "viewer")
    html = list_html(client)
    for name in (
        "Q3 Prospecting — Cold Brew",
        "Spark Ads — Barista Tips",
        "Search — Brand Keywords",
    ):
        assert name in html
    assert "Brand Awareness (created in Ads Manager)" in html
    assert "created outside Layers" in html
    assert "$50.00</strong> a day" in html
    assert "$1,500.00</strong> lifetime" in html
    assert 'name="creative" value="auto" checked' in html
    assert "layer default" in html  # campaigns without their own authority say where it comes from


def test_budgets_are_shown_in_each_accounts_own_currency(sandbox, people, client):
    grant(people, "viewer", NORDLICHT, "viewer")
    login(client, "viewer")
    html = list_html(client, NORDLICHT)
    # Nordlicht's primaryLanguage is "de": euros written the German way (CLDR, via Babel).
    assert "80,00\u00a0€</strong> a day" in html
    assert "€80.00" not in html


def test_filters_live_in_the_query_string(sandbox, people, client):
    login(client, "viewer")
    html = list_html(client, query="?platform=tiktok&status=active")
    assert "Spark Ads — Barista Tips" in html
    assert "Q3 Prospecting — Cold Brew" not in html
    assert '<option value="tiktok" selected>' in html
    assert '<option value="active" selected>' in html
    assert "No campaigns match these filters" in list_html(
        client, query="?platform=apple&status=in_review"
    )


def test_the_layer_defaults_and_the_kill_switch_are_shown_read_only(sandbox, people, client):
    grant(people, "approver", NORDLICHT, "approver")
    login(client, "approver")
    html = list_html(client, NORDLICHT)
    assert 'id="kill-switch-meta"' in html
    assert "Only the customer can change it" in html
    assert "Kill switch on" in html
    assert 'id="kill-switch-tiktok"' not in html


def test_a_viewer_gets_disabled_controls_and_no_write_buttons(sandbox, people, client):
    login(client, "viewer")
    html = list_html(client)
    assert '<fieldset class="axis" disabled>' in html
    assert "Run optimizer" not in html
    assert "New campaign" not in html


def test_an_upstream_fault_keeps_the_page_and_says_what_happened(sandbox, people, client):
    login(client, "approver")
    sandbox.control(
        "faults",
        faults=[{"kind": "status", "status": 503, "count": 50, "pathContains": "/ads/campaigns"}],
    )
    html = list_html(client)
    assert 'id="campaigns-partial-error"' in html
    assert "The campaigns could not be loaded" in html
    assert "Traceback" not in html


# --- authority ---------------------------------------------------------------------------------


def test_lowering_an_axis_applies_and_is_recorded_with_its_verdict(sandbox, people, client):
    login(client, "approver")
    c = campaign(sandbox, "Q3 Prospecting — Cold Brew")
    response = set_authority(client, c, creative="auto", tactical="off", structural="draft")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="authority-{c["campaignId"]}"' in html
    assert "Saved: tactical is now off." in html
    assert 'name="tactical" value="off" checked' in html
    assert authority_now(sandbox, c)["authority"]["tactical"] == "off"
    record = DecisionRecord.objects.get(action="authority", entity_id=c["campaignId"])
    assert record.outcome == "applied"
    assert record.verdict_id.startswith("ver_")


def test_raising_an_axis_to_auto_asks_first_and_sends_nothing_until_confirmed(
    sandbox, people, client
):
    login(client, "approver")
    c = campaign(sandbox, "Retargeting — Cart Abandoners")  # its own authority: auto, auto, draft
    assert (
        set_authority(client, c, creative="auto", tactical="draft", structural="draft").status_code
        == 200
    )
    key = str(uuid.uuid4())
    asked = set_authority(
        client, c, key=key, creative="auto", tactical="auto", structural="draft"
    ).content.decode()
    assert "Auto lets tactical changes reach the platform unreviewed. Confirm?" in asked
    assert 'name="confirm" value="1"' in asked
    assert (
        'name="tactical" value="draft" checked' in asked
    )  # the control still shows the real value
    assert authority_now(sandbox, c)["authority"]["tactical"] == "draft"
    done = set_authority(
        client, c, key=key, confirm=True, creative="auto", tactical="auto", structural="draft"
    )
    assert "Saved: tactical is now auto." in done.content.decode()
    assert authority_now(sandbox, c)["authority"]["tactical"] == "auto"


def test_raising_above_the_customers_setting_is_refused_and_the_control_returns_to_the_real_value(
    sandbox, people, client
):
    login(client, "approver")
    c = campaign(sandbox, "Q3 Prospecting — Cold Brew")  # layer defaults: tactical draft
    html = set_authority(
        client, c, confirm=True, creative="auto", tactical="auto", structural="draft"
    ).content.decode()
    assert "A partner cannot raise the tactical axis above what the customer allows." in html
    assert 'name="tactical" value="draft" checked' in html
    assert re.search(r"Verdict ver_[0-9A-Z]{26}", html)
    assert (
        DecisionRecord.objects.get(action="authority", entity_id=c["campaignId"]).outcome
        == "denied"
    )


def test_an_authority_change_under_the_kill_switch_is_refused_with_that_reason(
    sandbox, people, client
):
    grant(people, "approver", NORDLICHT, "approver")
    login(client, "approver")
    c = campaign(sandbox, "Herbst Kollektion — Prospecting", NORDLICHT)
    html = set_authority(
        client, c, NORDLICHT, creative="off", tactical="draft", structural="draft"
    ).content.decode()
    assert "The customer has frozen all partner writes on Meta (kill switch)." in html
    assert 'name="creative" value="draft" checked' in html


def test_an_authority_change_without_customer_consent_is_refused_and_the_banner_appears(
    sandbox, people, client
):
    grant(people, "approver", BRIGHTSIDE, "approver")
    login(client, "approver")
    c = campaign(sandbox, "Puzzle Quest — Lookalike 1%", BRIGHTSIDE)
    html = set_authority(
        client, c, BRIGHTSIDE, creative="off", tactical="draft", structural="draft"
    ).content.decode()
    assert "The customer has not yet agreed to partner changes on Meta." in html
    assert 'id="consent-missing-meta"' in list_html(client, BRIGHTSIDE)


def test_a_key_without_the_policy_scope_is_explained(sandbox, people, client, settings):
    login(client, "approver")
    settings.LAYERS_API_KEY = READONLY_KEY
    c = campaign(sandbox, "Q3 Prospecting — Cold Brew")
    html = set_authority(
        client, c, creative="auto", tactical="off", structural="draft"
    ).content.decode()
    assert "Layers key is not allowed to do this (it needs the ads:write:policy scope)" in html


def test_a_viewer_cannot_change_authority(sandbox, people, client):
    login(client, "viewer")
    c = campaign(sandbox, "Q3 Prospecting — Cold Brew")
    assert set_authority(client, c, tactical="off").status_code == 403
    assert authority_now(sandbox, c)["authority"]["tactical"] == "draft"


# --- the campaign page and its writes -----------------------------------------------------------


def page_html(client, c, project=ACME):
    response = client.get(
        reverse("campaign", args=[project, short(c["platform"]), c["campaignId"]])
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_campaign_page_shows_authority_budget_status_pending_actions_and_activity(
    sandbox, people, client
):
    login(client, "viewer")
    c = campaign(sandbox, "Q3 Prospecting — Cold Brew")
    html = page_html(client, c)
    assert "Q3 Prospecting — Cold Brew" in html
    assert "$50.00</strong> a day" in html
    assert f'id="authority-{c["campaignId"]}"' in html
    assert (
        'class="action card status-pending"' in html
    )  # its pending actions, as the queue shows them
    assert "Open this campaign in the queue" in html


def test_a_budget_change_on_an_auto_axis_is_applied_and_shows_its_job(sandbox, people, client):
    login(client, "approver")
    c = campaign(sandbox, "Retargeting — Cart Abandoners")  # tactical auto
    response = write(client, c, "budget", amount="$75.50")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).content.decode()
    assert "Applied." in html
    assert "Daily budget set to $75.50." in html
    assert re.search(r'href="/projects/[^"]+/jobs/job_[0-9A-Z]{26}/"', html)
    assert "$75.50</strong> a day" in html
    assert (
        DecisionRecord.objects.get(action="budget", entity_id=c["campaignId"]).outcome == "applied"
    )


def test_a_budget_change_on_a_draft_axis_is_queued_with_a_link_to_it_in_the_queue(
    sandbox, people, client
):
    login(client, "approver")
    c = campaign(sandbox, "Q3 Prospecting — Cold Brew")  # tactical draft
    html = client.get(write(client, c, "budget", amount="60").headers["Location"]).content.decode()
    assert "Queued for approval." in html
    assert f"campaign={c['campaignId']}" in html
    assert "The new daily budget of $60.00 is queued for approval." in html
    assert "$50.00</strong> a day" in html  # nothing changed yet


def test_a_budget_that_is_not_money_is_refused_before_anything_is_sent_and_the_typing_is_kept(
    sandbox, people, client
):
    login(client, "approver")
    c = campaign(sandbox, "Q3 Prospecting — Cold Brew")
    before = executed(sandbox, "budget")
    response = write(client, c, "budget", amount="fifty")
    html = response.content.decode()
    assert response.status_code == 422
    assert "Enter the amount as a number, for example 50.00." in html
    assert 'value="fifty"' in html
    assert executed(sandbox, "budget") == before


def test_a_budget_layers_finds_too_small_says_why(sandbox, people, client):
    login(client, "approver")
    c = campaign(sandbox, "Retargeting — Cart Abandoners")
    response = write(client, c, "budget", amount="0.50")
    assert response.status_code == 422
    # Layers says "at least 100 cents": said as money in the account's currency.
    assert "The daily budget must be at least $1.00." in response.content.decode()


def test_a_write_under_the_kill_switch_is_denied_with_the_reason(sandbox, people, client):
    grant(people, "approver", NORDLICHT, "approver")
    login(client, "approver")
    c = campaign(sandbox, "Herbst Kollektion — Prospecting", NORDLICHT)
    html = client.get(
        write(client, c, "budget", NORDLICHT, amount="90").headers["Location"]
    ).content.decode()
    assert "Denied by the customer's settings." in html
    assert "The customer has frozen all partner writes on Meta (kill switch)." in html
    assert 'id="kill-switch-meta"' in html
    assert DecisionRecord.objects.get(action="budget").outcome == "denied"


def test_a_write_on_an_axis_that_is_off_is_denied_with_the_reason(sandbox, people, client):
    login(client, "approver")
    c = campaign(sandbox, "Spark Ads — Barista Tips")  # Acme TikTok: structural off
    html = client.get(write(client, c, "pause").headers["Location"]).content.decode()
    assert (
        "The customer has set the structural axis to off, so partners cannot make this change."
        in html
    )


def test_a_write_without_consent_is_denied_and_the_consent_banner_appears(sandbox, people, client):
    grant(people, "approver", BRIGHTSIDE, "approver")
    login(client, "approver")
    c = campaign(sandbox, "Puzzle Quest — Lookalike 1%", BRIGHTSIDE)
    html = client.get(write(client, c, "pause", BRIGHTSIDE).headers["Location"]).content.decode()
    assert "The customer has not yet agreed to partner changes on Meta." in html
    assert 'id="consent-missing-meta"' in html


def test_pause_and_resume_report_their_real_outcome(sandbox, people, client):
    login(client, "approver")
    c = campaign(sandbox, "Q3 Prospecting — Cold Brew")  # structural draft: queued
    html = client.get(write(client, c, "pause").headers["Location"]).content.decode()
    assert "Pausing is queued for approval." in html
    sandbox.control(
        "campaign-authority",
        projectId=ACME,
        platform="meta",
        campaignId=c["campaignId"],
        authority={"structural": "auto"},
    )
    html = client.get(write(client, c, "pause").headers["Location"]).content.decode()
    assert "Paused." in html
    assert 'id="campaign-status">paused' in html
    html = client.get(write(client, c, "resume").headers["Location"]).content.decode()
    assert "Resumed." in html


def test_delete_asks_for_confirmation_first(sandbox, people, client):
    login(client, "approver")
    c = campaign(sandbox, "Q3 Prospecting — Cold Brew")
    key = str(uuid.uuid4())
    before = executed(sandbox, "DELETE")
    asked = write(client, c, "delete", key=key)
    html = asked.content.decode()
    assert asked.status_code == 200
    assert 'id="delete-confirm"' in html
    assert f'value="{key}"' in html
    assert executed(sandbox, "DELETE") == before
    done = write(client, c, "delete", key=key, confirm="1")
    html = client.get(done.headers["Location"]).content.decode()
    assert "Deleting is queued for approval." in html


def test_a_double_submitted_budget_change_is_sent_once(sandbox, people, client):
    login(client, "approver")
    c = campaign(sandbox, "Retargeting — Cart Abandoners")
    key = str(uuid.uuid4())
    before = executed(sandbox, "budget")
    write(client, c, "budget", key=key, amount="70")
    write(client, c, "budget", key=key, amount="70")
    assert DecisionRecord.objects.filter(idempotency_key=key).count() == 1
    assert executed(sandbox, "budget") == before + 1


def test_an_unknown_campaign_is_a_sentence_not_a_traceback(sandbox, people, client):
    login(client, "viewer")
    response = client.get(
        reverse("campaign", args=[ACME, "meta", "cmp_01HZZZZZZZZZZZZZZZZZZZZZZZ"])
    )
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode()


# --- create --------------------------------------------------------------------------------------


def accounts(sandbox, project=ACME):
    return sandbox.api("GET", f"/v1/projects/{project}/ads/ad-accounts").json()["items"]


def account_of(sandbox, platform):
    return next(a for a in accounts(sandbox) if a["platform"] == platform)["adAccountId"]


def create(client, key=None, **fields):
    data = {
        "budget_kind": "daily",
        "campaign_management_mode": "draft",
        "creative_mode": "draft",
        "outcome": "conversions",
        "idempotency_key": key or str(uuid.uuid4()),
        **fields,
    }
    return client.post(reverse("campaign-new", args=[ACME]), data)


def test_the_create_form_explains_what_each_mode_means_for_the_axes(sandbox, people, client):
    login(client, "approver")
    html = client.get(reverse("campaign-new", args=[ACME])).content.decode()
    assert "Acme Coffee — US — Meta (USD)" in html
    assert "partners and the optimizer cannot change it (axes off)" in html
    assert "waits in the queue for a person to approve (axes draft)" in html
    assert "straight to the platform without review (axes auto)" in html


def test_the_create_form_refuses_with_sentences_and_keeps_what_was_typed(sandbox, people, client):
    login(client, "approver")
    response = create(client, ad_account="", name="Spring push <b>bold</b>", budget="12,5x")
    html = response.content.decode()
    assert response.status_code == 422
    assert "Choose one of the connected ad accounts." in html
    # Without an account there is no currency to read the amount in (yen or dollars?).
    assert "Choose the ad account first: the amount is read in its currency." in html
    assert 'value="Spring push &lt;b&gt;bold&lt;/b&gt;"' in html
    assert 'value="12,5x"' in html


def test_a_tiktok_lifetime_budget_needs_an_end_time(sandbox, people, client):
    login(client, "approver")
    response = create(
        client,
        ad_account=account_of(sandbox, "tiktok_ads"),
        name="Launch",
        budget="900",
        budget_kind="lifetime",
    )
    assert response.status_code == 422
    assert "TikTok needs an end time for a lifetime budget." in response.content.decode()


def test_layers_field_errors_land_on_the_form(sandbox, people, client):
    login(client, "approver")
    response = create(
        client, ad_account=account_of(sandbox, "meta_ads"), name="Tiny", budget="0.10"
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="e-budget"' in html
    assert "Layers says: the daily budget must be at least $1.00." in html  # not "100 cents"


def test_creating_on_a_draft_structural_axis_is_queued(sandbox, people, client):
    login(client, "approver")
    html = create(
        client, ad_account=account_of(sandbox, "meta_ads"), name="Autumn Blend", budget="40"
    ).content.decode()
    assert "Queued for approval." in html
    assert "Creating “Autumn Blend” is queued for approval." in html
    assert DecisionRecord.objects.get(action="create").outcome == "queued"


def test_creating_on_an_auto_structural_axis_starts_a_job_that_ends_with_a_link_to_the_campaign(
    sandbox, people, client
):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"structural": "auto"})
    login(client, "approver")
    html = create(
        client, ad_account=account_of(sandbox, "meta_ads"), name="Winter Roast", budget="45.00"
    ).content.decode()
    assert "Created." in html
    job_url = re.search(
        r'href="(/projects/[^"]+/jobs/job_[0-9A-Z]{26}/)" id="create-job-link"', html
    ).group(1)
    assert 'id="create-campaign-link"' in html
    sandbox.control("clock", advanceSeconds=5)
    job = client.get(job_url, headers=HTMX).content.decode()
    assert 'id="job-state">completed' in job
    assert "hx-trigger" not in job  # finished: the fragment stops polling
    assert 'id="job-campaign-link"' in job
    assert "Winter Roast" in list_html(client)


def test_a_running_job_fragment_keeps_polling(sandbox, people, client):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"structural": "auto"})
    login(client, "approver")
    html = create(
        client, ad_account=account_of(sandbox, "meta_ads"), name="Slow Roast", budget="45"
    ).content.decode()
    job_url = re.search(r'href="(/projects/[^"]+/jobs/(job_[0-9A-Z]{26})/)"', html)
    job_url, job_id = job_url.group(1), job_url.group(2)
    # The sandbox completes a create's job a second after it started, and a busy machine can
    # take longer than that between two requests: hold this one running, as a slow platform
    # would (no timing in the test).
    sandbox.control("job-hold", jobId=job_id)
    cache.clear()
    first = client.get(job_url).content.decode()
    assert 'hx-trigger="every 2s"' in first
    again = client.get(job_url, headers=HTMX).content.decode()  # a 304 upstream keeps what we had
    assert 'id="job-state">running' in again


def test_a_double_submitted_create_makes_one_campaign(sandbox, people, client):
    sandbox.control("defaults", projectId=ACME, platform="meta", defaults={"structural": "auto"})
    login(client, "approver")
    key = str(uuid.uuid4())
    fields = dict(ad_account=account_of(sandbox, "meta_ads"), name="Double Shot", budget="30")
    create(client, key=key, **fields)
    create(client, key=key, **fields)
    names = [
        c["name"]
        for c in sandbox.api(
            "GET", f"/v1/projects/{ACME}/ads/campaigns", params={"limit": 200}
        ).json()["items"]
    ]
    assert names.count("Double Shot") == 1
    assert DecisionRecord.objects.filter(idempotency_key=key).count() == 1


def test_a_viewer_cannot_open_the_create_form(sandbox, people, client):
    login(client, "viewer")
    assert client.get(reverse("campaign-new", args=[ACME])).status_code == 403


def test_a_job_started_in_one_project_is_not_shown_under_another(sandbox, people, client):
    grant(people, "approver", NORDLICHT, "viewer")
    login(client, "approver")
    c = campaign(sandbox, "Retargeting — Cart Abandoners")
    html = client.get(write(client, c, "budget", amount="65").headers["Location"]).content.decode()
    job_id = re.search(r"/jobs/(job_[0-9A-Z]{26})/", html).group(1)
    assert client.get(reverse("job", args=[ACME, job_id])).status_code == 200
    assert client.get(reverse("job", args=[NORDLICHT, job_id])).status_code == 404


def test_without_javascript_an_authority_change_confirms_on_its_own_page_and_comes_back_with_a_note(
    sandbox, people, client
):
    login(client, "approver")
    c = campaign(sandbox, "Retargeting — Cart Abandoners")
    url = reverse("campaign-authority", args=[ACME, "meta", c["campaignId"]])
    back = reverse("campaigns", args=[ACME]) + "?platform=meta"
    lowered = client.post(
        url, {"creative": "draft", "idempotency_key": str(uuid.uuid4()), "next": back}
    )
    assert lowered.status_code == 302 and lowered.headers["Location"] == back
    assert "Saved: creative is now draft." in client.get(back).content.decode()
    asked = client.post(
        url, {"creative": "auto", "idempotency_key": str(uuid.uuid4()), "next": back}
    )
    assert asked.status_code == 200
    assert "Yes, set to auto" in asked.content.decode()
    assert authority_now(sandbox, c)["authority"]["creative"] == "draft"
