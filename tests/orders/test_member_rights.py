"""Members' rights with orders: « Mes données » holds what is theirs, leaving cancels a running order, and
a deleted account leaves amounts for accounting and its name nowhere."""

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from marketplace.models import Membership, Role, User
from orders.checkout import services as checkout_services
from orders.models import Offer, Order, PaymentMethod, Refund, Sale, Sheet
from orders.payments import services as payment_services
from orders.sheets import services as sheet_services
from pickup_points.models import PickupSlot, SlotBooking
from tests.conftest import PASSWORD, text


def _pdf_text(sheet: Sheet) -> str:
    with sheet.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return " ".join("\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ").split())


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _order(market, user, slot_index=0, **quantities):
    return checkout_services.order_place(
        sale_id=market.sale.pk,
        user=user,
        quantities={getattr(market, name).pk: qty for name, qty in quantities.items()},
        slot_id=market.slots[slot_index].pk,
        payment_method=PaymentMethod.CASH,
    )


@pytest.fixture
def bernard(alpha):
    other = User.objects.create_user(
        email="bernard@alpha.test", password="x", first_name="Bernard", last_name="Lafon"
    )
    Membership.objects.create(user=other, collective=alpha.collective, roles=[Role.MEMBER])
    return other


def _close(sale):
    """The sale closed an hour ago (its distribution is still to come)."""
    now = timezone.now()
    Sale.objects.filter(pk=sale.pk).update(
        opens_at=now - timedelta(days=3), closes_at=now - timedelta(hours=1)
    )


def _export(client) -> dict:
    response = client.get("/mes-donnees/telecharger/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    return json.loads(response.content)


# Export -------------------------------------------------------------------------------------------------


def test_my_data_holds_my_order_payment_and_booking_and_not_another_members(
    browse, alpha, beta, market, bernard
):
    mine = _order(market, alpha.member, tomatoes=2)
    payment_services.onsite_payment_record(
        order_id=mine.pk, method=PaymentMethod.CASH, amount=Decimal("5.00"), note="", by=alpha.coordinator
    )
    theirs = _order(market, bernard, slot_index=1, wine=1)

    data = _export(browse(alpha, alpha.member))

    assert data["account"]["email"] == alpha.member.email
    assert data["account"]["last_name"] == alpha.member.last_name
    [collective] = data["collectives"]  # alpha only: the member is not in beta
    assert collective["collective"] == "Drive Alpha"
    assert collective["membership"]["roles"] == ["Membre"]
    [order] = collective["orders"]
    assert order["number"] == mine.number and order["total"] == "5.00"
    assert order["lines"][0]["product"] == "Tomates" and order["lines"][0]["quantity"] == 2
    assert order["payments"][0]["amount"] == "5.00"
    assert [event["kind"] for event in order["events"]] == ["placed"]
    [booking] = collective["slot_bookings"]
    assert booking["point"] == "Salle des fêtes" and booking["basket_number"] == mine.basket_number
    raw = json.dumps(data, ensure_ascii=False)
    assert theirs.number not in raw and "Bernard" not in raw and "Vin de Buzet" not in raw
    assert "Groupement Beta" not in raw


def test_my_data_covers_every_collective_i_belong_to(browse, alpha, beta, market):
    Membership.objects.create(user=alpha.member, collective=beta.collective, roles=[Role.MEMBER])
    _order(market, alpha.member, cheese=1)
    # From beta's host too: the file is about the account, across collectives.
    data = _export(browse(beta, alpha.member))
    by_name = {entry["collective"]: entry for entry in data["collectives"]}
    assert set(by_name) == {"Drive Alpha", "Groupement Beta"}
    assert len(by_name["Drive Alpha"]["orders"]) == 1
    assert by_name["Groupement Beta"]["orders"] == []


def test_my_data_needs_signing_in(browse, alpha):
    response = browse(alpha).get("/mes-donnees/telecharger/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# Leaving ------------------------------------------------------------------------------------------------


def test_leaving_cancels_the_running_order_and_gives_stock_slot_and_money_back(browse, alpha, market):
    order = _order(market, alpha.member, tomatoes=4, wine=2)
    payment_services.onsite_payment_record(
        order_id=order.pk, method=PaymentMethod.CASH, amount=Decimal("29.80"), note="", by=alpha.coordinator
    )
    client = browse(alpha, alpha.member)
    confirm = text(client.get("/quitter/"))
    assert "Quitter « Drive Alpha »" in confirm and "est annulée" in confirm

    response = client.post("/quitter/")

    assert response.status_code == 302
    assert not Membership.objects.filter(user=alpha.member, collective=alpha.collective).exists()
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Offer.objects.get(pk=market.tomatoes.pk).sold == 0
    assert Offer.objects.get(pk=market.wine.pk).sold == 0
    assert PickupSlot.objects.get(pk=market.slots[0].pk).reserved == 0
    assert Refund.objects.get(payment__order=order).amount == Decimal("29.80")
    # The order stays for accounting, no longer linked to the person.
    assert order.user.is_erased and order.user != alpha.member
    assert "Maud" not in text(browse(alpha, alpha.coordinator).get(f"/ventes/{market.sale.pk}/commandes/"))
    # The account itself lives on.
    alpha.member.refresh_from_db()
    assert alpha.member.is_active and alpha.member.first_name == "Maud"


def test_an_order_of_a_closed_sale_stays_for_the_distribution_without_a_name(browse, alpha, market):
    order = _order(market, alpha.member, tomatoes=1)
    _close(market.sale)
    browse(alpha, alpha.member).post("/quitter/")
    order.refresh_from_db()
    assert order.is_placed and order.total == Decimal("2.50")
    assert order.user.display_name == "Membre supprimé·e"
    assert SlotBooking.objects.get(pk=order.booking_id).user == order.user


def test_the_last_coordinator_cannot_leave(browse, alpha):
    response = browse(alpha, alpha.coordinator).post("/quitter/")
    assert response.status_code == 400
    assert "dernier·e coordinateur·rice" in text(response) and "nommez d'abord" in text(response)
    assert Membership.objects.filter(user=alpha.coordinator, collective=alpha.collective).exists()


def test_a_coordinator_leaves_once_another_one_is_named(browse, alpha):
    Membership.objects.filter(user=alpha.staff, collective=alpha.collective).update(
        roles=[Role.POINT_STAFF, Role.COORDINATOR]
    )
    assert browse(alpha, alpha.coordinator).post("/quitter/").status_code == 302
    assert not Membership.objects.filter(user=alpha.coordinator, collective=alpha.collective).exists()


def test_leaving_needs_a_membership_here(browse, alpha, beta, public_host):
    assert browse(beta, alpha.member).post("/quitter/").status_code == 403
    assert browse(public_host, alpha.member).post("/quitter/").status_code == 404
    assert Membership.objects.filter(user=alpha.member, collective=alpha.collective).exists()


def test_leaving_needs_a_post(browse, alpha):
    browse(alpha, alpha.member).get("/quitter/")
    assert Membership.objects.filter(user=alpha.member, collective=alpha.collective).exists()


# Deleting the account -----------------------------------------------------------------------------------


def test_a_deleted_account_leaves_amounts_and_no_name_in_pages_and_sheets(
    browse, alpha, market, media_root, bernard
):
    alpha.member.phone = "06 11 22 33 44"
    alpha.member.save()
    kept = _order(market, alpha.member, tomatoes=4)
    _order(market, bernard, slot_index=1, wine=1)
    _close(market.sale)
    before = {sheet.kind: _pdf_text(sheet) for sheet in sheet_services.sheets_render(sale_id=market.sale.pk)}
    assert "Maud" in before["point"]

    client = browse(alpha, alpha.member)
    assert "définitive" in text(client.get("/mes-donnees/supprimer-mon-compte/"))
    wrong = client.post("/mes-donnees/supprimer-mon-compte/", {"password": "pas-le-bon"})
    assert wrong.status_code == 400 and User.objects.get(pk=alpha.member.pk).is_active
    response = client.post("/mes-donnees/supprimer-mon-compte/", {"password": PASSWORD})
    assert response.status_code == 302

    gone = User.objects.get(pk=alpha.member.pk)
    assert gone.email == f"deleted-{gone.pk}@invalid" and not gone.is_active
    assert (gone.first_name, gone.last_name, gone.phone) == ("", "", "")
    assert not gone.has_usable_password()
    assert not Membership.objects.filter(user=gone).exists()
    kept.refresh_from_db()
    assert kept.is_placed and kept.total == Decimal("10.00")  # accounting keeps the amount

    secrets = ["Maud", "Member-alpha", "member@alpha.test", "06 11 22 33 44"]
    coordinator = browse(alpha, alpha.coordinator)
    for url in [f"/ventes/{market.sale.pk}/commandes/", "/membres/", f"/ventes/{market.sale.pk}/paiements/"]:
        page = text(coordinator.get(url))
        assert not [secret for secret in secrets if secret in page], url
    assert "Membre supprimé·e" in text(coordinator.get(f"/ventes/{market.sale.pk}/commandes/"))
    csv = coordinator.get(f"/ventes/{market.sale.pk}/commandes.csv").content.decode()
    assert not [secret for secret in secrets if secret in csv]

    connection.set_tenant(alpha.collective)
    after = {sheet.kind: _pdf_text(sheet) for sheet in sheet_services.sheets_render(sale_id=market.sale.pk)}
    for kind, sheet_text in after.items():
        assert not [secret for secret in secrets if secret in sheet_text], kind
    assert "Membre supprimé·e" in after["point"] and "Bernard Lafon" in after["point"]
    assert "10,00" in after["point"]

    # Signed out, and the old password no longer opens anything.
    assert browse(alpha).login(email="member@alpha.test", password=PASSWORD) is False


def test_deleting_the_account_cancels_running_orders_in_every_collective(browse, alpha, market):
    order = _order(market, alpha.member, tomatoes=3)
    response = browse("localhost", alpha.member).post(
        "/mes-donnees/supprimer-mon-compte/", {"password": PASSWORD}
    )
    assert response.status_code == 302
    connection.set_tenant(alpha.collective)  # the request ran on the public site
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Offer.objects.get(pk=market.tomatoes.pk).sold == 0
    assert PickupSlot.objects.get(pk=market.slots[0].pk).reserved == 0


def test_the_last_coordinator_cannot_delete_their_account(browse, alpha):
    response = browse(alpha, alpha.coordinator).post(
        "/mes-donnees/supprimer-mon-compte/", {"password": PASSWORD}
    )
    assert response.status_code == 400 and "nommez d'abord" in text(response)
    assert User.objects.get(pk=alpha.coordinator.pk).is_active


def test_leaving_refunds_a_card_payment_through_stripe(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks, mailoutbox
):
    from tests.orders.test_payments import _back_from_stripe, _place_card_order, _session_id

    client, response, order = _place_card_order(browse, alpha, card_market)
    _back_from_stripe(client, stripe_on.pay(_session_id(response)))
    order.refresh_from_db()
    assert order.payment_status == "paid"

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/quitter/").status_code == 302

    order.refresh_from_db()
    refund = Refund.objects.get(payment__order=order)
    assert order.status == Order.Status.CANCELLED
    assert refund.amount == Decimal("5.00") and refund.status == Refund.Status.SUCCEEDED
    assert refund.stripe_refund_id  # Stripe (the double) was asked and answered
    assert order.payment_status == "refunded"
    assert not [mail for mail in mailoutbox if any("@invalid" in to for to in mail.to)]


def test_leaving_hands_the_ledger_and_fund_gifts_to_the_anonymous_account(browse, alpha, market):
    """Money a member paid in or gave to the solidarity fund stays in the books, with no name on it."""
    from orders.ledger import fund
    from orders.ledger import services as ledger_services
    from orders.models import LedgerEntry, MemberAccount

    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH], credit_allowed=True)
    ledger_services.topup_record(
        user_id=alpha.member.pk,
        amount=Decimal("10.00"),
        method=PaymentMethod.CASH,
        note="",
        by=alpha.coordinator,
    )
    client = browse(alpha, alpha.member)
    given = client.post("/mon-solde/donner/", {"kind": LedgerEntry.Kind.GIFT, "amount": "4,00"})
    assert given.status_code == 302
    ledger_services.fund_gift_record(
        user_id=alpha.member.pk,
        amount=Decimal("3.00"),
        kind=LedgerEntry.Kind.SUSPENDED_BASKET,
        method=PaymentMethod.CASH,
        note="",
        by=alpha.coordinator,
    )
    assert fund.fund_balance() == Decimal("7.00")
    coordinator = browse(alpha, alpha.coordinator)
    assert "Maud" in text(coordinator.get("/reglages/fonds-solidaire/"))

    assert client.post("/quitter/").status_code == 302

    assert fund.fund_balance() == Decimal("7.00")  # the fund keeps every euro
    assert not LedgerEntry.objects.filter(user=alpha.member).exists()
    assert not MemberAccount.objects.filter(user=alpha.member).exists()
    ghost_account = MemberAccount.objects.get(user__email__endswith="@invalid")
    assert ghost_account.balance == Decimal("6.00")  # what is still owed to the person stays in the books
    assert "Maud" not in text(coordinator.get("/reglages/fonds-solidaire/"))
    assert "Maud" not in text(coordinator.get("/tresorerie/"))
