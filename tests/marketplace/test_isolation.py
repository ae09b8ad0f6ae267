"""Nothing of one collective reaches the people of another, and roles are checked on the server."""

import io
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import URLResolver, reverse
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image

from config import urls_tenant
from marketplace import services
from marketplace.models import Collective, Invitation, Membership, Role, User
from orders.checkout import services as checkout_services
from orders.models import (
    MonthlyStatement,
    Offer,
    OfferWait,
    Order,
    PaymentMethod,
    PriceTier,
    RecurringSchedule,
    Sale,
    Sheet,
    SlotWait,
    Statement,
    Transfer,
    VoucherIssuer,
)
from orders.payments import services as payment_services
from orders.sales import services as sale_services
from orders.solidarity import services as solidarity_services
from pickup_points import services as point_services
from pickup_points.basket_codes import basket_code
from producers import services as producer_services
from producers.models import Unit
from tests.conftest import PASSWORD, text
from tests.pickup_points.factories import pickup_objects, pickup_state
from tests.producers.factories import catalogue_ids, catalogue_state, lab_ids, lab_state

# Pages any visitor of a collective may open: they show what the directory already shows (name, town,
# contact), or refuse by themselves (a join the collective's mode refuses, a token of another collective).
PUBLIC_PAGES = {"home", "join", "invitation_accept", "media", "shop", "shop_producer", "health", "sale_shop"}
# The sale page's running total (htmx): the same access as the page, computed from its public prices.
PUBLIC_PAGES |= {"sale_basket_total"}
PUBLIC_PAGES |= {"producer_apply", "producer_apply_sent"}  # « Rejoindre comme producteur »: anyone applies
PUBLIC_PAGES |= {"privacy", "legal_notice"}  # members' rights: the collective's contact, as the directory
# Pages of the account itself (allauth, « Mes données », account deletion) and the language switch: about
# the visitor, never the collective.
ACCOUNT_NAMESPACES = ("account_", "set_language", "my_data")


def _url_patterns(patterns=None):
    """(name, regex) of every URL of a collective's site, nested includes flattened."""
    for pattern in urls_tenant.urlpatterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from _url_patterns(pattern.url_patterns)
        else:
            yield pattern.name, pattern.pattern.regex


TENANT_URLS = sorted(_url_patterns())


def _fill(name: str, regex, values: dict[str, object]) -> str:
    """The URL `name` with its parameters taken from `values`; a new kind of parameter must be added there."""
    missing = set(regex.groupindex) - set(values)
    assert not missing, f"tell test_isolation which object to put in {missing} of URL {name!r}"
    return reverse(name, kwargs={key: values[key] for key in regex.groupindex})


def _orders_objects(cast, *, title: str) -> dict[str, int]:
    """A sale of `cast`'s collective with an order of its member, and a recurring schedule: their ids."""
    with tenant_context(cast.collective):
        payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH])
        farm = producer_services.producer_create(name=f"Ferme de {title}", town="Nérac")
        product = producer_services.product_create(
            producer=farm, name="Miel", price=Decimal("6.00"), unit=Unit.JAR, stock=5
        )
        point = point_services.point_create(
            name=f"Point de {title}", address="1 rue", town="Ville", slot_minutes=60, slot_capacity=5
        )
        point_services.point_update(point=point, hours=[(day, time(17, 0), time(18, 0)) for day in range(7)])
        day, paris = timezone.localdate() + timedelta(days=4), timezone.get_current_timezone()
        sale = sale_services.sale_create(
            title=title,
            opens_at=timezone.now() - timedelta(days=1),
            closes_at=timezone.now() + timedelta(days=2),
            distribution_starts_at=datetime.combine(day, time(17, 0), tzinfo=paris),
            distribution_ends_at=datetime.combine(day, time(18, 0), tzinfo=paris),
            points=[point],
            producers=[farm],
            publish=True,
        )
        order = checkout_services.order_place(
            sale_id=sale.pk,
            user=cast.member,
            quantities={sale.offers.get(product=product).pk: 1},
            slot_id=sale.distribution.slots.first().pk,
            payment_method=PaymentMethod.CASH,
        )
        line_id = order.lines.first().pk
        schedule = sale_services.schedule_create(
            title=f"Programmation de {title}", kind="weekly", points=[point], producers=[farm]
        )
        # A stored sheet (its content does not matter here: who may fetch it does).
        sheet = Sheet(sale=sale, kind=Sheet.Kind.SUMMARY, title=f"Récapitulatif de {title}")
        sheet.file.save("summary.pdf", ContentFile(b"%PDF-1.4 private"), save=True)
        # A statement, its monthly PDF and a transfer paying it (orders.statements).
        transfer = Transfer(
            message_id=f"MSG-{cast.collective.slug}", execution_date=day, total=Decimal("5.52"), count=1
        )
        transfer.file.save("virement.xml", ContentFile(b"<Document/>"), save=True)
        statement = Statement.objects.create(
            number=1,
            sale=sale,
            producer=farm,
            gross=Decimal("6.00"),
            commission_percent=Decimal("8"),
            commission_vat_rate=Decimal("0"),
            commission_ht=Decimal("0.48"),
            commission_vat=Decimal("0"),
            due=Decimal("5.52"),
            status=Statement.Status.PREPARED,
            transfer=transfer,
        )
        statement.file.save("releve.pdf", ContentFile(b"%PDF-1.4 private"), save=True)
        monthly = MonthlyStatement(producer=farm, month=timezone.localdate().replace(day=1))
        monthly.file.save("mois.pdf", ContentFile(b"%PDF-1.4 private"), save=True)
        issuer = VoucherIssuer.objects.create(name=f"CCAS de {title}")  # orders.cashbox
        # A member on a slot's waiting list (orders.waiting), the slot taken as full.
        wait = SlotWait.objects.create(sale=sale, slot=sale.distribution.slots.last(), user=cast.coordinator)
        # And on a product's (the honey taken as sold out).
        offer = sale.offers.get(product=product)
        offer_wait = OfferWait.objects.create(sale=sale, offer=offer, user=cast.coordinator)
        # A solidarity price tier nobody has (one a coordinator may delete: orders.solidarity).
        tier = solidarity_services.tier_save(
            tier_id=None,
            name=f"Tarif de {title}",
            percent=Decimal("-10"),
            description="",
            position=0,
            is_active=True,
        )
    return {
        "issuer_id": issuer.pk,
        "statement_id": statement.pk,
        "document_id": monthly.pk,
        "transfer_id": transfer.pk,
        "sale_id": sale.pk,
        "order_id": order.pk,
        "line_id": line_id,
        "schedule_id": schedule.pk,
        "sheet_id": sheet.pk,
        "wait_id": wait.pk,
        "offer_id": offer.pk,
        "point_id": point.pk,
        "offer_wait_id": offer_wait.pk,
        "tier_id": tier.pk,
    }


def _orders_state(cast) -> tuple:
    with tenant_context(cast.collective):
        return (
            sorted(Sale.objects.values_list("pk", "title", "is_published", "opens_at")),
            sorted(Offer.objects.values_list("pk", "quantity", "sold", "price")),
            sorted(Order.objects.values_list("pk", "status", "total", "booking_id")),
            sorted(RecurringSchedule.objects.values_list("pk", "title", "is_active")),
            sorted(VoucherIssuer.objects.values_list("pk", "name", "is_active")),
            sorted(PriceTier.objects.values_list("pk", "name", "is_active")),
        )


@pytest.fixture
def beta_secrets(beta):
    """Beta's private data (people, pending requests, invitations) and the ids that point at it."""
    applicant = User.objects.create_user(
        email="postulante@beta.test", password=PASSWORD, first_name="Prune", last_name="Postulante-beta"
    )
    pending = Membership.objects.create(
        user=applicant, collective=beta.collective, roles=[Role.MEMBER], status=Membership.Status.PENDING
    )
    invitation = services.invitation_create(
        collective=beta.collective, created_by=beta.coordinator, role=Role.PRODUCER, email="invitee@beta.test"
    )
    # A link of beta already used: its page must not tell who sent or used it.
    used = services.invitation_create(
        collective=beta.collective, created_by=beta.coordinator, role=Role.PRODUCER, email=beta.member.email
    )
    services.invitation_accept(collective=beta.collective, token=used.token, user=beta.member)
    people = [beta.coordinator, beta.producer, beta.staff, beta.member, applicant]
    markers = [person.email for person in people] + [person.last_name for person in people]
    markers += [invitation.email, invitation.token, used.email]
    pickup = pickup_objects(beta, name="Point secret de Beta", household=applicant)
    markers += ["Point secret de Beta", "Fermeture secrète", "Candidature secrète", "candidate@beta.test"]
    # A published sale's title is on the collective's home page: its order (beta's member) is the secret.
    orders = _orders_objects(beta, title="Vente de Beta")
    # A place proposed in beta's department (Nord): its contact is for beta's coordinators only.
    proposal = _proposal(department="59", contact_email="secretariat@mairie-beta.test")
    markers += [proposal.contact_email, proposal.place_name]
    ids = {
        "proposal_id": proposal.pk,
        **pickup,
        **orders,
        "membership_id": pending.pk,
        "invitation_id": invitation.pk,
        "token": used.token,
        "schema_name": beta.collective.schema_name,
        "path": "branding/logo.png",
        "key": "cle-inconnue",
        "uidb36": "1",
        "user_id": beta.member.pk,  # a member's price tier (orders.solidarity)
        "code": basket_code(schema_name=beta.collective.schema_name, booking_id=pickup["booking_id"]),
        **catalogue_ids(beta),
    }
    lab = lab_ids(beta)  # the living lab: its request's URL takes the producer it is addressed to
    ids.update({key: value for key, value in lab.items() if key != "lab_producer_id"})
    markers += [
        "Proposition secrète",
        "Raison secrète.",
        "Commentaire secret.",
        "Lieu secret",
        "Décision secrète.",
    ]
    return {"markers": markers, "ids": ids}


def _proposal(*, department: str, contact_email: str):
    """A place proposed on the public site (« Proposer un point de retrait ») in that department."""
    from marketplace.point_proposals import point_proposal_submit

    return point_proposal_submit(
        kind="mairie",
        place_name=f"Salle secrète du {department}",
        address="1 place de la Mairie",
        postcode=f"{department}000",
        town="Ailleurs",
        department=department,
        hours_text="Le vendredi soir",
        capacity=4,
        contact_name="Contact Secret",
        contact_role="Secrétaire",
        contact_email=contact_email,
        contact_phone="0500000000",
    )


def _beta_state(beta) -> tuple:
    collective = Collective.objects.get(pk=beta.collective.pk)
    return (
        (
            collective.name,
            collective.description,
            collective.join_mode,
            collective.allow_cooptation,
            collective.logo,
        ),
        sorted(
            Membership.objects.filter(collective=beta.collective).values_list("user_id", "roles", "status")
        ),
        sorted(
            Invitation.objects.filter(collective=beta.collective).values_list(
                "pk", "accepted_at", "revoked_at"
            )
        ),
        catalogue_state(beta),
        pickup_state(beta),
        _orders_state(beta),
        lab_state(beta),
    )


def test_every_url_is_covered():
    names = {name for name, _regex in TENANT_URLS}
    assert {"members", "member_edit", "invitations", "collective_settings", "account_login"} <= names


@pytest.mark.parametrize(("name", "regex"), TENANT_URLS, ids=[name for name, _ in TENANT_URLS])
def test_people_of_alpha_get_nothing_of_beta(browse, alpha, beta, beta_secrets, name, regex):
    url = _fill(name, regex, beta_secrets["ids"])
    before = _beta_state(beta)
    for who in (alpha.coordinator, alpha.member, None):
        for method in ("get", "post"):
            response = getattr(browse(beta, who), method)(url)
            seen = text(response) + response.get("Location", "")
            for marker in beta_secrets["markers"]:
                assert marker not in seen, f"{method.upper()} {url} as {who} shows {marker!r}"
            if name in PUBLIC_PAGES or name.startswith(ACCOUNT_NAMESPACES):
                continue
            refused = response.status_code in {403, 404, 405} or (
                response.status_code == 302 and response["Location"].startswith("/accounts/login/")
            )
            assert refused, f"{method.upper()} {url} as {who}: {response.status_code}"
    assert _beta_state(beta) == before


@pytest.mark.parametrize(
    ("name", "regex"),
    [(name, regex) for name, regex in TENANT_URLS if regex.groupindex and not name.startswith("account_")],
    ids=[name for name, regex in TENANT_URLS if regex.groupindex and not name.startswith("account_")],
)
def test_ids_of_alpha_are_not_found_on_beta(browse, alpha, beta, name, regex):
    invitation = services.invitation_create(
        collective=alpha.collective, created_by=alpha.coordinator, role=Role.PRODUCER
    )
    member = Membership.objects.get(collective=alpha.collective, user=alpha.member)
    pickup = pickup_objects(alpha, name="Point d'Alpha", household=alpha.member)
    orders = _orders_objects(alpha, title="Vente d'Alpha")
    proposal = _proposal(department="47", contact_email="secretariat@mairie-alpha.test")  # alpha's department
    url = _fill(
        name,
        regex,
        {
            **pickup,
            **orders,
            "proposal_id": proposal.pk,
            "membership_id": member.pk,
            "user_id": alpha.member.pk,
            "invitation_id": invitation.pk,
            "token": invitation.token,
            "schema_name": alpha.collective.schema_name,
            "path": "branding/logo.png",
            "code": basket_code(schema_name=alpha.collective.schema_name, booking_id=pickup["booking_id"]),
            **catalogue_ids(alpha),
            **{key: value for key, value in lab_ids(alpha).items() if key != "lab_producer_id"},
        },
    )
    alpha_catalogue = catalogue_state(alpha)
    alpha_pickup = pickup_state(alpha)
    alpha_orders = _orders_state(alpha)
    coordinator = browse(beta, beta.coordinator)
    assert coordinator.post(url).status_code == 404
    assert coordinator.get(url).status_code in {404, 405}
    member.refresh_from_db()
    invitation.refresh_from_db()
    assert catalogue_state(alpha) == alpha_catalogue
    assert pickup_state(alpha) == alpha_pickup
    assert _orders_state(alpha) == alpha_orders
    assert member.roles == [Role.MEMBER] and member.is_active
    assert invitation.state == "pending"
    proposal.refresh_from_db()
    assert proposal.is_open and proposal.declined_by == []
    assert (
        not Membership.objects.filter(collective=beta.collective, roles__contains=[Role.COORDINATOR])
        .exclude(user=beta.coordinator)
        .exists()
    )


def test_member_edit_of_alpha_member_on_beta_is_not_found(browse, alpha, beta):
    member = Membership.objects.get(collective=alpha.collective, user=alpha.member)
    response = browse(beta, beta.coordinator).get(f"/membres/{member.pk}/")
    assert response.status_code == 404
    assert alpha.member.email not in text(response)


def test_beta_coordinator_sees_only_beta_people(browse, alpha, beta):
    page = text(browse(beta, beta.coordinator).get("/membres/"))
    assert all(person.email in page for person in (beta.coordinator, beta.producer, beta.staff, beta.member))
    assert not any(person.email in page for person in (alpha.coordinator, alpha.producer, alpha.member))


def test_alpha_coordinator_sees_only_alpha_invitations(browse, alpha, beta):
    services.invitation_create(
        collective=beta.collective, created_by=beta.coordinator, role=Role.MEMBER, email="secret@beta.test"
    )
    page = text(browse(alpha, alpha.coordinator).get("/invitations/"))
    assert "Aucune invitation pour l'instant." in page
    assert "secret@beta.test" not in page


COORDINATOR_PAGES = ["/membres/", "/invitations/", "/reglages/"]
COORDINATOR_ACTIONS = ["/membres/{id}/", "/membres/{id}/valider/", "/membres/{id}/retirer/"]


@pytest.mark.parametrize("role", ["member", "producer", "staff"])
def test_coordinator_pages_are_refused_to_other_roles(browse, alpha, outsider, role):
    person = getattr(alpha, role)
    pending = Membership.objects.create(
        user=outsider, collective=alpha.collective, roles=[Role.MEMBER], status=Membership.Status.PENDING
    )
    client = browse(alpha, person)
    for url in COORDINATOR_PAGES:
        assert client.get(url).status_code == 403, url
        assert (
            client.post(url, {"name": "Piraté", "role": Role.COORDINATOR, "email": "x@x.test"}).status_code
            == 403
        )
    for template in COORDINATOR_ACTIONS:
        for target in (pending.pk, Membership.objects.get(user=alpha.coordinator).pk):
            url = template.format(id=target)
            assert client.post(url, {"roles": [Role.MEMBER]}).status_code == 403, url
            assert client.get(url).status_code in {403, 405}, url
    pending.refresh_from_db()
    assert pending.status == Membership.Status.PENDING
    assert set(Membership.objects.get(user=alpha.coordinator).roles) == {Role.MEMBER, Role.COORDINATOR}
    assert Collective.objects.get(pk=alpha.collective.pk).name == "Drive Alpha"
    assert not Invitation.objects.exists()
    assert 'href="/membres/"' not in text(client.get("/"))


def test_pending_coordinator_is_not_a_coordinator(browse, alpha, outsider):
    Membership.objects.create(
        user=outsider, collective=alpha.collective, roles=[Role.COORDINATOR], status=Membership.Status.PENDING
    )
    assert browse(alpha, outsider).get("/membres/").status_code == 403


def test_coordinator_changes_roles(browse, alpha):
    producer = Membership.objects.get(user=alpha.producer)
    client = browse(alpha, alpha.coordinator)
    page = client.get(f"/membres/{producer.pk}/")
    assert page.status_code == 200 and "Pierre Producer-alpha" in text(page)
    response = client.post(f"/membres/{producer.pk}/", {"roles": [Role.PRODUCER, Role.MEMBER]})
    assert response.status_code == 302
    producer.refresh_from_db()
    assert producer.roles == [Role.MEMBER, Role.PRODUCER]
    assert "Rôles mis à jour pour Pierre Producer-alpha." in text(client.get("/membres/"))


def test_the_last_coordinator_cannot_be_removed_nor_demoted(browse, alpha):
    own = Membership.objects.get(user=alpha.coordinator)
    client = browse(alpha, alpha.coordinator)

    client.post(f"/membres/{own.pk}/retirer/")
    assert "Le collectif doit garder au moins un·e coordinateur·rice." in text(client.get("/membres/"))
    assert Membership.objects.filter(pk=own.pk).exists()

    response = client.post(f"/membres/{own.pk}/", {"roles": [Role.MEMBER]})
    assert response.status_code == 400
    assert "Le collectif doit garder au moins un·e coordinateur·rice." in text(response)
    own.refresh_from_db()
    assert Role.COORDINATOR in own.roles

    # A browser sends the CSRF token even when every box is unticked.
    response = client.post(f"/membres/{own.pk}/", {"csrfmiddlewaretoken": "jeton"})
    assert response.status_code == 400
    assert "Choisissez au moins un rôle, ou retirez la personne du collectif." in text(response)


def test_with_two_coordinators_one_may_step_down(browse, alpha):
    Membership.objects.filter(user=alpha.producer).update(roles=[Role.PRODUCER, Role.COORDINATOR])
    own = Membership.objects.get(user=alpha.coordinator)
    response = browse(alpha, alpha.coordinator).post(f"/membres/{own.pk}/", {"roles": [Role.MEMBER]})
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.roles == [Role.MEMBER]
    assert browse(alpha, alpha.coordinator).get("/membres/").status_code == 403
    # The other one is now the last coordinator.
    other = Membership.objects.get(user=alpha.producer)
    browse(alpha, alpha.producer).post(f"/membres/{other.pk}/retirer/")
    assert Membership.objects.filter(pk=other.pk).exists()


def _png(colour=(200, 60, 20)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "logo.png"
    return buffer


SETTINGS_FORM = {
    "name": "Drive Alpha renommé",
    "kind": Collective.Kind.DRIVE,
    "description": "Nouvelle description du drive.",
    "town": "Agen",
    "department": "47",
    "contact_email": "bonjour@alpha.test",
    "contact_phone": "",
    "join_mode": Collective.JoinMode.OPEN,
}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_settings_update_branding(browse, alpha, beta, media_root):
    client = browse(alpha, alpha.coordinator)
    form = client.get("/reglages/")
    assert form.status_code == 200
    assert 'value="Drive Alpha"' in text(form)

    response = client.post("/reglages/", {**SETTINGS_FORM, "logo": _png()})
    assert response.status_code == 302 and response["Location"] == "/reglages/"
    assert "Réglages enregistrés." in text(client.get("/reglages/"))

    collective = Collective.objects.get(pk=alpha.collective.pk)
    assert collective.name == "Drive Alpha renommé"
    logo_name = collective.logo.name
    assert logo_name.startswith("c_alpha/branding/logo-") and logo_name.endswith(".png")
    assert (media_root / logo_name).exists()

    home = text(browse(alpha).get("/"))
    assert "<h1>Drive Alpha renommé</h1>" in home
    assert "Nouvelle description du drive." in home
    assert f'src="/media/{logo_name}"' in home
    assert "bonjour@alpha.test" in home
    logo = browse(alpha).get(f"/media/{logo_name}")
    assert logo.status_code == 200
    assert Image.open(io.BytesIO(b"".join(logo.streaming_content))).size == (32, 32)
    # Beta's site does not serve alpha's files, the directory shows the new name and logo.
    assert browse(beta).get(f"/media/{logo_name}").status_code == 404
    assert "Drive Alpha renommé" in text(browse("localhost").get("/"))
    assert "Drive Alpha renommé" not in text(browse(beta).get("/"))


def test_logo_can_be_removed(browse, alpha, media_root):
    client = browse(alpha, alpha.coordinator)
    client.post("/reglages/", {**SETTINGS_FORM, "logo": _png()})
    response = client.post("/reglages/", {**SETTINGS_FORM, "logo-clear": "on"})
    assert response.status_code == 302
    collective = Collective.objects.get(pk=alpha.collective.pk)
    assert not collective.logo
    assert "/media/" not in text(browse(alpha).get("/"))


def test_settings_accept_a_lower_case_corsican_department(browse, alpha, public_host):
    response = browse(alpha, alpha.coordinator).post("/reglages/", {**SETTINGS_FORM, "department": "2b"})
    assert response.status_code == 302
    assert Collective.objects.get(pk=alpha.collective.pk).department == "2B"
    assert "Drive Alpha renommé" in text(browse(public_host).get("/?q=Haute-Corse"))


def test_settings_refuse_a_file_that_is_not_an_image(browse, alpha, media_root):
    fake = io.BytesIO(b"MZ\x90\x00 ceci n'est pas une image")
    fake.name = "logo.png"
    response = browse(alpha, alpha.coordinator).post("/reglages/", {**SETTINGS_FORM, "logo": fake})
    assert response.status_code == 400
    assert "Téléversez une image valide." in text(response)
    collective = Collective.objects.get(pk=alpha.collective.pk)
    assert collective.name == "Drive Alpha" and not collective.logo
    assert not list(media_root.rglob("*"))
    # The page as re-displayed and the collective's own header keep the saved name.
    assert "<span>Drive Alpha</span>" in text(response)


def test_settings_refuse_an_image_of_another_format(browse, alpha, media_root):
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    gif.seek(0)
    gif.name = "logo.gif"
    response = browse(alpha, alpha.coordinator).post("/reglages/", {**SETTINGS_FORM, "logo": gif})
    assert response.status_code == 400
    assert "Le logo doit être une image PNG, JPEG ou WebP." in text(response)
    assert not Collective.objects.get(pk=alpha.collective.pk).logo


def test_settings_refuse_an_empty_name(browse, alpha):
    response = browse(alpha, alpha.coordinator).post("/reglages/", {**SETTINGS_FORM, "name": ""})
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in text(response)
    assert Collective.objects.get(pk=alpha.collective.pk).name == "Drive Alpha"
