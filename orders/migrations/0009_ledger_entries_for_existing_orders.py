"""Entries for the orders, payments and refunds made before the ledger, so that every balance shown stays
what it was: the due of each placed order, each payment received, each refund not failed (the same
projection as orders.ledger.services.ledger_order_sync, on the historical models)."""

from decimal import Decimal

from django.db import migrations

ON_SITE = {"cash": "Espèces, sur place", "cheque": "Chèque, sur place", "transfer": "Virement bancaire"}
ON_SITE["food_voucher"] = "Chèques alimentaires / titres-restaurant, sur place"


def entries_write(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    LedgerEntry = apps.get_model("orders", "LedgerEntry")
    rows = []
    orders = Order.objects.prefetch_related("lines", "payments__refunds").order_by("pk")
    for order in orders.iterator(chunk_size=500):
        at = order.created_at
        if order.status == "placed":
            total = sum(
                (
                    line.weighed_amount if line.weighed_amount is not None else line.amount
                    for line in order.lines.all()
                ),
                Decimal("0"),
            )
            if total:
                rows.append(
                    LedgerEntry(
                        user_id=order.user_id,
                        order=order,
                        kind="order_due",
                        amount=-total,
                        reason=f"Commande n° {order.number}",
                        created_at=at,
                    )
                )
        for payment in order.payments.all():
            if payment.status == "succeeded" and payment.amount:
                if payment.method in ON_SITE:
                    kind, reason = "onsite_payment", ON_SITE[payment.method]
                    if payment.note:
                        reason = f"{reason} ({payment.note})"
                elif payment.capture_method == "manual":
                    kind, reason = "capture", "Carte débitée après pesée"
                else:
                    kind, reason = "card_payment", "Paiement par carte"
                rows.append(
                    LedgerEntry(
                        user_id=order.user_id,
                        order=order,
                        kind=kind,
                        amount=payment.amount,
                        reason=reason[:200],
                        method=payment.method,
                        payment=payment,
                        created_at=payment.created_at,
                    )
                )
            for refund in payment.refunds.all():
                if refund.status != "failed":
                    rows.append(
                        LedgerEntry(
                            user_id=order.user_id,
                            order=order,
                            kind="refund",
                            amount=-refund.amount,
                            reason=refund.reason[:200],
                            method=payment.method,
                            payment=payment,
                            refund=refund,
                            created_at=refund.created_at,
                        )
                    )
        if len(rows) >= 2000:
            LedgerEntry.objects.bulk_create(rows)
            rows = []
    LedgerEntry.objects.bulk_create(rows)


def entries_remove(apps, schema_editor):
    apps.get_model("orders", "LedgerEntry").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_ledger_entries_and_member_accounts")]

    operations = [migrations.RunPython(entries_write, entries_remove)]
