"""Kept so templates that `{% load ads %}` keep working; the filters are builtins (ui.py)."""

from dashboard.templatetags.ui import register  # noqa: F401
