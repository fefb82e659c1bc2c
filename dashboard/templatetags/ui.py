from django import template

from dashboard.money import DEFAULT_LOCALE, cents_format
from dashboard.wording import platform_name

register = template.Library()


@register.simple_tag
def amount(cents, currency, locale=DEFAULT_LOCALE):
    """{% amount c.daily_budget_cents row.currency page.locale %} -> "¥5,000", "80,00 €":
    minor units in the account's currency, written the project's way (dashboard.money)."""
    return cents_format(cents, currency, locale=locale)


@register.filter
def money(cents, currency="USD"):
    """{{ cents|money:currency }}: as {% amount %}, in English number format. Pages of a
    project use {% amount %} with the project's locale."""
    return cents_format(cents, currency)


@register.filter
def words(value):
    """ "dispatch_failed" -> "dispatch failed": enum values read as words."""
    return str(value or "").replace("_", " ")


@register.filter
def platform(value):
    """{{ campaign.platform|platform }} -> "TikTok"."""
    return platform_name(value)
