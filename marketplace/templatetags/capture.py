"""`{% capture as name %}…{% endcapture %}`: the block rendered once into `name`, shown where `{{ name }}` is
(the site header shows the same navigation twice: wide, and folded into the phone's menu)."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


class CaptureNode(template.Node):
    def __init__(self, nodelist: template.NodeList, name: str):
        self.nodelist, self.name = nodelist, name

    def render(self, context) -> str:
        context[self.name] = mark_safe(self.nodelist.render(context))  # noqa: S308 - rendered by the template
        return ""


@register.tag(name="capture")
def do_capture(parser, token) -> CaptureNode:
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("usage: {% capture as name %}…{% endcapture %}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])
