"""`{{ amount|euros }}` → « 4,80 € » in French, « 4.80 € » in English (marketplace.money.euros)."""

from __future__ import annotations

from django import template

from marketplace.money import euros

register = template.Library()
register.filter("euros", euros)
