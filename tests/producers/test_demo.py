"""seed_demo gives both demo collectives a believable catalogue, once."""

import io

from django.core.management import call_command
from django_tenants.utils import tenant_context

from marketplace.models import Collective, User
from producers.models import Category, Producer, ProducerApplication, Product
from tests.conftest import words


def _catalogue(slug: str) -> tuple[int, int, int]:
    with tenant_context(Collective.objects.get(slug=slug)):
        return Category.objects.count(), Producer.objects.count(), Product.objects.count()


def test_demo_catalogues(browse, media_root):
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    first = {slug: _catalogue(slug) for slug in ("cagette47", "emplettes")}
    # 8 producers, and the beekeeper whose application (« Rejoindre comme producteur ») was accepted
    assert first["cagette47"][1] == 9 and first["cagette47"][2] >= 30
    assert first["emplettes"][1] == 5 and first["emplettes"][2] >= 10

    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    assert {slug: _catalogue(slug) for slug in ("cagette47", "emplettes")} == first

    with tenant_context(Collective.objects.get(slug="cagette47")):
        managed = {
            producer.name: sorted(producer.accounts.values_list("email", flat=True))
            for producer in Producer.objects.all()
        }
        assert managed["Ferme des Coteaux de Gascogne"] == ["producteur@cagette47.demo"]
        assert managed["Chèvrerie du Pech"] == ["claire@demo.etal"]
        applied = dict(ProducerApplication.objects.values_list("farm_name", "status"))
        assert applied == {"Le Rucher de Pujols": "accepted", "Vergers de la Lède": "pending"}
        assert "Le Rucher de Pujols" in managed
        sold_by_weight = Product.objects.filter(is_variable_weight=True)
        assert sold_by_weight.filter(category__name="Viandes").exists()
        assert all(product.thumbnail for product in Product.objects.all())
    with tenant_context(Collective.objects.get(slug="emplettes")):
        assert Producer.objects.get(name="Coopérative du Lauragais").accounts.get().email == (
            "fournisseur@emplettes.demo"
        )

    page = words(browse("cagette47.localhost").get("/boutique/"))
    assert "Tomates anciennes 4,50 € / kg" in page
    assert "Poulet fermier entier 11,50 € / kg 1 pièce ≈ 1,8 kg ≈ 20,70 €" in page
    assert "Épuisé" in page and "plus que 3" in page
    page = words(browse("emplettes.localhost").get("/boutique/"))
    assert (
        "Lentilles vertes (1 kg)" in page and "Poulet entier 7,90 € / kg 1 pièce ≈ 1,6 kg ≈ 12,64 €" in page
    )

    claire = browse("cagette47.localhost", User.objects.get(email="claire@demo.etal"))
    assert "Tomme de chèvre" in words(claire.get(claire.get("/producteurs/")["Location"]))
