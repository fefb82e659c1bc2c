"""Lifetime-budget campaigns get a lifetime-budget form, and the ad platform's refusal of a
daily ↔ lifetime switch (contract §4.8: 422 PLATFORM_REJECTED) is shown in words."""

from django.urls import reverse

from dashboard.layers import PlatformRejected
from dashboard.services.writes import refused
from tests.conftest import login
from tests.test_campaigns import campaign, write

LIFETIME = "Holiday Gift Cards 2026"  # Acme's Meta campaign with a lifetime budget
DAILY = "Retargeting — Cart Abandoners"  # a daily budget, tactical axis on auto


def page_of(client, c):
    url = reverse(
        "campaign", args=["prj_7d1c5e0a-0001-4c3b-9a51-000000000001", "meta", c["campaignId"]]
    )
    return client.get(url).content.decode()


def tactical_auto(sandbox, c):
    sandbox.control(
        "campaign-authority",
        projectId="prj_7d1c5e0a-0001-4c3b-9a51-000000000001",
        platform="meta",
        campaignId=c["campaignId"],
        authority={"tactical": "auto"},
    )


def test_a_lifetime_campaign_offers_a_lifetime_budget_form_and_a_daily_one_a_daily_form(
    sandbox, people, client
):
    login(client, "approver")
    lifetime = page_of(client, campaign(sandbox, LIFETIME))
    assert '<label for="budget-amount">New lifetime budget, in US dollars ($)</label>' in lifetime
    assert '<option value="lifetime" selected>' in lifetime
    assert "Change lifetime budget</button>" in lifetime
    assert "$1,500.00</strong> for the campaign's lifetime" in lifetime
    daily = page_of(client, campaign(sandbox, DAILY))
    assert '<label for="budget-amount">New daily budget, in US dollars ($)</label>' in daily
    assert '<option value="daily" selected>' in daily


def test_changing_a_lifetime_budget_sends_the_lifetime_field_and_says_so(sandbox, people, client):
    login(client, "approver")
    c = campaign(sandbox, LIFETIME)
    tactical_auto(sandbox, c)
    response = write(client, c, "budget", amount="1,800", budget_kind="lifetime")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).content.decode()
    assert "Lifetime budget set to $1,800.00." in html
    after = campaign(sandbox, LIFETIME)
    assert (after["lifetimeBudgetCents"], after["dailyBudgetCents"]) == (180_000, None)
    assert "$1,800.00</strong> for the campaign's lifetime" in html


def test_the_platforms_refusal_reads_as_a_final_sentence_with_its_verdict():
    error = PlatformRejected(
        "The ad platform refused this change.",
        code="PLATFORM_REJECTED",
        status=422,
        details={"platformCode": "budget_type_switch_not_allowed", "verdictId": "ver_1"},
    )
    outcome = refused(error, project_id="prj_1", platform="meta")
    assert outcome.kind == "refused" and not outcome.ok
    assert outcome.sentence == (
        "Meta does not let a campaign that has started switch between a daily and a lifetime "
        "budget. Change the amount of the budget it has instead. Nothing was changed."
    )
    assert outcome.verdict_id == "ver_1"
    ended = refused(
        PlatformRejected(details={"platformCode": "lifetime_budget_after_end_time"}),
        project_id="prj_1",
        platform="tiktok",
    )
    assert ended.sentence.startswith("The campaign has ended: TikTok does not let")
    unknown = refused(PlatformRejected(details={}), project_id="prj_1", platform="apple")
    assert unknown.sentence == "Apple Ads refused the change. Nothing was changed."


def test_switching_a_running_campaign_from_daily_to_lifetime_shows_the_platforms_refusal(
    sandbox, people, client
):
    login(client, "approver")
    c = campaign(sandbox, DAILY)
    response = write(client, c, "budget", amount="2,000", budget_kind="lifetime")
    html = response.content.decode()
    assert response.status_code == 422
    assert "Refused by Meta." in html
    assert (
        "Meta does not let a campaign that has started switch between a daily and a lifetime"
        in html
    )
    assert 'value="2,000"' in html  # the typing is kept
    assert campaign(sandbox, DAILY)["lifetimeBudgetCents"] is None
