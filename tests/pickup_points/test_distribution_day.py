"""The distribution-day page of a pickup point: baskets with their contents and money, check-in, on-site
payments, weighing and final amounts, as staff, coordinators and producers see them on a phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace.models import Membership, Role, User
from orders.checkout import services as checkout_services
from orders.models import Offer, Order, OrderLine, Payment, PaymentMethod, PaymentStatus, Sale
from orders.payments import services as payment_services
from orders.sales import services as sale_services
from pickup_points import services as point_services
from pickup_points.models import PickupPoint, PickupSlot, SlotBooking
from producers import services as producer_services
from producers.models import Producer, Unit
from tests.conftest import PASSWORD, Cast, text, words
from tests.pickup_points.factories import enter, household


@dataclass
class Day:
    alpha: Cast
    point: PickupPoint  # the town hall, staffed by alpha.staff
    other_point: PickupPoint  # the social centre, staffed by `other_staff`
    other_staff: User
    farm: Producer  # managed by alpha.producer
    bakery: Producer  # managed by `baker`
    baker: User
    sale: Sale
    tomatoes: Offer  # farm, 2.50 €/kg, fixed
    roast: Offer  # farm, by weight: 24.00 €/kg, about 0.5 kg a piece
    bread: Offer  # bakery, 3.00 € a piece
    cheese: Offer  # bakery, by weight: 20.00 €/kg, about 0.4 kg a piece

    @property
    def url(self) -> str:
        return f"/points/{self.point.pk}/distributions/{self.sale.distribution_id}/"

    def slot(self, point: PickupPoint | None = None) -> PickupSlot:
        return (
            PickupSlot.objects.filter(distribution=self.sale.distribution, point=point or self.point)
            .order_by("starts_at")
            .first()
        )

    def order(self, number: int, offers: dict[Offer, int], *, point=None, method=PaymentMethod.CASH) -> Order:
        """Household `number` orders `offers` for pickup at `point` (the town hall by default)."""
        enter(self.alpha)
        return checkout_services.order_place(
            sale_id=self.sale.pk,
            user=household(self.alpha, number),
            quantities={offer.pk: quantity for offer, quantity in offers.items()},
            slot_id=self.slot(point).pk,
            payment_method=method,
        )

    def payment_url(self, order: Order) -> str:
        return f"/points/commandes/{order.pk}/paiement/"

    def settle_url(self, order: Order) -> str:
        return f"/points/commandes/{order.pk}/regler/"

    def weigh_url(self, line: OrderLine) -> str:
        return f"/points/lignes/{line.pk}/poids/"


def _person(cast: Cast, email: str, first_name: str, role: str) -> User:
    user = User.objects.create_user(email=email, password=PASSWORD, first_name=first_name, last_name="Day")
    Membership.objects.create(user=user, collective=cast.collective, roles=[role])
    return user


@pytest.fixture
def day(alpha) -> Day:
    other_staff = _person(alpha, "staff-centre@alpha.test", "Bérénice", Role.POINT_STAFF)
    baker = _person(alpha, "boulange@alpha.test", "Basile", Role.PRODUCER)
    enter(alpha)
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH, PaymentMethod.FOOD_VOUCHER])
    farm = producer_services.producer_create(name="Ferme du Pech", town="Nérac")
    bakery = producer_services.producer_create(name="Fournil de Layrac", town="Layrac")
    producer_services.producer_account_link(producer=farm, user=alpha.producer)
    producer_services.producer_account_link(producer=bakery, user=baker)
    products = {
        "tomatoes": producer_services.product_create(
            producer=farm, name="Tomates", price=Decimal("2.50"), unit=Unit.KG, stock=50
        ),
        "roast": producer_services.product_create(
            producer=farm,
            name="Rôti de bœuf",
            price=Decimal("24.00"),
            unit=Unit.KG,
            is_variable_weight=True,
            estimated_weight_kg=Decimal("0.5"),
            stock=50,
        ),
        "bread": producer_services.product_create(
            producer=bakery, name="Pain de campagne", price=Decimal("3.00"), unit=Unit.PIECE, stock=None
        ),
        "cheese": producer_services.product_create(
            producer=bakery,
            name="Fromage à la coupe",
            price=Decimal("20.00"),
            unit=Unit.KG,
            is_variable_weight=True,
            estimated_weight_kg=Decimal("0.4"),
            stock=50,
        ),
    }
    points = []
    for name, staff in [("Salle des fêtes de la mairie", alpha.staff), ("Centre social du Pin", other_staff)]:
        point = point_services.point_create(
            name=name, address="1 place", town="Agen", slot_minutes=30, slot_capacity=6
        )
        point_services.point_update(point=point, hours=[(d, time(17, 0), time(19, 0)) for d in range(7)])
        point.staff.add(staff)
        points.append(point)
    paris, when = timezone.get_current_timezone(), timezone.localdate() + timedelta(days=4)
    sale = sale_services.sale_create(
        title="Vente de la semaine",
        opens_at=timezone.now() - timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=2),
        distribution_starts_at=datetime.combine(when, time(17, 0), tzinfo=paris),
        distribution_ends_at=datetime.combine(when, time(19, 0), tzinfo=paris),
        points=points,
        producers=[farm, bakery],
        publish=True,
    )
    offers = {offer.product_id: offer for offer in sale.offers.all()}
    return Day(
        alpha=alpha,
        point=points[0],
        other_point=points[1],
        other_staff=other_staff,
        farm=farm,
        bakery=bakery,
        baker=baker,
        sale=sale,
        **{key: offers[product.pk] for key, product in products.items()},
    )


def test_staff_see_each_basket_and_record_a_cash_payment(browse, day):
    order = day.order(1, {day.tomatoes: 2, day.bread: 1})
    client = browse(day.alpha, day.alpha.staff)
    response = client.get(day.url)
    assert response.status_code == 200
    page = words(response)
    assert "n° 1 Foyer Numéro-1 06 00 00 00 01 attendu" in page
    assert 'href="tel:0600000001"' in text(response)
    assert "2 × Tomates 5,00 €" in page and "1 × Pain de campagne 3,00 €" in page
    assert "Espèces, sur place · à régler" in page
    assert "Dû 8,00 € Reçu 0,00 € Reste dû 8,00 €" in page
    assert f'name="order{order.pk}-amount" value="8,00"' in text(response)
    assert "Régler le montant final" not in page  # nothing weighed, nothing authorised: nothing to settle

    refused = client.post(
        day.payment_url(order), {f"order{order.pk}-method": "cash", f"order{order.pk}-amount": "abc"}
    )
    assert refused.status_code == 400
    assert "Indiquez un montant en euros, par ex. 12,50." in words(refused)
    assert '<details class="basket-pay no-print" open>' in text(refused)
    enter(day.alpha)
    assert not Payment.objects.exists()

    done = client.post(
        day.payment_url(order),
        {f"order{order.pk}-method": "cash", f"order{order.pk}-amount": "8,00", f"order{order.pk}-note": ""},
    )
    assert done.status_code == 302 and done["Location"] == f"{day.url}#panier-1"
    page = words(client.get(done["Location"]))
    assert "Panier n° 1 : paiement de 8,00 € enregistré." in page
    assert "Espèces, sur place · payée" in page
    assert "Dû 8,00 € Reçu 8,00 € Reste dû 0,00 €" in page
    enter(day.alpha)
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert Payment.objects.get().recorded_by_id == day.alpha.staff.pk


def test_a_partial_food_voucher_payment_and_a_coordinator(browse, day):
    order = day.order(1, {day.bread: 3}, method=PaymentMethod.FOOD_VOUCHER)
    client = browse(day.alpha, day.alpha.coordinator)
    page = text(client.get(day.url))
    assert '<option value="food_voucher" selected>' in page  # the method the member chose
    assert '<option value="card"' not in page  # a card is never taken on site
    prefix = f"order{order.pk}"
    client.post(day.payment_url(order), {f"{prefix}-method": "food_voucher", f"{prefix}-amount": "5"})
    page = words(client.get(day.url))
    assert "réglée en partie" in page and "Dû 9,00 € Reçu 5,00 € Reste dû 4,00 €" in page
    assert f'name="{prefix}-amount" value="4,00"' in text(client.get(day.url))


def test_weighing_sets_the_amount_and_the_final_amount_waits_for_it(browse, day):
    order = day.order(1, {day.roast: 2, day.tomatoes: 1})
    enter(day.alpha)
    line = order.lines.get(is_variable_weight=True)
    client = browse(day.alpha, day.alpha.staff)
    page = words(client.get(day.url))
    assert "Rôti de bœuf : 2 pièces ≈ 1 kg ≈ 24,00 € à peser ≈ 24,00 € Poids pesé (kg) : Rôti de bœuf" in page
    assert "Dû ≈ 26,50 €" in page
    assert "Régler le montant final" not in page

    refused = client.post(day.settle_url(order), follow=True)
    assert "Panier n° 1 : Pesez d'abord tous les produits au poids de cette commande." in words(refused)

    bad = client.post(day.weigh_url(line), {f"line{line.pk}-weight_kg": "lourd"})
    assert bad.status_code == 400
    assert "Indiquez le poids en kilogrammes, par ex. 1,250." in words(bad)

    weighed = client.post(day.weigh_url(line), {f"line{line.pk}-weight_kg": "0,950"})
    assert weighed.status_code == 302 and weighed["Location"] == f"{day.url}#panier-1"
    response = client.get(day.url)
    page = words(response)
    assert "Panier n° 1 : Rôti de bœuf pesé, 22,80 €." in page
    assert "Rôti de bœuf : 2 pièces, 950 g : 22,80 € 22,80 €" in page
    assert "Dû 25,30 €" in page and "≈" not in page
    assert f'name="line{line.pk}-weight_kg" value="0,950"' in text(response)

    settled = client.post(day.settle_url(order), follow=True)
    assert "Montant final réglé : 0,00 € débités, 0,00 € remboursés, 25,30 € restent dus." in words(settled)
    enter(day.alpha)
    line.refresh_from_db()
    assert line.weight_kg == Decimal("0.950") and line.weighed_amount == Decimal("22.80")


def test_a_member_who_did_not_come_stays_listed_as_not_collected(browse, day):
    order = day.order(1, {day.bread: 1})
    client = browse(day.alpha, day.alpha.staff)
    enter(day.alpha)
    booking = SlotBooking.objects.get(order=order)
    client.post(f"/points/{day.point.pk}/paniers/{booking.pk}/pointage/", {"collected": "0"})
    page = words(client.get(day.url))
    assert "Non retirés : 1" in page
    assert "n° 1 Foyer Numéro-1 06 00 00 00 01 non retiré" in page
    assert "1 × Pain de campagne 3,00 €" in page and "Reste dû 3,00 €" in page


def test_a_producer_weighs_only_their_own_products(browse, day):
    tomatoes_only = day.order(1, {day.tomatoes: 1})
    day.order(2, {day.cheese: 1})  # only the bakery's
    mixed = day.order(3, {day.roast: 1, day.cheese: 2, day.bread: 1})
    enter(day.alpha)
    roast = mixed.lines.get(offer=day.roast)
    cheese = mixed.lines.get(offer=day.cheese)
    client = browse(day.alpha, day.alpha.producer)
    response = client.get(day.url)
    assert response.status_code == 200
    page = words(response)
    assert "Paniers avec vos produits : 2" in page
    assert "n° 1 Foyer Numéro-1" in page and "n° 3 Foyer Numéro-3" in page
    assert "Foyer Numéro-2" not in page
    assert (
        "1 × Tomates 2,50 €" in page and "Rôti de bœuf : 1 pièce ≈ 500 g ≈ 12,00 € à peser ≈ 12,00 €" in page
    )
    assert "Fromage" not in page and "Pain" not in page  # another producer's products
    assert "06 00 00" not in page and "tel:" not in text(response)
    for hidden in ("Enregistrer un paiement", "Retiré", "Régler le montant final", "Reste dû", "Espèces"):
        assert hidden not in page, hidden
    assert text(response).count("Enregistrer le poids") == 1

    assert client.post(day.weigh_url(cheese), {f"line{cheese.pk}-weight_kg": "0,800"}).status_code == 404
    weighed = client.post(day.weigh_url(roast), {f"line{roast.pk}-weight_kg": "0,480"})
    assert weighed.status_code == 302 and weighed["Location"] == f"{day.url}#panier-3"
    assert "Rôti de bœuf : 1 pièce, 480 g : 11,52 € 11,52 €" in words(client.get(day.url))
    enter(day.alpha)
    cheese.refresh_from_db()
    assert cheese.weight_kg is None

    # Money and check-in are the staff's.
    prefix = f"order{tomatoes_only.pk}"
    assert (
        client.post(
            day.payment_url(tomatoes_only), {f"{prefix}-method": "cash", f"{prefix}-amount": "2,50"}
        ).status_code
        == 403
    )
    assert client.post(day.settle_url(mixed)).status_code == 403
    booking = SlotBooking.objects.get(order=tomatoes_only)
    assert (
        client.post(f"/points/{day.point.pk}/paniers/{booking.pk}/pointage/", {"collected": "1"}).status_code
        == 403
    )
    enter(day.alpha)
    assert not Payment.objects.exists()
    assert SlotBooking.objects.get(pk=booking.pk).status == SlotBooking.Status.BOOKED

    # The baker sees the three baskets holding bread or cheese… of which only two are at the town hall.
    baker = words(browse(day.alpha, day.baker).get(day.url))
    assert "Paniers avec vos produits : 2" in baker and "Tomates" not in baker and "Rôti" not in baker
    # Any point of the collective: none of the farm's products at the social centre.
    other = browse(day.alpha, day.alpha.producer).get(
        f"/points/{day.other_point.pk}/distributions/{day.sale.distribution_id}/"
    )
    assert other.status_code == 200
    assert "Aucun panier de ce point ne contient vos produits." in words(other)


def test_staff_of_another_point_members_and_visitors_are_refused(browse, day):
    order = day.order(1, {day.roast: 1})
    elsewhere = day.order(2, {day.bread: 1}, point=day.other_point)
    enter(day.alpha)
    line = order.lines.get()
    prefix = f"order{order.pk}"
    pay = {f"{prefix}-method": "cash", f"{prefix}-amount": "1,00"}
    weigh = {f"line{line.pk}-weight_kg": "1"}

    other_staff = browse(day.alpha, day.other_staff)
    assert other_staff.get(day.url).status_code == 404
    assert other_staff.post(day.payment_url(order), pay).status_code == 404
    assert other_staff.post(day.settle_url(order)).status_code == 404
    assert other_staff.post(day.weigh_url(line), weigh).status_code == 404

    # An order picked up elsewhere is not reachable through this point's page.
    staff = browse(day.alpha, day.alpha.staff)
    assert staff.post(day.payment_url(elsewhere), pay).status_code == 404
    assert staff.post(day.settle_url(elsewhere)).status_code == 404

    member = browse(day.alpha, day.alpha.member)
    assert member.get(day.url).status_code == 403
    assert member.post(day.payment_url(order), pay).status_code == 403
    assert member.post(day.settle_url(order)).status_code == 403
    assert member.post(day.weigh_url(line), weigh).status_code == 403

    visitor = browse(day.alpha).get(day.url)
    assert visitor.status_code == 302 and visitor["Location"].startswith("/accounts/login/")

    enter(day.alpha)
    assert not Payment.objects.exists()
    assert OrderLine.objects.get(pk=line.pk).weight_kg is None


def test_beta_people_get_nothing_of_alpha_baskets(browse, day, beta):
    order = day.order(1, {day.roast: 1})
    enter(day.alpha)
    line = order.lines.get()
    prefix = f"order{order.pk}"
    for person in (beta.coordinator, beta.staff, beta.producer, beta.member):
        for host in (day.alpha, beta):
            client = browse(host, person)
            response = client.get(day.url)
            assert response.status_code in {403, 404}, (person, host)
            assert "Foyer Numéro-1" not in text(response)
            for url, data in [
                (day.payment_url(order), {f"{prefix}-method": "cash", f"{prefix}-amount": "1"}),
                (day.settle_url(order), {}),
                (day.weigh_url(line), {f"line{line.pk}-weight_kg": "1"}),
            ]:
                assert client.post(url, data).status_code in {403, 404}, (person, host, url)
    enter(day.alpha)
    assert not Payment.objects.exists()
    assert OrderLine.objects.get(pk=line.pk).weight_kg is None


def test_the_query_count_does_not_grow_with_baskets(browse, day):
    def basket(number: int) -> None:
        order = day.order(number, {day.roast: 1, day.tomatoes: 2, day.cheese: 1})
        payment_services.onsite_payment_record(
            order_id=order.pk, method=PaymentMethod.CASH, amount=Decimal("30.00"), note="", by=day.alpha.staff
        )
        payment_services.refund_create(
            order_id=order.pk, amount=Decimal("1.00"), reason="Tomate abîmée", by=day.alpha.staff
        )

    def queries(who: User) -> int:
        client = browse(day.alpha, who)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(day.url).status_code == 200
        return len(captured)

    basket(1)
    one = {who: queries(who) for who in (day.alpha.staff, day.alpha.coordinator, day.alpha.producer)}
    basket(2)
    basket(3)
    three = {who: queries(who) for who in (day.alpha.staff, day.alpha.coordinator, day.alpha.producer)}
    assert three == one
    page = words(browse(day.alpha, day.alpha.staff).get(day.url))
    assert page.count("Remboursé 1,00 €") == 3
