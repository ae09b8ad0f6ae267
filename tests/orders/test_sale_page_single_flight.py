"""When the sale's offer list changes, one request renders the new one (marketplace.render_cache): the
members asking at the same moment are served the previous list, with what is left in stock as it is now,
or wait for the new one when there is none yet. Renders are counted, never seconds."""

from __future__ import annotations

import re
import threading

import pytest
from django.core.cache import cache
from django.db import connection

from marketplace import render_cache
from marketplace.models import Membership, Role, User
from orders.checkout import offer_list
from orders.checkout import services as checkout_services
from orders.models import PaymentMethod
from producers import services as producer_services
from tests.conftest import text
from tests.orders.test_sale_page_cache import _another_member, _item

pytestmark = pytest.mark.django_db(transaction=True)


class CountedRenders:
    """offer_list._render, counted; the first one held until `release` is set (as a slow rendering is)."""

    def __init__(self, monkeypatch):
        self.count = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self._render = offer_list._render
        monkeypatch.setattr(offer_list, "_render", self)

    def __call__(self, *args):
        self.count += 1
        if self.count == 1:
            self.started.set()
            assert self.release.wait(30), "the test never let the first rendering finish"
        return self._render(*args)


def _member_named(alpha, name: str) -> User:
    user = User.objects.create_user(email=f"{name}@alpha.test", password="x-mot-de-passe-solide")
    Membership.objects.create(user=user, collective=alpha.collective, roles=[Role.MEMBER])
    return user


def _in_thread(alpha, target) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run():
        connection.set_tenant(alpha.collective)
        try:
            result["page"] = target()
        except Exception as error:  # noqa: BLE001 - reported by the test
            result["error"] = repr(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_a_member_asking_while_another_renders_gets_the_previous_list_with_fresh_stock(
    browse, alpha, market, monkeypatch
):
    path = f"/ventes/{market.sale.pk}/"
    first, second = browse(alpha, alpha.member), browse(alpha, _another_member(alpha))
    assert "plus que 3" in _item(text(first.get(path)), "Vin de Buzet")  # the list of this version cached
    renders = CountedRenders(monkeypatch)

    # A new version of the list (a producer renamed), and an order that takes the last bottles.
    farm = market.tomatoes.producer
    producer_services.producer_update(producer=farm, name="Ferme du Pech d'en haut")
    checkout_services.order_place(
        sale_id=market.sale.pk,
        user=_member_named(alpha, "troisieme"),
        quantities={market.wine.pk: 3},
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    thread, rendering = _in_thread(alpha, lambda: text(first.get(path)))
    assert renders.started.wait(30)
    page = text(second.get(path))  # while the first request renders the new list
    renders.release.set()
    thread.join()

    assert renders.count == 1
    assert "error" not in rendering
    # The previous list (the old name), with what is left as it is now.
    assert "Ferme du Pech d'en haut" not in page and "Ferme du Pech</h2>" in page
    wine = _item(page, "Vin de Buzet")
    assert "Épuisé" in wine and 'name="qty_' not in wine
    # The rendering request, and everyone after it, see the new list.
    assert "Ferme du Pech d'en haut</h2>" in rendering["page"]
    assert "Ferme du Pech d'en haut</h2>" in text(second.get(path))
    assert renders.count == 1


def test_with_no_previous_list_the_others_wait_for_the_one_rendering(browse, alpha, market, monkeypatch):
    path = f"/ventes/{market.sale.pk}/"
    first, second = browse(alpha, alpha.member), browse(alpha, _another_member(alpha))
    renders = CountedRenders(monkeypatch)
    waiting = threading.Event()
    sleep = render_cache.sleep

    def noted_sleep(seconds):
        waiting.set()
        sleep(seconds)

    monkeypatch.setattr(render_cache, "sleep", noted_sleep)
    monkeypatch.setattr(render_cache, "WAIT_SECONDS", 30.0)  # a busy test machine: wait as long as needed

    render_cache.memory_clear()  # no list of this sale anywhere yet
    cache.delete(f"{offer_list.offer_list_base(sale=market.sale, language='fr')}:latest")

    thread, rendering = _in_thread(alpha, lambda: text(first.get(path)))
    assert renders.started.wait(30)
    waiter, waited = _in_thread(alpha, lambda: text(second.get(path)))
    while not waiting.wait(0.05) and waiter.is_alive():
        pass
    assert waiting.is_set(), waited  # the second request waits for the first one's list…
    renders.release.set()
    thread.join()
    waiter.join()

    assert renders.count == 1  # …and does not render it a second time
    assert "error" not in rendering and "error" not in waited
    for page in (rendering["page"], waited["page"]):
        assert "2,50 €" in _item(page, "Tomates")
        assert re.search(r'name="qty_\d+"', page)
