"""The basket's QR code: a signed token naming the collective's schema and the booking, so that it cannot be
guessed or forged, and means nothing in another collective. The code holds a URL of the collective's site
(`/panier/<token>/`); the day page accepts that URL, the bare token, or a typed basket number."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import segno
from django.core import signing
from django.utils.translation import gettext as _

SALT = "etal.basket-code"
CODE_MAX_LENGTH = 400


class BasketCodeRefused(Exception):
    """The code cannot be used here; str() is the French message shown to staff."""


@dataclass(frozen=True)
class BasketQuery:
    """What a scan or a typed entry asks for: a basket number (typed) or a booking (signed code)."""

    basket_number: int | None = None
    booking_id: int | None = None


def basket_code(*, schema_name: str, booking_id: int) -> str:
    return signing.dumps([schema_name, booking_id], salt=SALT)


def basket_code_url(*, base_url: str, schema_name: str, booking_id: int) -> str:
    return f"{base_url}/panier/{basket_code(schema_name=schema_name, booking_id=booking_id)}/"


def basket_query(*, entry: str, schema_name: str) -> BasketQuery:
    """Read what staff typed or scanned. Raises BasketCodeRefused with a clear message."""
    entry = (entry or "").strip()
    if not entry:
        raise BasketCodeRefused(_("Tapez un numéro de panier ou scannez le code du membre."))
    if len(entry) > CODE_MAX_LENGTH:
        raise BasketCodeRefused(_("Ce code n'est pas un code de panier d'Étal."))
    typed = entry.removeprefix("n°").removeprefix("N°").strip()
    if typed.isdigit():
        number = int(typed)
        if number <= 0 or number > 10**6:
            raise BasketCodeRefused(_("Ce numéro de panier n'existe pas."))
        return BasketQuery(basket_number=number)
    match = re.search(r"/panier/([^/?#\s]+)/?", entry)
    token = match.group(1) if match else entry
    try:
        schema, booking_id = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise BasketCodeRefused(
            _("Ce code n'est pas un code de panier valide : tapez plutôt le numéro du panier.")
        ) from None
    if schema != schema_name or not isinstance(booking_id, int):
        raise BasketCodeRefused(_("Ce code est celui d'un panier d'un autre collectif : il ne vaut pas ici."))
    return BasketQuery(booking_id=booking_id)


def qr_svg(payload: str, *, title: str) -> str:
    """The QR code as an inline SVG element (no external service, nothing to fetch)."""
    return segno.make(payload, error="m").svg_inline(
        scale=5, border=2, light="#fff", title=title, svgclass="basket-qr"
    )


def qr_png(payload: str) -> bytes:
    """The QR code as a PNG, for the e-mail (mail programs show an attached image where SVG may not)."""
    out = io.BytesIO()
    segno.make(payload, error="m").save(out, kind="png", scale=6, border=3)
    return out.getvalue()
