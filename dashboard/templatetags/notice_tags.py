from django import template

from dashboard.services.notices import notices_unread_count

register = template.Library()


@register.inclusion_tag("notices/_badge.html", takes_context=True)
def notices_badge(context):
    """The count beside "Notices" in the navigation: one count query, no Layers call."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"count": notices_unread_count(user=user) if user is not None else 0}
