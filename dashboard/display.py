"""How Layers' identifiers read to people, in one place."""

PLATFORM_NAMES = {"meta": "Meta", "tiktok": "TikTok", "apple": "Apple Ads"}


def platform_name(platform: str | None) -> str:
    """ "tiktok" -> "TikTok"; an unknown platform keeps its own name, in words."""
    value = str(platform or "")
    return PLATFORM_NAMES.get(value, value.replace("_", " ").title())
