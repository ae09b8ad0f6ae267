from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace import images
from marketplace.models import Collective, PointProposal, Role


class SignupExtraForm(forms.Form):
    """Extra fields of allauth's sign-up form: a name that staff can read on the sign-in sheets."""

    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    phone = forms.CharField(
        label=_("Téléphone (facultatif)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def signup(self, request, user) -> None:
        user.first_name = self.cleaned_data["first_name"].strip()
        user.last_name = self.cleaned_data["last_name"].strip()
        user.phone = self.cleaned_data["phone"].strip()
        user.save(update_fields=["first_name", "last_name", "phone"])


class _CollectiveForm(forms.ModelForm):
    def clean_department(self) -> str:
        # "2a" is Corse-du-Sud too; the model's validator only knows the upper-case spelling.
        return self.cleaned_data["department"].strip().upper()


class CollectiveCreateForm(_CollectiveForm):
    class Meta:
        model = Collective
        fields = [
            "name",
            "kind",
            "slug",
            "town",
            "department",
            "description",
            "contact_email",
            "contact_phone",
            "join_mode",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "join_mode": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "slug": _("Votre collectif sera à l'adresse <sous-domaine>.%(domain)s, par ex. cagette47."),
            "description": _("Quelques phrases affichées dans l'annuaire et sur votre page d'accueil."),
        }

    def __init__(self, *args, base_domain: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].help_text = self.fields["slug"].help_text % {"domain": base_domain}
        self.fields["town"].required = True
        self.fields["contact_email"].required = True

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()

    def validate_unique(self) -> None:
        """Uniqueness is the service's job (with a clearer message); the model also has a constraint."""


class CollectiveSettingsForm(_CollectiveForm):
    class Meta:
        model = Collective
        fields = [
            "name",
            "kind",
            "description",
            "logo",
            "town",
            "department",
            "contact_email",
            "contact_phone",
            "join_mode",
            "allow_cooptation",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "join_mode": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 4}),
            "logo": forms.ClearableFileInput(attrs={"accept": images.ACCEPT}),
        }
        field_classes = {"logo": images.ImageUploadField}

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "image"):  # a new upload (not the logo already there)
            images.image_validate(logo, images.LOGO)
        return logo

    def logo_change(self):
        """For the service: an upload replaces the logo, False removes it, None leaves it."""
        if "logo" not in self.changed_data:
            return None
        return self.cleaned_data.get("logo") or False


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("Adresse e-mail de la personne invitée"),
        required=False,
        help_text=_("Facultatif : sans adresse, copiez le lien et envoyez-le vous-même (SMS, messagerie…)."),
    )
    role = forms.ChoiceField(
        label=_("Rôle"), choices=Role.choices, initial=Role.MEMBER, widget=forms.RadioSelect
    )

    def __init__(self, *args, roles: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if roles is not None:
            self.fields["role"].choices = [(value, label) for value, label in Role.choices if value in roles]
            if len(roles) == 1:  # co-optation: members invite members, nothing to choose
                self.fields["role"].initial = roles[0]
                self.fields["role"].widget = forms.HiddenInput()


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Rôles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )


class CollectiveSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Commune, département ou nom"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("par ex. Agen, 47 ou Lot-et-Garonne")}
        ),
    )


class AccountDeleteForm(forms.Form):
    """Deleting an account asks for its password again: a borrowed phone left signed in is not enough."""

    password = forms.CharField(
        label=_("Votre mot de passe, pour confirmer"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("Ce mot de passe n'est pas le bon."))
        return password


WEEKDAY_CHOICES = [
    ("", _("— pas de jour fixe —")),
    (0, _("lundi")),
    (1, _("mardi")),
    (2, _("mercredi")),
    (3, _("jeudi")),
    (4, _("vendredi")),
    (5, _("samedi")),
    (6, _("dimanche")),
]


class PointProposalForm(forms.ModelForm):
    """« Proposer un point de retrait » on the public site; no account needed."""

    weekday = forms.TypedChoiceField(
        label=_("Jour de distribution habituel (facultatif)"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )

    class Meta:
        model = PointProposal
        fields = [
            "kind",
            "place_name",
            "address",
            "postcode",
            "town",
            "department",
            "hours_text",
            "weekday",
            "starts_at",
            "ends_at",
            "capacity",
            "access_instructions",
            "rules",
            "contact_name",
            "contact_role",
            "contact_email",
            "contact_phone",
        ]
        labels = {
            "starts_at": _("De (facultatif)"),
            "ends_at": _("À (facultatif)"),
        }
        widgets = {
            "kind": forms.RadioSelect,
            "starts_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "ends_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "capacity": forms.NumberInput(attrs={"min": 1, "max": 500}),
            "access_instructions": forms.Textarea(attrs={"rows": 3}),
            "rules": forms.Textarea(attrs={"rows": 3}),
            "postcode": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
            "contact_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "contact_phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        }
        help_texts = {
            "department": _(
                "Son numéro, par ex. 47 : les collectifs de ce département reçoivent la proposition."
            ),
            "contact_email": _(
                "Le collectif qui accepte vous donne accès à votre point avec cette adresse. Vos coordonnées "
                "ne sont montrées qu'aux coordinateur·rices des collectifs du département."
            ),
        }

    def clean_department(self) -> str:
        return self.cleaned_data["department"].strip().upper()

    def clean_capacity(self) -> int:
        capacity = self.cleaned_data["capacity"]
        if capacity is not None and not 1 <= capacity <= 500:
            raise forms.ValidationError(_("Indiquez entre 1 et 500 foyers par créneau."))
        return capacity
