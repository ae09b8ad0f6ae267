"""The member's cart of a sale, kept in their session between the sale page and the checkout."""

from __future__ import annotations

from django.db import connection

from orders.models import Sale


def cart_key(sale: Sale) -> str:
    # Sessions may be shared by every collective of the platform (one cookie domain): key by schema too.
    return f"cart:{connection.schema_name}:{sale.pk}"  # type: ignore[attr-defined]


def cart(request, sale: Sale) -> dict[int, int]:
    return {int(offer_id): qty for offer_id, qty in request.session.get(cart_key(sale), {}).items()}


def cart_save(request, sale: Sale, quantities: dict[int, int]) -> None:
    request.session[cart_key(sale)] = {str(offer_id): qty for offer_id, qty in quantities.items()}


def cart_forget(request, sale: Sale) -> None:
    request.session.pop(cart_key(sale), None)
