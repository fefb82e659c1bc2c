"""The inbox's money across currencies: "Most spend at stake" compares each daily budget
change in its own currency's major unit (¥ has no minor unit, $ has cents), at face value
since Layers offers no exchange rates; a selection's spend is totalled per currency.

Customers in USD, EUR and JPY come from the sandbox's partner-scale seed (`customers`), and
the mirror is filled the way the sync engine fills it, over HTTP."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dashboard.models import MirrorAction, SyncState
from dashboard.money import currency_exponent, stake_major
from dashboard.services.mirror import mirror_projects_refresh, mirror_refresh
from tests.conftest import PASSWORD
from tests.test_inbox import line_ids


@pytest.fixture
def currencies(sandbox, db):
    sandbox.control("customers", count=3)  # customers in USD, EUR and JPY
    mirror_projects_refresh()  # with each project's layers and currencies
    for project_id, platform in SyncState.objects.values_list("project_id", "platform"):
        mirror_refresh(project_id, platform)
    get_user_model().objects.create_superuser(username="lead", password=PASSWORD)
    return sandbox


def major(action) -> Decimal:
    minor = abs(action.spend_change_minor or 0)
    return Decimal(minor).scaleb(-currency_exponent(action.currency))


def test_a_budget_change_weighs_its_size_in_its_own_currencys_major_unit():
    assert stake_major(50_000, "JPY") == 50_000  # ¥50,000
    assert stake_major(10_000, "USD") == Decimal("100.00")  # $100.00
    assert stake_major(-100_000, "USD") == Decimal("1000.00")  # −$1,000.00
    assert stake_major(5_125, "BHD") == Decimal("5.125")
    # ¥50,000 is more at face value than $1,000.00, though fewer minor units.
    assert stake_major(50_000, "JPY") > stake_major(100_000, "USD")
    assert stake_major(None, "USD") == 0


def test_most_spend_at_stake_sorts_by_major_units_across_currencies(currencies, client):
    budget = MirrorAction.objects.pending().exclude(spend_change_minor__isnull=True)
    assert {"USD", "JPY"} <= set(budget.values_list("currency", flat=True))
    assert client.login(username="lead", password=PASSWORD)
    html = client.get(reverse("inbox"), {"sort": "spend"}).content.decode()
    ids = line_ids(html)
    rows = {a.pending_id: a for a in MirrorAction.objects.filter(pending_id__in=ids)}
    weights = [major(rows[i]) for i in ids]
    assert weights == sorted(weights, reverse=True)
    # What the page puts first is not what comparing minor units would.
    everything = list(MirrorAction.objects.pending())
    by_minor = sorted(everything, key=lambda a: -abs(a.spend_change_minor or 0))[: len(ids)]
    assert [major(a) for a in by_minor] != weights
    assert 'id="spend-sort-note"' in html and "not converted" in html


def test_the_selection_totals_spend_per_currency_never_across_them(currencies, client):
    assert client.login(username="lead", password=PASSWORD)
    html = client.get(reverse("inbox")).content.decode()
    spend = re.search(r'<span id="select-all-spend">(.*?)</span>', html, re.S).group(1)
    totals = {}
    for action in MirrorAction.objects.pending().exclude(currency__isnull=True):
        totals[action.currency] = totals.get(action.currency, 0) + (action.spend_change_minor or 0)
    parts = spend.split(", ")
    assert len(parts) == len([c for c, minor in totals.items() if minor]) >= 2
    yen = ("¥", "￥")  # a Japanese customer's own rows write the full-width sign; so does its total
    assert any(y in part for part in parts for y in yen) and any("$" in part for part in parts)
    assert not any(y in part and "$" in part for part in parts for y in yen)


def test_on_a_platform_whose_accounts_differ_in_currency_an_action_takes_its_campaigns_account_currency(  # noqa: E501 - the name is the test's sentence
    sandbox, db
):
    """Brightside's Apple layer has a GBP, a JPY and a KRW account: until its campaigns are
    read an action's currency is unknown; then each is in its own account's currency and
    weighed in that currency's major unit."""
    from dashboard.services.mirror_campaigns import mirror_campaigns_refresh
    from tests.conftest import BRIGHTSIDE

    mirror_projects_refresh()
    mirror_refresh(BRIGHTSIDE, "apple")
    budgets = MirrorAction.objects.filter(
        project_id=BRIGHTSIDE, platform="apple", spend_change_minor__isnull=False
    )
    assert budgets.exists() and not budgets.filter(currency__isnull=False).exists()
    mirror_campaigns_refresh(BRIGHTSIDE)
    currencies = set(budgets.values_list("currency", flat=True))
    assert None not in currencies and len(currencies) >= 2, currencies
    for action in budgets:
        assert action.spend_stake_major == major(action)
    mirror_refresh(BRIGHTSIDE, "apple")  # a later read keeps them
    assert set(budgets.values_list("currency", flat=True)) == currencies


def test_a_budget_change_whose_currency_is_not_read_yet_shows_its_size_not_an_amount(
    sandbox, db, client
):
    """Until Brightside's Apple campaigns are read, its budget proposals have no currency,
    so not even their decimals are known: 7,000 could be £70.00 or ¥7,000."""
    from tests.conftest import BRIGHTSIDE

    mirror_projects_refresh()
    mirror_refresh(BRIGHTSIDE, "apple")
    get_user_model().objects.create_superuser(username="lead", password=PASSWORD)
    assert client.login(username="lead", password=PASSWORD)
    html = client.get(reverse("inbox"), {"customer": BRIGHTSIDE}).content.decode()
    budgets = MirrorAction.objects.pending().filter(
        project_id=BRIGHTSIDE, platform="apple", action_type="update_budget"
    )
    assert budgets.exists()
    for action in budgets:
        before = action.current_value["dailyBudgetCents"]
        after = action.new_value["dailyBudgetCents"]
        line = re.search(rf'<tr id="ix-{action.pending_id}".*?</tr>', html, re.S).group(0)
        percent = (after - before) * 100 / before
        assert f"Daily budget {percent:+.1f}% (currency not read yet)" in line
        assert f"{before:,}" not in line and "currency not known" not in line
