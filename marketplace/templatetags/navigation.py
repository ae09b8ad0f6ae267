"""`{% nav_links as name %}`: the site header's links (includes/nav_links.html) into `name`, shown where
`{{ name }}` is (twice: wide, and folded into the phone's menu).

For a signed-in account the links depend only on the collective's kind and options, the account's roles in
it and the language: they are rendered once per such combination in each process and kept (a few hundred
bytes each, at most NAV_KEPT combinations), the sign-out form's CSRF token put in on each request. A visitor's
links carry the page's address (« se connecter » brings them back): rendered each time."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

NAV_TEMPLATE = "includes/nav_links.html"
NAV_KEPT = 4096
_CSRF_SLOT = "etal-nav-csrf-slot"  # rendered in place of the token, then replaced by this request's
_kept: dict[tuple, str] = {}


def _key(context) -> tuple | None:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return None
    collective = context.get("collective")
    membership = context.get("membership")
    return (
        None
        if collective is None
        else (collective.schema_name, collective.is_buying_group, collective.allow_cooptation),
        None if membership is None else (membership.is_active, tuple(sorted(membership.roles))),
        get_language(),
        context.get("platform_url"),
    )


def _render(context, **extra) -> str:
    nav = context.template.engine.get_template(NAV_TEMPLATE)
    with context.push(**extra):
        return nav.render(context)


def nav_links_html(context) -> SafeString:
    key = _key(context)
    if key is None:
        return mark_safe(_render(context))  # noqa: S308 - rendered by the template
    html = _kept.get(key)
    if html is None:
        html = _render(context, csrf_token=_CSRF_SLOT)
        if len(_kept) >= NAV_KEPT:
            _kept.clear()
        _kept[key] = html
    return mark_safe(html.replace(_CSRF_SLOT, str(context.get("csrf_token", ""))))  # noqa: S308


class NavLinksNode(template.Node):
    def __init__(self, name: str):
        self.name = name

    def render(self, context) -> str:
        context[self.name] = nav_links_html(context)
        return ""


@register.tag(name="nav_links")
def do_nav_links(parser, token) -> NavLinksNode:
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("usage: {% nav_links as name %}")
    return NavLinksNode(bits[2])
