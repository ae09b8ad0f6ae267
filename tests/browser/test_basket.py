"""The sale page's running basket total, in a real browser on the demo's drive (La cagette collective 47):
with JavaScript, htmx updates it as a quantity changes; without, « Mettre à jour le total » does."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from marketplace.models import Collective, User
from marketplace.money import euros
from orders.checkout import selectors as checkout_selectors
from orders.models import Order, Sale

DEMO_PASSWORD = "etal-demo-2026"
SLUG = "cagette47"
MEMBER = "membre@cagette47.demo"


def _sale_and_expected(change: int):
    """The open sale, a weighed offer and the total the page should show once `change` pieces of it are
    added to the member's order (the page starts from that order's quantities)."""
    collective = Collective.objects.get(slug=SLUG)
    with schema_context(collective.schema_name):
        now = timezone.now()
        sale = Sale.objects.get(is_published=True, opens_at__lte=now, closes_at__gt=now)
        offers = list(checkout_selectors.sale_offers(sale=sale))
        user = User.objects.get(email=MEMBER)
        order = Order.objects.filter(sale=sale, user=user, status=Order.Status.PLACED).first()
        quantities = checkout_selectors.order_quantities(order=order) if order else {}
        weighed = next(offer for offer in offers if offer.is_variable_weight and offer.remaining != 0)
        start = quantities.get(weighed.pk, 0)
        quantities[weighed.pk] = start + change
        total = checkout_selectors.basket_total(offers=offers, quantities=quantities)
        return sale, weighed, start, f"≈ {euros(total.amount)}"


def _open_sale(member, site, sale):
    page = member.page
    page.goto(site.collective_url(SLUG) + "/accounts/login/")
    member.log_in()
    page.goto(site.collective_url(SLUG) + f"/ventes/{sale.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(sale.title)
    return page


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_the_basket_total_follows_the_quantities(site, person, shoot, axe_check, javascript):
    call_command("seed_demo", "--quiet")
    sale, weighed, start, expected = _sale_and_expected(change=2)
    member = person("Marie", "Membre", MEMBER, javascript=javascript)
    member.password = DEMO_PASSWORD
    page = _open_sale(member, site, sale)
    total = page.get_by_role("status").filter(has_text="Total du panier")
    expect(total).to_be_visible()
    jump = page.get_by_role("navigation", name="Producteurs")
    expect(jump.get_by_role("link", name=weighed.producer.name)).to_be_visible()

    field = page.get_by_role("spinbutton", name=f"Nombre de pièces : {weighed.name}")
    update = page.get_by_role("button", name="Mettre à jour le total")
    if javascript:
        expect(update).to_have_count(0)  # htmx does it
        field.fill(str(start + 2))
    else:
        field.fill(str(start + 2))
        update.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(sale.title)
        expect(field).to_have_value(str(start + 2))  # kept, and nothing ordered
    expect(total).to_contain_text(expected)
    expect(total).to_contain_text("estimé")
    if javascript:
        axe_check(page)
        page.get_by_role("link", name=weighed.producer.name).first.click()
        expect(page).to_have_url(re.compile(r"#producer-\d+$"))
        shoot(page, "sale-page")
