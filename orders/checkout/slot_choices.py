"""The checkout's slot choices (one radio button per slot, its badge or places left, a waiting list's button
for a full one), written in Python rather than as a template: a distribution has dozens of slots, every
checkout page draws them all, and the template cost about a tenth of a millisecond each."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pickup_points.models import PickupSlot
from pickup_points.selectors import slot_when


def slot_items_html(slots: list[PickupSlot], *, chosen: str, mine: int | None) -> SafeString:
    """The `<li>` of each slot (`slot.my_wait`: the member's entry on its list, if any); `chosen`: the slot
    the form shows checked (its value as text); `mine`: the slot of the member's order."""
    days: dict = {}  # one day's words per day, not per slot
    out = []
    for slot in slots:
        when = slot_when(slot, days)
        wait = getattr(slot, "my_wait", None)
        held = bool(wait and wait.is_offered)
        full = not slot.is_bookable and slot.pk != mine and not held
        if slot.pk == mine:
            badge = f'<span class="badge">{escape(_("votre créneau"))}</span>'
        elif held:
            badge = f'<span class="badge">{escape(_("place réservée pour vous"))}</span>'
        elif not slot.is_open:
            badge = f'<span class="badge badge-out">{escape(_("Fermé"))}</span>'
        elif not slot.is_bookable:
            badge = f'<span class="badge badge-out">{escape(_("Complet"))}</span>'
        else:
            count = slot.remaining
            places = ngettext("%(counter)s place", "%(counter)s places", count) % {"counter": count}
            badge = f'<span class="meta">{escape(places)}</span>'
        after = ""
        if slot.is_open and full:
            if wait is not None:
                on_list = escape(_("vous êtes sur la liste d'attente"))
                after = f'<span class="meta">{on_list}</span>'
            else:
                url = reverse("slot_wait_join", args=[slot.pk])
                join = escape(_("M'inscrire sur la liste d'attente"))
                after = (
                    f'<button type="submit" class="button-secondary" formaction="{url}" formnovalidate>'
                    f"{join}</button>"
                )
        label = '<label class="is-full">' if full else "<label>"
        out.append(
            f"<li>\n{label}\n"
            f'<input type="radio" name="slot" value="{slot.pk}"'
            f"{' checked' if chosen == str(slot.pk) else ''}{' disabled' if full else ''}>\n"
            f"{escape(when)}\n{badge}\n</label>\n{after}\n</li>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every text above is escaped
