"""The key pages of the demo, per person: the pages that the Nu HTML checker (tests/test_html_valid.py) and
the 44 px tap-target check (tests/browser/test_tap_targets.py) go through.

`key_pages()` is called after `manage.py seed_demo` (marketplace/demo.py, orders/demo.py), in the public
schema; it returns, for each demo person, the host and the paths of their main pages, named for the failure
messages. A page added to the product that matters to one of them belongs here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from marketplace.models import SharedProduct, User
from orders.models import Order, Sale
from pickup_points.models import PickupPoint
from producers.models import Producer, ProducerApplication, ProductRequest

DRIVE = "cagette47"
GROUP = "emplettes"


@dataclass(frozen=True)
class Visit:
    who: str  # "anonymous" or a demo account's e-mail
    slug: str | None  # None: the public host
    pages: dict[str, str]  # name → path

    @property
    def host(self) -> str:
        return f"{self.slug}.{settings.BASE_DOMAIN}" if self.slug else settings.BASE_DOMAIN

    @property
    def user(self) -> User | None:
        return None if self.who == "anonymous" else User.objects.get(email=self.who)


def key_pages() -> list[Visit]:
    member = User.objects.get(email="membre@cagette47.demo")
    now = timezone.now()
    with schema_context(f"c_{DRIVE}"):
        open_sales = Sale.objects.filter(is_published=True, opens_at__lte=now, closes_at__gt=now)
        sale = open_sales.order_by("pk").first()
        assert sale is not None, "the demo has no open sale"
        member_order = Order.objects.filter(sale=sale, user_id=member.pk).first()
        assert member_order is not None, "the demo member has no order in the open sale"
        producer = Producer.objects.filter(accounts__email="producteur@cagette47.demo").first()
        point = PickupPoint.objects.filter(staff_links__user__email="mairie@cagette47.demo").first()
        assert producer is not None and point is not None, "the demo producer or point staff is missing"
        distribution = sale.distribution
        pending_application = ProducerApplication.objects.filter(status="pending").first()
        assert pending_application is not None, "the demo drive has no producer application to examine"
    with schema_context(f"c_{GROUP}"):
        group_sale = (
            Sale.objects.filter(is_published=True, opens_at__lte=now, closes_at__gt=now)
            .order_by("pk")
            .first()
        )
        assert group_sale is not None, "the demo buying group has no open sale"
        claire_farm = Producer.objects.filter(accounts__email="claire@demo.etal").first()
        assert claire_farm is not None, "Claire sells in the buying group too"
        adopted = ProductRequest.objects.select_related("decision").first()
        assert adopted is not None, "the demo lab has no adopted proposal"
        supplier = adopted.producer_id
    shared = SharedProduct.objects.filter(owner__email="claire@demo.etal").order_by("pk").first()
    assert shared is not None, "Claire has no shared catalogue"
    return [
        Visit(
            "anonymous",
            None,
            {
                "accueil public": "/",
                "création de compte": "/accounts/signup/",
                "connexion": "/accounts/login/",
                "proposer un point de retrait": "/proposer-un-point-de-retrait/",
            },
        ),
        Visit(
            "anonymous",
            DRIVE,
            {
                "accueil du collectif (visiteur)": "/",
                "rejoindre comme producteur": "/rejoindre-comme-producteur/",
            },
        ),
        Visit("membre@cagette47.demo", None, {"lancer un drive": "/lancer-un-drive/"}),
        Visit(
            "coordination@cagette47.demo",
            DRIVE,
            {
                "candidatures de producteurs": "/candidatures/",
                "candidature à examiner": f"/candidatures/{pending_application.pk}/",
            },
        ),
        Visit(
            "membre@cagette47.demo",
            DRIVE,
            {
                "accueil du collectif (membre)": "/",
                "page de la vente": f"/ventes/{sale.pk}/",
                "commander": f"/ventes/{sale.pk}/commander/",
                "commande": f"/commandes/{member_order.pk}/",
                "mes commandes": "/commandes/",
                "mes points de retrait": "/retrait/",
            },
        ),
        Visit(
            "membre@emplettes.demo",
            GROUP,
            {
                "page de la vente (tarif solidaire)": f"/ventes/{group_sale.pk}/",
                "commander (tarif solidaire)": f"/ventes/{group_sale.pk}/commander/",
                "mon tarif": "/mon-tarif/",
                "mon solde (fonds solidaire)": "/mon-solde/",
                "le labo (membre)": "/labo/",
                "mes listes d'attente (place réservée)": "/mes-listes-attente/",
                "proposition du labo": f"/labo/propositions/{adopted.proposal_id}/",
                "proposer un produit": "/labo/propositions/nouvelle/",
            },
        ),
        Visit(
            "coordination@emplettes.demo",
            GROUP,
            {
                "le labo (coordination)": "/labo/",
                "séance du labo": f"/labo/seances/{adopted.decision.session_id}/",
                "ouvrir une séance du labo": "/labo/seances/nouvelle/",
                "groupes lab": "/groupes/",
                "répartition des membres": "/groupes/membres/",
                "demandes du labo": f"/producteurs/{supplier}/demandes-du-labo/",
            },
        ),
        Visit(
            "coordination@emplettes.demo",
            GROUP,
            {"tarifs solidaires": "/reglages/tarifs/", "fonds solidaire": "/reglages/fonds-solidaire/"},
        ),
        Visit(
            "producteur@cagette47.demo",
            DRIVE,
            {
                "catalogue du producteur": f"/producteurs/{producer.pk}/",
                "prix et stocks": f"/producteurs/{producer.pk}/prix-et-stocks/",
                "nouveau produit": f"/producteurs/{producer.pk}/produits/nouveau/",
            },
        ),
        Visit(
            "claire@demo.etal",
            None,
            {
                "catalogue commun du producteur": "/mon-catalogue/",
                "produit du catalogue commun": f"/mon-catalogue/{shared.pk}/",
                "mes ventes dans tous mes collectifs": "/mes-ventes/",
            },
        ),
        Visit(
            "coordination@emplettes.demo",
            GROUP,
            {"produits proposés par une productrice": f"/producteurs/{claire_farm.pk}/"},
        ),
        Visit(
            "mairie@cagette47.demo",
            DRIVE,
            {
                "réglages du point": f"/points/{point.pk}/",
                "jour de distribution": f"/points/{point.pk}/distributions/{distribution.pk}/",
            },
        ),
        Visit(
            "coordination@cagette47.demo",
            DRIVE,
            {
                "ventes": "/ventes/",
                "points proposés": "/points-proposes/",
                "nouvelle vente": "/ventes/nouvelle/",
                "produits de la vente": f"/ventes/{sale.pk}/produits/",
                "commandes de la vente": f"/ventes/{sale.pk}/commandes/",
                "paiements de la vente": f"/ventes/{sale.pk}/paiements/",
                "programmations": "/programmations/",
                "trésorerie": "/tresorerie/",
                "caisses des distributions": "/tresorerie/caisses/",
                "caisse d'une distribution": f"/tresorerie/caisses/{distribution.pk}/points/{point.pk}/",
                "bordereau de remise de chèques": (
                    f"/tresorerie/caisses/{distribution.pk}/points/{point.pk}/cheques/"
                ),
                "bons alimentaires par émetteur": "/tresorerie/bons/",
                "virements des membres": "/tresorerie/virements-des-membres/",
                "export pour la comptabilité": "/reglages/soldes/ecritures/",
            },
        ),
    ]
