"""What a checkout costs the database, and what it makes other checkouts wait for (issue 21, item 2).

The number of statements is a regression guard (speed itself is measured by bench/order_load.py). The
basket number is taken at the very end of the transaction: a checkout that is held up half-way (here, by the
same member's other checkout, still open) does not hold up the other members' checkouts of the sale."""

import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from marketplace.models import Membership, Role, User
from orders import locks
from orders.checkout import services as checkout_services
from orders.models import Order, PaymentMethod
from pickup_points.models import SlotBooking

pytestmark = pytest.mark.django_db(transaction=True)

# The whole POST: tenant, session, account (5, as every page), the sale with the membership and the shop
# settings, the order (its lines with it; its ledger entry, history and follow-up together), the cart dropped
# from the session; transaction control (BEGIN, COMMIT) is not counted, savepoints would be.
CHECKOUT_STATEMENTS = 14


def test_a_checkout_posts_in_at_most_fourteen_statements_whatever_the_basket(
    browse, alpha, market, real_worker
):
    """Outside any test transaction and with a real worker for the confirmation e-mail, as in production:
    every savepoint would be counted, and the e-mail's own statements are not the checkout's."""
    counts = []
    for member, basket in [
        (alpha.member, {market.tomatoes: 2}),
        (alpha.staff, {market.tomatoes: 1, market.cheese: 3, market.beef: 1, market.wine: 2}),
    ]:
        Membership.objects.filter(user=member, collective=alpha.collective).update(roles=[Role.MEMBER])
        client = browse(alpha, member)
        cart = client.post(
            f"/ventes/{market.sale.pk}/", {f"qty_{offer.pk}": qty for offer, qty in basket.items()}
        )
        assert cart.status_code == 302
        slot = market.slots[1]
        with CaptureQueriesContext(connection) as captured:
            placed = client.post(
                f"/ventes/{market.sale.pk}/commander/",
                {"slot": slot.pk, "payment_method": PaymentMethod.CASH},
            )
        order = Order.objects.get(user=member)
        assert placed.status_code == 302 and placed["Location"] == f"/commandes/{order.pk}/"
        statements = [
            query["sql"] for query in captured.captured_queries if query["sql"] not in {"BEGIN", "COMMIT"}
        ]
        assert not [sql for sql in statements if sql.startswith("SAVEPOINT")], statements
        assert len(statements) <= CHECKOUT_STATEMENTS, "\n".join(statements)
        counts.append(len(statements))
        assert order.lines.count() == len(basket) and order.booking.slot_id == slot.pk
    assert counts[0] == counts[1]  # four lines cost what one does
    assert sorted(SlotBooking.objects.values_list("basket_number", flat=True)) == [1, 2]


def _member(alpha, number: int) -> User:
    user = User.objects.create_user(email=f"basket{number}@race.test", password="x")
    Membership.objects.create(user=user, collective=alpha.collective, roles=[Role.MEMBER])
    return user


def _backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def _waits_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def test_a_checkout_held_up_half_way_does_not_hold_up_the_others(market, alpha):
    """Anna's checkout waits on her own other checkout, still open (a double click); meanwhile Bruno
    orders, commits and gets basket n° 1. Then Anna's other checkout gives up, and hers gets n° 2."""
    anna, bruno = _member(alpha, 1), _member(alpha, 2)
    other_open, other_may_end = threading.Event(), threading.Event()
    pids: dict[str, int] = {}
    done: dict[str, object] = {}

    def anna_other_checkout():  # her first click: an order row written, its transaction not ended
        connection.set_tenant(alpha.collective)
        try:
            with transaction.atomic():
                Order.objects.create(sale=market.sale, user=anna, number="held-open", payment_method="cash")
                other_open.set()
                other_may_end.wait(60)
                transaction.set_rollback(True)  # it is refused in the end (say, the stock ran out)
        finally:
            connection.close()

    def checkout(name, user, offer, slot):
        connection.set_tenant(alpha.collective)
        try:
            pids[name] = _backend_pid()
            done[name] = checkout_services.order_place(
                sale_id=market.sale.pk,
                user=user,
                quantities={offer.pk: 1},
                slot_id=slot.pk,
                payment_method=PaymentMethod.CASH,
            )
        except Exception as error:  # noqa: BLE001 - reported by the assertions below
            done[name] = error
        finally:
            connection.close()

    def until(condition) -> bool:
        for _ in range(600):  # a liveness guard only: what is asserted is who waits on whom
            if condition():
                return True
            time.sleep(0.05)
        return False

    slots = market.slots
    holder = threading.Thread(target=anna_other_checkout)
    holder.start()
    assert other_open.wait(30)
    anna_thread = threading.Thread(target=checkout, args=("anna", anna, market.tomatoes, slots[0]))
    anna_thread.start()
    try:
        assert until(lambda: "anna" in pids and _waits_on_a_lock(pids["anna"]))
        bruno_thread = threading.Thread(target=checkout, args=("bruno", bruno, market.cheese, slots[1]))
        bruno_thread.start()
        # Bruno's checkout ends by itself, while Anna's is still held: it never waited on hers.
        assert until(lambda: "bruno" in done or ("bruno" in pids and _waits_on_a_lock(pids["bruno"])))
        bruno_thread.join(30)
        assert isinstance(done.get("bruno"), Order), done
        assert "anna" not in done and _waits_on_a_lock(pids["anna"])
    finally:
        other_may_end.set()
        holder.join(30)
        anna_thread.join(30)
    assert isinstance(done["anna"], Order), done
    assert (done["bruno"].basket_number, done["anna"].basket_number) == (1, 2)
    connection.set_tenant(alpha.collective)
    numbers = dict(Order.objects.values_list("user_id", "booking__basket_number"))
    assert numbers == {bruno.pk: 1, anna.pk: 2}


def test_a_double_click_places_one_order_and_says_so(market, alpha):
    """The same member's two checkouts at once: one order, the other told as if it came second."""
    member = _member(alpha, 3)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click():
        connection.set_tenant(alpha.collective)
        try:
            barrier.wait()
            checkout_services.order_place(
                sale_id=market.sale.pk,
                user=member,
                quantities={market.tomatoes.pk: 2},
                slot_id=market.slots[0].pk,
                payment_method=PaymentMethod.CASH,
            )
            outcomes.append("placed")
        except checkout_services.OrderRefused as refusal:
            outcomes.append(str(refusal))
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    connection.set_tenant(alpha.collective)
    assert sorted(outcomes) == [
        "Vous avez déjà une commande pour cette vente : modifiez-la plutôt.",
        "placed",
    ]
    market.tomatoes.refresh_from_db()
    assert market.tomatoes.sold == 2 and SlotBooking.objects.get().basket_number == 1
    assert market.slots[0].reserved == 1


def test_a_sale_read_prepared_by_the_server_still_works_after_a_migration_adds_a_column(market):
    """Statements are prepared by PostgreSQL on each connection (config.settings), and web workers keep
    their connections while a deployment migrates from another one. The sale is read with its columns
    named, so a column added meanwhile does not make their next checkout fail (a prepared `SELECT *` would:
    « cached plan must not change result type »)."""
    for _ in range(3):  # prepared from the second run on
        assert locks.sale_share(market.sale.pk).pk == market.sale.pk
        assert locks.sale_share_for_member(market.sale.pk, 0).member_has_order is False
    table = f'"{connection.schema_name}".orders_sale'
    migrating = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    try:
        migrating.execute(f"ALTER TABLE {table} ADD COLUMN added_by_a_migration integer")
        assert locks.sale_share(market.sale.pk).title == market.sale.title
        assert locks.sale_share_for_member(market.sale.pk, 0).title == market.sale.title
    finally:
        migrating.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS added_by_a_migration")
        migrating.close()


def _order_and_lines(market, user, number: str, name: str = "Tomates"):
    order = Order(sale=market.sale, user=user, number=number, payment_method=PaymentMethod.CASH)
    offers = {offer.pk: offer for offer in (market.tomatoes, market.beef, market.wine)}
    quantities = {market.tomatoes.pk: 2, market.beef.pk: 1, market.wine.pk: 3}
    lines = checkout_services.order_lines_build(order, offers, quantities)
    for line in lines:
        if line.offer_id == market.tomatoes.pk:
            line.name = name
    order.total = sum(line.amount for line in lines)
    return order, lines


def _rows(order):
    from orders.models import OrderLine

    skip = {"id", "order", "number", "created_at", "updated_at"}
    fields = [field.attname for field in Order._meta.concrete_fields if field.name not in skip]
    line_fields = [field.attname for field in OrderLine._meta.concrete_fields if field.name not in skip]
    return (
        Order.objects.filter(pk=order.pk).values(*fields).get(),
        list(OrderLine.objects.filter(order=order).order_by("offer_id").values(*line_fields)),
    )


def test_an_order_and_its_lines_written_in_one_statement_are_what_save_writes(alpha, market):
    """The checkout writes the order and its lines with one statement (marketplace.inserts): the rows are
    those Django's save() and bulk_create() write, defaults, empty weights and amounts included, and the
    lines know their ids and their order."""
    from marketplace.inserts import insert_with_children
    from orders.models import OrderLine

    ours, our_lines = _order_and_lines(market, alpha.member, "1-ours")
    with CaptureQueriesContext(connection) as captured:
        insert_with_children(ours, our_lines, fk="order")
    assert len(captured.captured_queries) == 1
    django, django_lines = _order_and_lines(market, alpha.staff, "1-django")
    django.save()
    OrderLine.objects.bulk_create(django_lines)
    ours_rows, django_rows = _rows(ours), _rows(django)
    ours_rows[0].pop("user_id"), django_rows[0].pop("user_id")
    assert ours_rows == django_rows
    assert [line.pk for line in our_lines] == list(
        OrderLine.objects.filter(order=ours).order_by("pk").values_list("pk", flat=True)
    )
    assert all(line.order_id == ours.pk for line in our_lines)
    assert Order.objects.get(pk=ours.pk).created_at == ours.created_at


def test_a_text_too_long_for_its_column_is_refused_not_cut(alpha, market):
    from django.db import DataError

    from marketplace.inserts import insert_with_children
    from orders.models import OrderLine

    order, lines = _order_and_lines(market, alpha.member, "1-long", name="T" * 121)
    with pytest.raises(DataError), transaction.atomic():
        insert_with_children(order, lines, fk="order")
    assert not Order.objects.filter(number="1-long").exists() and not OrderLine.objects.exists()


def test_rows_recorded_together_are_written_once_the_block_ends_or_not_at_all(alpha, market):
    """marketplace.inserts.together: the history rows and follow-up a service records inside the block are
    written by one statement as it ends, with their ids; none if the block fails; a block in a block is a
    mistake, said at once."""
    from marketplace import followups, inserts
    from marketplace.models import FollowUp
    from orders.events import order_event
    from orders.models import OrderEvent

    order, lines = _order_and_lines(market, alpha.member, "1-together")
    inserts.insert_with_children(order, lines, fk="order")
    with CaptureQueriesContext(connection) as captured, inserts.together():
        first = order_event(order=order, kind=OrderEvent.Kind.UPDATED, note="un")
        second = order_event(order=order, kind=OrderEvent.Kind.UPDATED, note="deux")
        later = followups.followup_add("orders.tasks.order_confirmation_send", delay=timedelta(hours=1), x=1)
        assert first.pk is None and not OrderEvent.objects.filter(order=order).exists()
    assert len(captured.captured_queries) == 2  # the read above, then the one write
    assert list(OrderEvent.objects.filter(order=order).order_by("pk").values_list("pk", "note")) == [
        (first.pk, "un"),
        (second.pk, "deux"),
    ]
    written = FollowUp.objects.get(pk=later.pk)
    assert (written.kwargs, written.schema_name, written.queued_at) == (
        {"x": 1},
        connection.schema_name,
        None,
    )

    with pytest.raises(checkout_services.OrderRefused), inserts.together():
        order_event(order=order, kind=OrderEvent.Kind.UPDATED, note="perdu")
        raise checkout_services.OrderRefused("refusée après coup")
    assert not OrderEvent.objects.filter(note="perdu").exists()
    with pytest.raises(RuntimeError, match="nest"), inserts.together(), inserts.together():
        pass
    with inserts.together():  # nothing recorded: nothing written, and the next block starts afresh
        pass
    with inserts.together():
        order_event(order=order, kind=OrderEvent.Kind.UPDATED, note="ensuite")
    assert OrderEvent.objects.filter(note="ensuite").exists()
