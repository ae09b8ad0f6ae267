"""Forms of the living lab: they parse and validate; the services write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pickup_points.models import LabGroup
from producers.models import LabSession, Outcome, Producer, Proposal, ProposalComment


class ProposalForm(forms.ModelForm):
    class Meta:
        model = Proposal
        fields = ["title", "reason", "target_price", "target_unit", "supplier", "supplier_hint"]
        localized_fields = ["target_price"]
        widgets = {
            "reason": forms.Textarea(attrs={"rows": 4}),
            "target_price": forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "2,50"}),
        }
        help_texts = {
            "title": _("Par exemple : lentilles vertes, œufs, poulet fermier."),
            "reason": _("À quoi ce produit servirait, pour qui, ce qui manque aujourd'hui."),
            "target_price": _("Le prix qui vous semble juste, si vous en avez une idée. Par ex. 2,50."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = Producer.objects.filter(is_active=True).order_by("name")
        self.fields["supplier"].required = False
        self.fields["supplier"].empty_label = _("Je ne sais pas")
        self.fields["supplier"].label = _("Un fournisseur du collectif ?")


class CommentForm(forms.ModelForm):
    class Meta:
        model = ProposalComment
        fields = ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}


class SessionForm(forms.ModelForm):
    class Meta:
        model = LabSession
        fields = ["group", "starts_at", "place", "proposals"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "proposals": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = LabGroup.objects.order_by("name")
        self.fields["group"].empty_label = _("Tout le collectif (sans groupe)")
        self.fields["starts_at"].input_formats = ["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"]
        self.fields["proposals"].queryset = (
            Proposal.objects.filter(status__in=Proposal.OPEN_STATUSES)
            .select_related("group")
            .order_by("title")
        )
        self.fields["proposals"].label_from_instance = lambda proposal: (
            f"{proposal.title} ({proposal.group.name})" if proposal.group else proposal.title
        )


class DecisionForm(forms.Form):
    proposal = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(label=_("Décision"), choices=Outcome.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Pourquoi (les membres le liront)"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    producer = forms.ModelChoiceField(
        label=_("Fournisseur à qui demander le produit (si adoptée)"),
        queryset=Producer.objects.none(),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["producer"].queryset = Producer.objects.filter(is_active=True).order_by("name")
        self.fields["producer"].empty_label = _("Celui de la proposition")


class GroupFilterForm(forms.Form):
    groupe = forms.ModelChoiceField(
        label=_("Groupe"), queryset=LabGroup.objects.none(), required=False, empty_label=_("Tous les groupes")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groupe"].queryset = LabGroup.objects.order_by("name")
