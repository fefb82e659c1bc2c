"""The currency of each mirrored action. Layers names a currency per ad account, not per
action: when all of a platform's accounts share one, every action of the platform is in
it; when they do not (an Apple layer with a GBP, a JPY and a KRW account), an action is in
the currency of its campaign's account, known once the campaign list has been read
(services/mirror_campaigns.py). Until then its currency is unknown, and its stake is
weighed with two decimals."""

from django.db.models import Q, Sum

from dashboard.models import MirrorAction, MirrorCampaign
from dashboard.money import DEFAULT_LOCALE, money_locale, stake_major


def currency_reader(project, platform: str):
    """A function: action's campaign id -> its currency (None when not known)."""
    single = (project.currency_by_platform or {}).get(platform)
    if single:
        return lambda campaign_id: single
    by_account = project.currency_by_account or {}
    by_campaign = {
        campaign_id: by_account.get(account)
        for campaign_id, account in MirrorCampaign.objects.filter(project=project).values_list(
            "campaign_id", "ad_account_id"
        )
        if account
    }
    return lambda campaign_id: by_campaign.get(campaign_id) if campaign_id else None


def mirror_currencies_apply(project, platform: str) -> int:
    """Every mirrored action of the platform gets its currency as the project's accounts
    and campaigns now say, and its stake in that currency's major unit; only rows whose
    currency changes are written. Answers how many changed."""
    currency_of = currency_reader(project, platform)
    changed = []
    for row in MirrorAction.objects.filter(project=project, platform=platform).only(
        "pk", "campaign_id", "currency", "spend_change_minor"
    ):
        currency = currency_of(row.campaign_id)
        if currency != row.currency:
            row.currency = currency
            row.spend_stake_major = stake_major(row.spend_change_minor, currency)
            changed.append(row)
    MirrorAction.objects.bulk_update(changed, ["currency", "spend_stake_major"], batch_size=500)
    return len(changed)


def spend_by_currency(actions) -> tuple:
    """((currency, minor units per day, locale), ...) of these mirrored actions, by currency,
    never across them. A total is written in its customers' locale when they share one (as
    their own rows are: "+16,00 €"), else in the default."""
    totals, locales = {}, {}
    for currency, language, total in (
        actions.exclude(Q(spend_change_minor__isnull=True) | Q(currency__isnull=True))
        .values_list("currency", "project__primary_language")
        .annotate(total=Sum("spend_change_minor"))
        .order_by("currency")
    ):
        totals[currency] = totals.get(currency, 0) + total
        locales.setdefault(currency, set()).add(money_locale(language))
    one = {currency: next(iter(found)) for currency, found in locales.items() if len(found) == 1}
    return tuple(
        (currency, total, one.get(currency, DEFAULT_LOCALE))
        for currency, total in totals.items()
        if total
    )
