"""The platform operator's admin (public site only): collectives, domains, accounts, memberships."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, Max, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace import archives, selectors, services
from marketplace.models import Collective, Domain, FollowUp, Invitation, Membership, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name", "phone")}),
        (_("Droits"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class SuspendedFilter(admin.SimpleListFilter):
    title = _("état")
    parameter_name = "suspendu"

    def lookups(self, request, model_admin):
        return [("oui", _("Suspendu")), ("non", _("Ouvert"))]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.filter(suspended_at__isnull=False)
        if self.value() == "non":
            return queryset.filter(suspended_at__isnull=True)
        return queryset


@admin.register(Collective)
class CollectiveAdmin(admin.ModelAdmin):
    """The operator's view of every collective: size, last activity, Stripe, health, suspension."""

    list_display = [
        "name",
        "slug",
        "kind",
        "members_count",
        "orders_count",
        "last_activity",
        "stripe_status",
        "health",
        "site_status",
    ]
    list_filter = [SuspendedFilter, "kind"]
    search_fields = ["name", "slug", "town"]
    readonly_fields = [
        "schema_name",
        "stripe_account_id",
        "stripe_charges_enabled",
        "suspended_at",
        "deleted_at",
    ]
    inlines = [DomainInline]
    actions = ["suspend", "reactivate", "delete_with_grace", "undelete"]

    def has_delete_permission(self, request, obj=None):
        """Deleting drops a schema: only through « Supprimer », with its grace period (see archives)."""
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .tenants()
            .annotate(
                active_members=Count(
                    "memberships", filter=Q(memberships__status=Membership.Status.ACTIVE), distinct=True
                ),
                last_membership_at=Max("memberships__created_at"),
            )
        )

    def get_changelist_instance(self, request):
        """Orders live in each collective's schema: one query for the page's collectives (see selectors),
        and one for their failed follow-ups, attached to the rows the page shows."""
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)  # evaluated once: the page renders these same objects
        schemas = [row.schema_name for row in rows]
        figures = selectors.collectives_order_figures(schema_names=schemas)
        failed = dict(
            FollowUp.objects.filter(schema_name__in=schemas, failed_at__isnull=False)
            .values_list("schema_name")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            row.order_figures = figures.get(row.schema_name, (0, None))
            row.failed_followups = failed.get(row.schema_name, 0)
        return changelist

    @admin.display(description=_("membres"), ordering="active_members")
    def members_count(self, collective):
        return collective.active_members

    @admin.display(description=_("commandes"))
    def orders_count(self, collective):
        return getattr(collective, "order_figures", (None, None))[0]

    @admin.display(description=_("dernière activité"))
    def last_activity(self, collective):
        last_order = getattr(collective, "order_figures", (None, None))[1]
        moments = [moment for moment in [last_order, collective.last_membership_at] if moment]
        return max(moments) if moments else None

    @admin.display(description=_("Stripe"))
    def stripe_status(self, collective):
        if not collective.stripe_account_id:
            return _("non connecté")
        if not collective.stripe_charges_enabled:
            return _("connecté, paiements pas encore activés")
        return _("paiements activés")

    @admin.display(description=_("santé"))
    def health(self, collective):
        failed = getattr(collective, "failed_followups", 0)
        if failed:
            return ngettext("%(n)d tâche en échec", "%(n)d tâches en échec", failed) % {"n": failed}
        return _("OK")

    @admin.display(description=_("site"), ordering="suspended_at")
    def site_status(self, collective):
        if collective.is_deleted:
            return _("supprimé, effacé le %(date)s") % {
                "date": f"{archives.purge_due_at(collective):%d/%m/%Y}"
            }
        return _("suspendu") if collective.is_suspended else _("ouvert")

    @admin.action(description=_("Suspendre"))
    def suspend(self, request, queryset):
        for collective in queryset:
            services.collective_suspend(collective_id=collective.pk)
        self.message_user(
            request,
            ngettext("%(n)d collectif suspendu.", "%(n)d collectifs suspendus.", queryset.count())
            % {"n": queryset.count()},
            messages.SUCCESS,
        )

    @admin.action(description=_("Réactiver"))
    def reactivate(self, request, queryset):
        for collective in queryset:
            services.collective_reactivate(collective_id=collective.pk)
        self.message_user(
            request,
            ngettext("%(n)d collectif réactivé.", "%(n)d collectifs réactivés.", queryset.count())
            % {"n": queryset.count()},
            messages.SUCCESS,
        )

    @admin.action(description=_("Supprimer (restaurable pendant 30 jours)"))
    def delete_with_grace(self, request, queryset):
        for collective in queryset:
            archives.collective_delete(collective_id=collective.pk)
        self.message_user(
            request,
            ngettext("%(n)d collectif supprimé.", "%(n)d collectifs supprimés.", queryset.count())
            % {"n": queryset.count()},
            messages.SUCCESS,
        )

    @admin.action(description=_("Restaurer (annuler la suppression)"))
    def undelete(self, request, queryset):
        for collective in queryset:
            archives.collective_undelete(collective_id=collective.pk)
        self.message_user(
            request,
            ngettext("%(n)d collectif restauré.", "%(n)d collectifs restaurés.", queryset.count())
            % {"n": queryset.count()},
            messages.SUCCESS,
        )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "collective", "roles", "status"]
    list_filter = ["collective", "status"]
    search_fields = ["user__email"]
    raw_id_fields = ["user", "invited_by"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["collective", "email", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["collective", "role"]
    exclude = ["token"]
