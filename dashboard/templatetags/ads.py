from django import template

register = template.Library()

NAMES = {"meta": "Meta", "tiktok": "TikTok", "apple": "Apple Ads"}


@register.filter
def platform(value):
    """{{ campaign.platform|platform }} -> "TikTok"; an unknown platform keeps its own name."""
    return NAMES.get(str(value or ""), str(value or "").replace("_", " ").title())
