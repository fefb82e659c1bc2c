from django import template

from dashboard.money import cents_format
from dashboard.wording import platform_name

register = template.Library()


@register.filter
def money(cents, currency="USD"):
    """{{ campaign.daily_budget_cents|money:account.currency }} -> "$50.00"."""
    return cents_format(cents, currency)


@register.filter
def words(value):
    """ "dispatch_failed" -> "dispatch failed": enum values read as words."""
    return str(value or "").replace("_", " ")


@register.filter
def platform(value):
    """{{ campaign.platform|platform }} -> "TikTok"."""
    return platform_name(value)
