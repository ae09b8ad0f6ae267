"""Create the demo collectives, their accounts and roles. Running it again changes nothing."""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string
from django_tenants.utils import tenant_context
from PIL import Image, ImageDraw

from marketplace import demo, services, tenancy
from marketplace.models import Collective, Membership, User


def _logo(colour: tuple[int, int, int], initials: str) -> ContentFile:
    image = Image.new("RGB", (240, 240), colour)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((16, 16, 224, 224), radius=28, outline=(255, 255, 255), width=8)
    draw.text((120, 120), initials, fill=(255, 255, 255), anchor="mm", font_size=72)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name="logo.png")


# Each tenant app fills the demo collectives with its own data, inside the collective's schema.
DEMO_SEEDERS = [
    "producers.demo.seed",
    "pickup_points.demo.seed",
    "producers.lab.demo.seed",
    "orders.demo.seed",
]
# What talks to another server (the local Stripe double) runs after the seeding's transaction, never inside.
DEMO_CONNECTORS = ["orders.demo.stripe_double_connect"]


class Command(BaseCommand):
    help = "Create the demo collectives (cagette47, emplettes) with one account per role. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--print-logins", action="store_true", help="only print the demo logins")
        parser.add_argument("--quiet", action="store_true", help="seed without printing the logins")

    def handle(self, *args, print_logins: bool = False, quiet: bool = False, **options):
        if not print_logins:
            self.seed()
            self.connect()
        if not quiet:
            self.print_logins()

    @transaction.atomic
    def seed(self) -> None:
        tenancy.public_tenant_ensure()
        tenancy.template_tenant_ensure()
        users = {}
        for email, first_name, last_name, phone, _roles in demo.ACCOUNTS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email,
                    password=demo.DEMO_PASSWORD,
                    first_name=first_name,
                    last_name=last_name,
                    phone=phone,
                )
                user.emailaddress_set.create(email=email, verified=True, primary=True)
            users[email] = user
        coordinators = {
            slug: users[email]
            for email, *_rest, roles in demo.ACCOUNTS
            for slug, slug_roles in roles.items()
            if "coordinator" in slug_roles
        }
        for spec in demo.COLLECTIVES:
            fields = {k: v for k, v in spec.items() if k not in {"colour", "initials"}}
            collective = Collective.objects.filter(slug=spec["slug"]).first()
            if collective is None:
                collective = services.collective_create(owner=coordinators[spec["slug"]], **fields)
                collective.logo.save("logo.png", _logo(spec["colour"], spec["initials"]), save=True)
                self.stdout.write(f"Created {collective.name} at {collective.base_url}/")
        for email, *_rest, roles in demo.ACCOUNTS:
            for slug, slug_roles in roles.items():
                membership, _created = Membership.objects.get_or_create(
                    user=users[email],
                    collective=Collective.objects.get(slug=slug),
                    defaults={"roles": slug_roles, "status": Membership.Status.ACTIVE},
                )
                if set(slug_roles) - set(membership.roles):  # a demo of an earlier version: add the new roles
                    membership.roles = [
                        *membership.roles,
                        *(r for r in slug_roles if r not in membership.roles),
                    ]
                    membership.save(update_fields=["roles"])
        for spec in demo.COLLECTIVES:
            collective = Collective.objects.get(slug=spec["slug"])
            with tenant_context(collective):
                for seeder in DEMO_SEEDERS:
                    import_string(seeder)(collective=collective, accounts=users)

    def connect(self) -> None:
        for spec in demo.COLLECTIVES:
            collective = Collective.objects.get(slug=spec["slug"])
            with tenant_context(collective):
                for connector in DEMO_CONNECTORS:
                    import_string(connector)(collective)

    def print_logins(self) -> None:
        port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
        lines = [
            "",
            "Étal is running:",
            f"  public site      {settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{port}/",
        ]
        for spec in demo.COLLECTIVES:
            lines.append(
                f"  {spec['name']:<27}{settings.SITE_SCHEME}://{spec['slug']}.{settings.BASE_DOMAIN}{port}/"
            )
        lines += ["", f"Demo logins (password for all: {demo.DEMO_PASSWORD}):"]
        for email, *_names_and_phone, roles in demo.ACCOUNTS:
            where = "; ".join(f"{slug}: {', '.join(r)}" for slug, r in roles.items())
            lines.append(f"  {email:<32}{where}")
        lines.append("")
        self.stdout.write("\n".join(lines))
