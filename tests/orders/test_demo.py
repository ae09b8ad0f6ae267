"""seed_demo opens a sale in each demo collective, with a few orders and a recurring schedule, once."""

import io

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from marketplace.models import Collective, User
from orders.models import Order, RecurringSchedule, Sale
from tests.conftest import text


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_demo_sales(browse, media_root):
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    for slug, kind, payment in [("cagette47", "weekly", "cash"), ("emplettes", "monthly", "food_voucher")]:
        collective = Collective.objects.get(slug=slug)
        with tenant_context(collective):
            open_sales = [sale for sale in Sale.objects.all() if sale.is_open]
            assert len(open_sales) == 1
            sale = open_sales[0]
            assert sale.offers.count() >= 5 and sale.distribution.slots.exists()
            assert list(Order.objects.values_list("payment_method", flat=True)) == [payment]
            assert RecurringSchedule.objects.get().kind == kind
            assert Sale.objects.filter(schedule__isnull=False).exists()
        home = text(browse(f"{slug}.localhost").get("/"))
        assert sale.title in home and "Commander" in home
        member = User.objects.get(email=f"membre@{slug}.demo")
        orders = text(browse(f"{slug}.localhost", member).get("/commandes/"))
        assert sale.title in orders
