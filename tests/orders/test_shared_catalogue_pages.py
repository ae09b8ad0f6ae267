"""The producer's one catalogue seen from both collectives, the coordinators' say, the producer's pages on the
public site, and nobody else seeing any of it."""

from __future__ import annotations

from decimal import Decimal

from django_tenants.utils import tenant_context

from marketplace.models import SharedListing, SharedProduct
from orders.checkout import services as checkout_services
from orders.models import PaymentMethod
from producers import services as producer_services
from producers import shared_catalogue
from producers.models import LinkStatus, Product, Unit
from tests.conftest import words
from tests.orders.test_central_stock import _member


def test_one_catalogue_is_shown_in_both_collectives_at_each_price(two_shops, alpha, beta, browse):
    assert "Crottin frais 2,20 €" in words(browse(alpha).get("/boutique/"))
    assert "Crottin frais 2,40 €" in words(browse(beta).get("/boutique/"))
    sale_b = two_shops["b"].sale
    page = words(browse(beta, beta.member).get(f"/ventes/{sale_b.pk}/"))
    assert "Crottin frais" in page


def test_a_collective_refusing_a_product_does_not_show_it(two_shops, alpha, beta, browse):
    claire = alpha.producer
    with tenant_context(alpha.collective):
        tomme = producer_services.product_create(
            producer=Product.objects.get(name="Crottin frais").producer,
            name="Tomme de chèvre",
            price=Decimal("24.00"),
            unit=Unit.KG,
            stock=5,
        )
    shared = shared_catalogue.shared_product_create_from(
        collective=alpha.collective, product_id=tomme.pk, user=claire
    )
    copy = shared_catalogue.shared_product_offer(shared=shared, collective=beta.collective, user=claire)
    coordinator = browse(beta, beta.coordinator)
    catalogue = words(coordinator.get(f"/producteurs/{two_shops['farm_b'].pk}/"))
    assert "Tomme de chèvre" in catalogue and "proposé, à accepter" in catalogue
    assert "Tomme de chèvre" not in words(browse(beta).get("/boutique/"))  # not before it is accepted

    # The producer has no say in the collective's place: neither the button nor the product form.
    assert (
        browse(beta, claire)
        .post(f"/produits/{copy.pk}/catalogue-commun/", {"decision": "accept"})
        .status_code
        == 403
    )
    response = coordinator.post(f"/produits/{copy.pk}/catalogue-commun/", {"decision": "refuse"}, follow=True)
    assert "« Tomme de chèvre » est refusé : il n'apparaît pas dans la boutique." in words(response)
    assert "Tomme de chèvre" not in words(browse(beta).get("/boutique/"))
    assert "Tomme de chèvre" in words(browse(alpha).get("/boutique/"))
    with tenant_context(beta.collective):
        refused = Product.objects.get(pk=copy.pk)
        assert (refused.link_status, refused.is_active) == (LinkStatus.REFUSED, False)
    form = browse(beta, claire).post(
        f"/produits/{copy.pk}/",
        {"name": "Tomme de chèvre", "unit": "kg", "price": "24,00", "vat_rate": "5.5", "is_active": "on"},
    )
    assert form.status_code == 400
    assert "n'a pas été accepté par le collectif : il ne peut pas être mis en vente" in words(form)
    assert (
        coordinator.post(f"/produits/{copy.pk}/catalogue-commun/", {"decision": "?"}, follow=True).status_code
        == 200
    )


def test_the_producer_sees_one_catalogue_and_sales_of_both_collectives(
    two_shops, alpha, beta, browse, public_host
):
    a, b = two_shops["a"], two_shops["b"]
    for side, email, quantity in [(a, "m1@x.test", 3), (b, "m2@x.test", 2)]:
        with tenant_context(side.collective):
            checkout_services.order_place(
                sale_id=side.sale.pk,
                user=_member(side.collective, email),
                quantities={side.offer.pk: quantity},
                slot_id=side.slots()[0].pk,
                payment_method=PaymentMethod.CASH,
            )
    claire = browse(public_host, alpha.producer)
    catalogue = words(claire.get("/mon-catalogue/"))
    assert "Crottin frais 10 5 5" in catalogue  # stock, ordered not delivered, available
    assert (
        "Drive Alpha : 2,20 € · en vente" in catalogue and "Groupement Beta : 2,40 € · en vente" in catalogue
    )
    assert "Drive Alpha Yaourt" in catalogue and "Mettre en commun" in catalogue

    sales = words(claire.get("/mes-ventes/"))
    assert "Drive Alpha · Vente de la semaine" in sales and "Groupement Beta · Vente de la semaine" in sales
    assert "Point alpha, 1 place, Agen" in sales and "Point beta, 1 place, Agen" in sales
    assert "Crottin frais 3 × pièce" in sales and "Crottin frais 2 × pièce" in sales
    # The collective's own « Mes ventes » still shows its statements, and points to the page across them.
    assert "Mes ventes dans tous mes collectifs" in words(browse(alpha, alpha.producer).get("/mes-ventes/"))


def test_the_producer_edits_the_shared_product_with_french_messages(two_shops, alpha, public_host, browse):
    shared = two_shops["shared"]
    claire = browse(public_host, alpha.producer)
    url = f"/mon-catalogue/{shared.pk}/"
    fields = {"name": "Crottin frais", "unit": "piece", "price": "2,20", "vat_rate": "5.5", "stock": "12"}
    bad = claire.post(url, fields | {"price": "deux euros", "stock": "-1"})
    assert bad.status_code == 400
    page = words(bad)
    assert "Indiquez un prix, par ex. 4,80." in page and "Le stock ne peut pas être négatif." in page
    weighed = claire.post(url, fields | {"is_variable_weight": "on"})
    assert "choisissez l'unité « kg »" in words(weighed)
    assert SharedProduct.objects.get(pk=shared.pk).stock == 10  # nothing of a refused form is kept

    done = claire.post(url, fields | {"name": "Crottin frais au lait cru"}, follow=True)
    assert "« Crottin frais au lait cru » est enregistré dans tous vos collectifs." in words(done)
    assert "Crottin frais au lait cru" in words(
        browse(two_shops["b"].collective.slug + ".localhost").get("/boutique/")
    )

    offer = claire.post(
        f"/mon-catalogue/{shared.pk}/proposer/", {"offer-collective": str(alpha.collective.pk)}
    )
    assert offer.status_code == 400 and "Choisissez un collectif de la liste." in words(offer)


def test_nobody_else_sees_the_producers_catalogue_or_sales(
    two_shops, alpha, beta, outsider, public_host, browse
):
    shared = two_shops["shared"]
    # Another producer (of beta only): its own pages hold nothing of Claire's, hers are 404.
    other = browse(public_host, beta.producer)
    assert "Crottin" not in words(other.get("/mon-catalogue/"))
    assert other.get(f"/mon-catalogue/{shared.pk}/").status_code == 404
    assert other.post(f"/mon-catalogue/{shared.pk}/proposer/", {}).status_code == 404
    assert "Crottin" not in words(other.get("/mes-ventes/"))
    # A member, an outsider: no producer anywhere, 403; signed out: to the sign-in page.
    for user in (alpha.member, outsider):
        for url in ("/mon-catalogue/", "/mes-ventes/", f"/mon-catalogue/{shared.pk}/"):
            assert browse(public_host, user).get(url).status_code == 403
    assert browse(public_host).get("/mes-ventes/").status_code == 302
    # A coordinator of alpha has no say in beta.
    with tenant_context(beta.collective):
        copy = Product.objects.get(shared_product=shared)
    assert (
        browse(beta, alpha.coordinator)
        .post(f"/produits/{copy.pk}/catalogue-commun/", {"decision": "refuse"})
        .status_code
        == 403
    )
    # Sharing another account's product, or a product of a collective one does not sell in: refused.
    with tenant_context(alpha.collective):
        yaourt = Product.objects.get(name="Yaourt")
    response = other.post(
        "/mon-catalogue/mettre-en-commun/", {"collective": alpha.collective.pk, "product": yaourt.pk}
    )
    assert response.status_code == 404
    response = other.post(
        "/mon-catalogue/mettre-en-commun/",
        {"collective": beta.collective.pk, "product": yaourt.pk},
        follow=True,
    )
    assert "Ce produit n'existe pas ou n'est pas le vôtre." in words(response)
    assert not SharedListing.objects.filter(shared_product__owner=beta.producer).exists()
