"""What the waiting lists of slots (services) and of sold-out products (offers) share: the open sale they
work in, and their e-mails sent after the commit, once each."""

from __future__ import annotations

from django.db import connection

from marketplace import followups
from orders import locks
from orders.models import Sale


def open_sale_share(sale_id: int) -> Sale | None:
    """The sale held FOR SHARE (the closing waits for us, we wait for it), or None unless it is published
    and open; the lock is taken either way."""
    sale = locks.sale_share(sale_id)
    if sale is None or not sale.is_published or sale.status != Sale.Status.OPEN:
        return None
    return sale


def email_later(*, task: str, name: str, wait_id: int, kind: str, version: int | None = None) -> None:
    """The e-mail `kind` of an entry, sent by `task` once the caller's transaction commits, once only (the
    follow-up's key: `name` tells the kind of list; `version`, when given, lets the same kind be sent again
    once per version, e.g. once per number of units held)."""
    schema_name = connection.schema_name  # type: ignore[attr-defined]
    key = f"{schema_name}:{name}-{wait_id}:{kind}" + ("" if version is None else f":{version}")
    followups.followup_add(
        task,
        key=key,
        schema_name=schema_name,
        wait_id=wait_id,
        kind=kind,
    )
