"""`{{ slot|slot_when }}` → « vendredi 18 décembre, 17:00 – 17:15 » (in the active language)."""

from __future__ import annotations

from django import template

from pickup_points.selectors import slot_when

register = template.Library()
register.filter("slot_when", slot_when)
