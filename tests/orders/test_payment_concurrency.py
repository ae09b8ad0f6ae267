"""Money under concurrency, on the real PostgreSQL with real threads: goodwill refunds asked at the same
moment never add up to more than the order costs (the order row lock in payment_services.refund_create)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from orders.checkout import services as checkout_services
from orders.models import Order, PaymentMethod, PaymentStatus, Refund
from orders.payments import services as payment_services

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(alpha, count: int, work) -> tuple[list[str], list[str]]:
    barrier = threading.Barrier(count)
    outcomes, unexpected = [], []

    def run(index):
        connection.set_tenant(alpha.collective)
        try:
            barrier.wait()
            work(index)
            outcomes.append("done")
        except payment_services.PaymentRefused:
            outcomes.append("refused")
        except Exception as error:  # noqa: BLE001 - any other error is a failure of the test
            unexpected.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.set_tenant(alpha.collective)
    return outcomes, unexpected


def test_coordinators_refunding_at_once_never_give_back_more_than_the_order_costs(market, alpha):
    order = checkout_services.order_place(
        sale_id=market.sale.pk,
        user=alpha.member,
        quantities={market.tomatoes.pk: 4},  # 10.00 €
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    payment_services.onsite_payment_record(
        order_id=order.pk, method=PaymentMethod.CASH, amount=order.total, note="", by=alpha.coordinator
    )
    outcomes, unexpected = _in_threads(
        alpha,
        8,
        lambda i: payment_services.refund_create(
            order_id=order.pk,
            amount=Decimal("4.00"),
            reason=f"Remboursement {i}",
            by=alpha.coordinator,
            kind=payment_services.RefundKind.GOODWILL,
        ),
    )
    assert unexpected == []
    assert outcomes.count("done") == 2 and outcomes.count("refused") == 6
    assert sum(refund.amount for refund in Refund.objects.all()) == Decimal("8.00")
    order = Order.objects.get(pk=order.pk)
    # 10.00 € less two goodwill gestures of 4.00 €: 2.00 € due, 2.00 € kept, nothing left to pay.
    assert order.payment_status == PaymentStatus.PAID
