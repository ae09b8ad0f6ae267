"""The demo buying group's living lab, whatever today's date: a past session whose adopted decision became a
product request and then a catalogue product, an upcoming session, two groups with their pickup points."""

import io

from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from marketplace.models import Collective, User
from pickup_points.models import LabGroup
from producers.models import LabSession, Outcome, ProductRequest
from tests.conftest import words


def test_demo_lab_has_a_decision_that_became_a_product(browse, media_root):
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    call_command("seed_demo", "--quiet", stdout=io.StringIO())  # a second run adds nothing
    emplettes = Collective.objects.get(slug="emplettes")
    with tenant_context(emplettes):
        assert {group.name: group.pickup_point.name for group in LabGroup.objects.all()} == {
            "Les Izards": "Centre socio-culturel des Izards",
            "Bagatelle": "Maison des solidarités Bagatelle",
        }
        request = ProductRequest.objects.select_related("product", "decision__session").get()
        assert request.decision.outcome == Outcome.ADOPTED and request.product.is_active
        assert request.decision.session.starts_at < timezone.now()
        assert LabSession.objects.filter(starts_at__gt=timezone.now()).count() == 1
        product_name = request.product.name
    connection.set_schema_to_public()
    member = browse("emplettes.localhost", User.objects.get(email="membre@emplettes.demo"))
    lab = words(member.get("/labo/"))
    assert "Le labo du groupe « Les Izards »" in lab
    assert f"Devenu un produit : « {product_name} »" in lab and "Poulet fermier" in lab
    assert "Choisi par le labo du" in words(member.get("/boutique/"))
