"""Money in every currency: amounts are integers in the account currency's minor unit
(dashboard/money.py says why), shown and typed as money in that currency. Yen and won have
no minor unit, dinars have three decimals; formats follow the project's primaryLanguage.

The first tests read dashboard.money directly (pure functions over Babel's CLDR data); the
rest drive the dashboard's pages with the sandbox answering over real HTTP. The demo seed's
Brightside Games sells on the App Store in pounds, yen (¥5,000 a day) and won."""

import csv
import io
import re
import uuid

import pytest
from django.urls import reverse

from dashboard.models import DecisionRecord
from dashboard.money import (
    cents_format,
    currency_exponent,
    money_example,
    money_locale,
    money_parse,
    money_plain,
    money_words,
)
from tests.conftest import BRIGHTSIDE, login
from tests.test_audit_export import export_csv

NBSP = "\u00a0"
JP_INSTALLS = "Puzzle Quest — JP Installs"  # ¥5,000 a day
JP_LAUNCH = "Puzzle Quest — JP Launch Week"  # ¥300,000 for its lifetime
KR_INSTALLS = "Puzzle Quest — KR Installs"  # ₩300,000 a day


# --- dashboard.money ---------------------------------------------------------------------------


def test_yen_5000_is_five_thousand_yen_never_fifty():
    assert currency_exponent("JPY") == 0
    assert cents_format(5000, "JPY") == "¥5,000"
    assert cents_format(5000, "USD") == "$50.00"
    assert money_plain(5000, "JPY") == "5000"
    assert money_example("JPY") == "5,000"


def test_won_has_no_minor_unit_either():
    assert currency_exponent("KRW") == 0
    assert cents_format(300000, "KRW") == "₩300,000"
    assert money_parse("₩300,000", "KRW") == 300000


def test_a_three_decimal_currency_is_formatted_and_parsed_in_thousandths():
    assert currency_exponent("BHD") == currency_exponent("KWD") == 3
    assert cents_format(5125, "BHD") == f"BHD{NBSP}5.125"
    assert cents_format(5000, "KWD") == f"KWD{NBSP}5.000"
    assert money_parse("5.125", "BHD") == 5125
    assert money_parse("BHD 12.5", "BHD") == 12500
    assert money_parse("5.125", "KWD") == 5125
    assert money_plain(5125, "BHD") == "5.125"
    with pytest.raises(ValueError, match="at most 3 decimal places"):
        money_parse("5.1255", "BHD")


def test_typed_yen_is_whole_yen_with_or_without_the_symbol_and_grouping():
    assert money_parse("¥5,000", "JPY") == 5000
    assert money_parse("5000", "JPY") == 5000
    assert money_parse(" JPY 5,000 ", "JPY") == 5000
    assert (
        money_parse("￥５，０００", "JPY", locale="ja") == 5000
    )  # a Japanese keyboard's full width


def test_a_fraction_of_a_yen_is_refused_with_a_sentence():
    with pytest.raises(ValueError) as refused:
        money_parse("5000.5", "JPY")
    assert str(refused.value) == "Amounts in Japanese yen are whole numbers, for example 5,000."


def test_dollars_still_take_cents():
    assert money_parse("$1,250.00", "USD") == 125000
    assert money_parse("50.5", "USD") == 5050
    with pytest.raises(ValueError, match="at most 2 decimal places"):
        money_parse("50.555", "USD")


def test_another_currencys_symbol_is_not_taken_for_this_ones():
    with pytest.raises(ValueError, match="for example 5,000"):
        money_parse("$50", "JPY")


def test_a_german_project_reads_and_writes_amounts_the_german_way():
    assert cents_format(8000, "EUR", locale="de") == f"80,00{NBSP}€"
    assert money_parse("80,50", "EUR", locale="de") == 8050
    assert money_parse("1.250,00 €", "EUR", locale="de") == 125000
    with pytest.raises(ValueError, match="for example 50,00"):
        money_parse("80.5", "EUR", locale="de")  # not 805 euros


@pytest.mark.parametrize(
    "language", [None, "", "zz", "en-XX", "!!", "de@euro", "C", "x" * 300, 42, {"a": 1}, "<b>"]
)
def test_a_bad_locale_string_falls_back_to_english_and_never_raises(language):
    assert money_locale(language) == "en"
    assert cents_format(5000, "JPY", locale=language) == "¥5,000"
    assert money_parse("5,000", "JPY", locale=language) == 5000


def test_a_good_locale_string_is_used_in_either_spelling():
    assert money_locale("pt-BR") == money_locale("pt_BR") == "pt_BR"
    assert money_locale("ja") == "ja"


def test_an_unknown_or_missing_currency_is_never_guessed():
    assert cents_format(5000, "") == "5,000 (currency not known)"
    assert cents_format(5000, "<b>") == "<B>50.00"  # escaped where it is shown
    assert cents_format(None, "JPY") == "—"


def test_layers_cents_are_said_as_money_in_the_accounts_currency():
    text = "The daily budget must be at least 100 cents."
    assert money_words(text, "JPY") == "The daily budget must be at least ¥100."
    assert money_words(text, "USD") == "The daily budget must be at least $1.00."


# --- pages ---------------------------------------------------------------------------------


def sign_in_on_brightside(client, people, role="approver"):
    """`role` on Brightside too (the project that bills in another currency), signed in."""
    from dashboard.models import ProjectGrant

    ProjectGrant.objects.update_or_create(
        user=people[role], project_id=BRIGHTSIDE, defaults={"role": role}
    )
    login(client, role)


def campaign(sandbox, name):
    items = sandbox.api(
        "GET", f"/v1/projects/{BRIGHTSIDE}/ads/campaigns", params={"limit": 200}
    ).json()["items"]
    return next(c for c in items if c["name"] == name)


def row_html(html, pending_id) -> str:
    start = html.index(f'id="pa-{pending_id}"')
    return html[start : html.index("</article>", start)]


def budget_pending(sandbox, campaign_id) -> dict:
    items = sandbox.api(
        "GET", f"/v1/projects/{BRIGHTSIDE}/ads/apple/pending", params={"limit": 200}
    ).json()["items"]
    return next(
        p for p in items if p["entityId"] == campaign_id and p["actionType"] == "update_budget"
    )


def test_a_yen_budget_change_in_the_queue_reads_in_whole_yen(sandbox, people, client):
    sign_in_on_brightside(client, people)
    jp = campaign(sandbox, JP_INSTALLS)
    item = budget_pending(sandbox, jp["campaignId"])
    assert item["currentValue"] == {"dailyBudgetCents": 5000}
    html = client.get(reverse("queue", args=[BRIGHTSIDE])).content.decode()
    row = row_html(html, item["pendingId"])
    assert "¥5,000" in row
    assert f"¥{item['newValue']['dailyBudgetCents']:,}" in row
    assert "¥50.00" not in html and "¥50" not in row
    change = item["newValue"]["dailyBudgetCents"] - 5000
    assert f'data-change="{change}" data-currency="JPY" data-exponent="0"' in row


def test_a_won_budget_change_in_the_queue_reads_in_whole_won(sandbox, people, client):
    sign_in_on_brightside(client, people)
    kr = campaign(sandbox, KR_INSTALLS)
    item = budget_pending(sandbox, kr["campaignId"])
    html = client.get(reverse("queue", args=[BRIGHTSIDE])).content.decode()
    row = row_html(html, item["pendingId"])
    assert "₩300,000" in row
    assert 'data-currency="KRW" data-exponent="0"' in row


def test_the_campaigns_page_shows_yen_and_won_budgets_in_whole_units(sandbox, people, client):
    sign_in_on_brightside(client, people, "viewer")
    html = client.get(reverse("campaigns", args=[BRIGHTSIDE])).content.decode()
    assert "¥5,000</strong> a day" in html
    assert "¥300,000</strong> lifetime" in html
    assert "₩300,000</strong> a day" in html
    assert "£70.00</strong> a day" in html  # pounds keep their pence
    assert "¥50.00" not in html and "¥3,000.00" not in html


def test_the_campaign_page_asks_for_yen_as_yen(sandbox, people, client):
    sign_in_on_brightside(client, people)
    jp = campaign(sandbox, JP_INSTALLS)
    html = client.get(
        reverse("campaign", args=[BRIGHTSIDE, "apple", jp["campaignId"]])
    ).content.decode()
    assert "¥5,000</strong> a day" in html
    assert "New daily budget, in Japanese yen (¥)" in html
    assert 'placeholder="for example 5,000"' in html
    assert "50.00" not in html


def write_budget(client, c, amount):
    url = reverse("campaign-write", args=[BRIGHTSIDE, "apple", c["campaignId"]])
    return client.post(
        url, {"action": "budget", "amount": amount, "idempotency_key": str(uuid.uuid4())}
    )


def test_a_typed_yen_budget_is_sent_as_whole_yen(sandbox, people, client):
    sign_in_on_brightside(client, people)
    jp = campaign(sandbox, JP_INSTALLS)
    sandbox.control(
        "campaign-authority",
        projectId=BRIGHTSIDE,
        platform="apple",
        campaignId=jp["campaignId"],
        authority={"tactical": "auto"},
    )
    html = client.get(write_budget(client, jp, "7500").headers["Location"]).content.decode()
    assert "Daily budget set to ¥7,500." in html
    assert campaign(sandbox, JP_INSTALLS)["dailyBudgetCents"] == 7500  # not 750000
    html = client.get(write_budget(client, jp, "¥5,000").headers["Location"]).content.decode()
    assert "Daily budget set to ¥5,000." in html
    assert campaign(sandbox, JP_INSTALLS)["dailyBudgetCents"] == 5000  # not 500000
    record = DecisionRecord.objects.filter(action="budget").latest("created_at")
    assert (record.amount_minor, record.currency) == (5000, "JPY")


def test_a_fraction_of_a_yen_is_refused_before_anything_is_sent(sandbox, people, client):
    sign_in_on_brightside(client, people)
    jp = campaign(sandbox, JP_INSTALLS)
    response = write_budget(client, jp, "5000.5")
    assert response.status_code == 422
    html = response.content.decode()
    assert "Amounts in Japanese yen are whole numbers, for example 5,000." in html
    assert campaign(sandbox, JP_INSTALLS)["dailyBudgetCents"] == 5000
    assert not DecisionRecord.objects.filter(action="budget").exists()


def test_a_queued_won_budget_says_the_amount_in_won(sandbox, people, client):
    sign_in_on_brightside(client, people)
    kr = campaign(sandbox, KR_INSTALLS)  # tactical draft: the change waits for approval
    html = client.get(write_budget(client, kr, "450,000").headers["Location"]).content.decode()
    assert "The new daily budget of ₩450,000 is queued for approval." in html
    queued = [
        p
        for p in sandbox.api(
            "GET", f"/v1/projects/{BRIGHTSIDE}/ads/apple/pending", params={"limit": 200}
        ).json()["items"]
        if p["entityId"] == kr["campaignId"] and p["newValue"] == {"dailyBudgetCents": 450000}
    ]
    assert len(queued) == 1


def test_creating_a_campaign_reads_the_budget_in_the_chosen_accounts_currency(
    sandbox, people, client
):
    sign_in_on_brightside(client, people)
    accounts = sandbox.api("GET", f"/v1/projects/{BRIGHTSIDE}/ads/ad-accounts").json()["items"]
    jp = next(a for a in accounts if a["currency"] == "JPY")
    form = client.get(reverse("campaign-new", args=[BRIGHTSIDE])).content.decode()
    assert f'value="{jp["adAccountId"]}" data-example="5,000"' in form
    assert "5,000 in Japanese yen (¥)" in form and "50.00 in British pounds (£)" in form
    data = {
        "ad_account": jp["adAccountId"],
        "name": "Puzzle Quest — Osaka",
        "outcome": "app_installs",
        "budget_kind": "daily",
        "budget": "¥5,000",
        "campaign_management_mode": "draft",
        "creative_mode": "draft",
        "idempotency_key": str(uuid.uuid4()),
    }
    response = client.post(reverse("campaign-new", args=[BRIGHTSIDE]), data)
    assert response.status_code in (200, 302)
    record = DecisionRecord.objects.get(action="create")
    assert (record.amount_minor, record.currency) == (5000, "JPY")
    assert "¥5,000 daily" in record.note
    pending = sandbox.api(
        "GET", f"/v1/projects/{BRIGHTSIDE}/ads/apple/pending", params={"limit": 200}
    ).json()["items"]
    proposed = [p for p in pending if p.get("entityName") == "Puzzle Quest — Osaka"]
    # The structural axis is draft: the creation waits for approval, asking for ¥5,000.
    assert [p["newValue"]["dailyBudgetCents"] for p in proposed] == [5000]
    queue = client.get(reverse("queue", args=[BRIGHTSIDE])).content.decode()
    assert "¥5,000" in row_html(queue, proposed[0]["pendingId"])


def test_the_audit_export_gives_the_budget_in_yen(sandbox, people, client):
    sign_in_on_brightside(client, people, "admin")
    kr_or_jp = campaign(sandbox, JP_INSTALLS)
    write_budget(client, kr_or_jp, "¥5,000")  # tactical draft: queued, with a verdict
    rows = list(csv.DictReader(io.StringIO(export_csv(client, BRIGHTSIDE))))
    mine = [r for r in rows if r["person"] == "admin" and r["amount"]]
    assert len(mine) == 1
    assert (mine[0]["amount"], mine[0]["currency"], mine[0]["amount_shown"]) == (
        "5000",
        "JPY",
        "¥5,000",
    )
    assert not any(re.search(r"¥50\.00|500000", ",".join(r.values())) for r in rows)
    page = client.get(reverse("audit", args=[BRIGHTSIDE])).content.decode()
    assert "Budget ¥5,000" in page


def test_the_verdict_page_says_the_budget_asked_for_in_yen(sandbox, people, client):
    sign_in_on_brightside(client, people, "admin")
    jp = campaign(sandbox, JP_INSTALLS)
    write_budget(client, jp, "6000")
    record = DecisionRecord.objects.get(action="budget")
    html = client.get(reverse("verdict", args=[BRIGHTSIDE, record.verdict_id])).content.decode()
    money = html[html.index('id="verdict-money"') :]
    assert '<dt>Daily budget</dt><dd class="amount">¥6,000</dd>' in money


def test_a_malformed_language_and_an_unknown_currency_from_layers_still_render(
    sandbox, people, client
):
    sign_in_on_brightside(client, people)
    sandbox.control(
        "hostile",
        projectId=BRIGHTSIDE,
        texts=["Brightside"],
        primaryLanguage="zz-@@!",
        currency="<b>",
    )
    from django.core.cache import cache

    cache.clear()
    for url in (
        reverse("queue", args=[BRIGHTSIDE]),
        reverse("campaigns", args=[BRIGHTSIDE]),
        reverse("campaign-new", args=[BRIGHTSIDE]),
    ):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert "<B>" not in html, url  # the code as Layers sent it, escaped
        assert "&lt;B&gt;" in html, url
