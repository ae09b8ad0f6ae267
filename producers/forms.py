from __future__ import annotations

from decimal import Decimal

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from marketplace import images
from marketplace.money import euros
from producers import catalogue
from producers.applications import APPLICATION_FIELDS
from producers.models import (
    VAT_RATES,
    ApplicationCategory,
    ApplicationLabel,
    Category,
    Producer,
    ProducerApplication,
    Product,
    Unit,
)

PHOTO_ACCEPT = images.ACCEPT


class PhotoFormMixin(forms.Form):
    """A photo upload kept out of the model instance: the service re-encodes it and makes the thumbnail."""

    photo = images.ImageUploadField(
        label=_("Photo"),
        required=False,
        help_text=_("JPEG, PNG ou WebP, 5 Mo au plus."),
        widget=forms.FileInput(attrs={"accept": PHOTO_ACCEPT}),
    )
    remove_photo = forms.BooleanField(label=_("Retirer la photo actuelle"), required=False)

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo:
            images.image_validate(photo, images.PHOTO)
        return photo

    def photo_change(self):
        """For the service: an upload replaces the photo, False removes it, None leaves it."""
        if self.cleaned_data.get("photo"):
            return self.cleaned_data["photo"]
        if self.cleaned_data.get("remove_photo"):
            return False
        return None


def _decimal_input(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", **attrs})


class ProducerForm(PhotoFormMixin, forms.ModelForm):
    class Meta:
        model = Producer
        fields = [
            "name",
            "town",
            "description",
            "labels",
            "contact_email",
            "contact_phone",
            "minimum_order_amount",
            "is_active",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "contact_phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            "minimum_order_amount": _decimal_input(),
        }
        localized_fields = ["minimum_order_amount"]
        help_texts = {
            "minimum_order_amount": _("Facultatif ; sera utilisé avec les commandes."),
        }

    field_order = [
        "name",
        "town",
        "description",
        "labels",
        "photo",
        "remove_photo",
        "contact_email",
        "contact_phone",
        "minimum_order_amount",
        "is_active",
    ]

    def __init__(self, *args, can_deactivate: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_deactivate:  # only coordinators take a producer out of the shop
            del self.fields["is_active"]
        if not (self.instance and self.instance.photo):
            del self.fields["remove_photo"]


class ProductForm(PhotoFormMixin, forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "name",
            "category",
            "unit",
            "price",
            "vat_rate",
            "is_variable_weight",
            "estimated_weight_kg",
            "stock",
            "is_active",
            "description",
        ]
        localized_fields = ["price", "estimated_weight_kg"]
        widgets = {
            "price": _decimal_input(),
            "estimated_weight_kg": _decimal_input(placeholder="0,350"),
            "stock": forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
            "vat_rate": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "price": _("Par unité, ou par kg pour un produit vendu au poids. Par ex. 4,80."),
            "stock": _("Quantité proposée pour la prochaine vente. Laissez vide pour un stock illimité."),
            "estimated_weight_kg": _("Seulement pour un produit vendu au poids, par ex. 0,350 pour 350 g."),
        }

    field_order = [
        "name",
        "category",
        "unit",
        "price",
        "vat_rate",
        "is_variable_weight",
        "estimated_weight_kg",
        "stock",
        "is_active",
        "photo",
        "remove_photo",
        "description",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.order_by("position", "name")
        self.fields["category"].empty_label = _("— sans catégorie —")
        if not (self.instance and self.instance.photo):
            del self.fields["remove_photo"]


STOCK_OR_UNLIMITED = _(
    "Un stock chiffré ou « illimité », pas les deux : videz le stock ou décochez « illimité »."
)


class BulkRowForm(forms.Form):
    """Price and stock of one product, on the screen that edits them all at once."""

    product = forms.IntegerField(widget=forms.HiddenInput)
    price = forms.DecimalField(
        label=_("Prix TTC (€)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        localize=True,
        widget=_decimal_input(size=7),
        error_messages={"min_value": _("Le prix doit être supérieur à 0 €.")},
    )
    stock = forms.IntegerField(
        label=_("Stock"),
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
        error_messages={"min_value": _("Le stock ne peut pas être négatif.")},
    )
    unlimited = forms.BooleanField(label=_("illimité"), required=False)

    def clean(self):
        cleaned = super().clean()
        # A number and « illimité » are exclusive: which one was meant cannot be guessed, so ask.
        if "stock" not in self.errors and cleaned.get("unlimited") and cleaned.get("stock") is not None:
            raise forms.ValidationError(STOCK_OR_UNLIMITED)
        return cleaned

    def stock_value(self) -> int | None:
        return None if self.cleaned_data.get("unlimited") else self.cleaned_data.get("stock")


BulkFormSet = formset_factory(BulkRowForm, extra=0, max_num=2000, validate_max=True)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier du catalogue"),
        help_text=_(
            "Un fichier .csv ou .xlsx de 2 Mo au plus, par exemple un export modifié, ou un catalogue "
            "DFC (.json, .jsonld) exporté d'Open Food Network, de Cagette.net ou d'un autre collectif."
        ),
        widget=forms.FileInput(
            attrs={
                "accept": ".csv,.xlsx,.json,.jsonld,text/csv,application/ld+json,application/json,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if catalogue.file_format_for(upload.name) is None:
            raise forms.ValidationError(_("Choisissez un fichier .csv, .xlsx ou un catalogue DFC .json."))
        if upload.size > catalogue.IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("Le fichier ne doit pas dépasser 2 Mo."))
        return upload


class ProducerInviteForm(forms.Form):
    email = forms.EmailField(
        label=_("Adresse e-mail"),
        required=False,
        help_text=_("Facultatif : sans adresse, un lien à envoyer vous-même (SMS, messagerie…) est créé."),
    )


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "position"]
        widgets = {"position": forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"})}


class ShopFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("par ex. tomates, miel")}),
    )
    categorie = forms.TypedChoiceField(label=_("Catégorie"), required=False, coerce=int, empty_value=None)
    producteur = forms.TypedChoiceField(label=_("Producteur"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, categories, producers, producer_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categorie"].choices = [("", _("Toutes"))] + [(c.pk, c.name) for c in categories]
        self.fields["producteur"].choices = [("", _("Tous"))] + [(p.pk, p.name) for p in producers]
        if producer_label:
            self.fields["producteur"].label = producer_label


AGREEMENT_DATE_WIDGET = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class PriceAgreementForm(forms.Form):
    """An agreement's dates, who agreed, a note, and one « prix convenu » field per product (blank: left
    out of the agreement)."""

    starts_on = forms.DateField(label=_("Valable du"), widget=AGREEMENT_DATE_WIDGET)
    ends_on = forms.DateField(label=_("Jusqu'au (inclus)"), widget=AGREEMENT_DATE_WIDGET)
    agreed_on = forms.DateField(label=_("Conclu le"), widget=AGREEMENT_DATE_WIDGET)
    agreed_with = forms.CharField(
        label=_("Conclu avec"),
        max_length=160,
        help_text=_(
            "Qui a discuté les prix, par ex. : Marie Dupuy (ferme) et le groupe labo du centre social."
        ),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, products: list[Product], **kwargs):
        super().__init__(*args, **kwargs)
        self.products = products
        for product in products:
            self.fields[f"price_{product.pk}"] = forms.DecimalField(
                label=_("%(name)s (€ / %(unit)s)")
                % {"name": product.name, "unit": product.get_unit_display()},
                required=False,
                min_value=Decimal("0.01"),
                max_digits=12,
                decimal_places=2,
                help_text=_(
                    "Prix du catalogue : %(price)s. Laissez vide si ce produit n'est pas dans l'accord."
                )
                % {"price": euros(product.price)},
            )

    def prices(self) -> dict[int, Decimal]:
        return {
            product.pk: self.cleaned_data[f"price_{product.pk}"]
            for product in self.products
            if self.cleaned_data.get(f"price_{product.pk}") is not None
        }


class SharedProductForm(forms.Form):
    """A product of the producer's one catalogue: what each collective's copy shows, and the central stock."""

    name = forms.CharField(label=_("Nom"), max_length=120)
    unit = forms.ChoiceField(label=_("Unité"), choices=Unit.choices)
    price = forms.DecimalField(
        label=_("Prix TTC conseillé (€)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        localize=True,
        widget=_decimal_input(),
        help_text=_("Le prix d'un nouveau collectif ; chaque collectif garde le sien."),
        error_messages={
            "min_value": _("Le prix doit être supérieur à 0 €."),
            "invalid": _("Indiquez un prix, par ex. 4,80."),
        },
    )
    vat_rate = forms.TypedChoiceField(
        label=_("Taux de TVA"), choices=VAT_RATES, coerce=Decimal, widget=forms.RadioSelect
    )
    is_variable_weight = forms.BooleanField(label=_("Vendu au poids"), required=False)
    estimated_weight_kg = forms.DecimalField(
        label=_("Poids estimé d'une pièce (kg)"),
        max_digits=7,
        decimal_places=3,
        min_value=Decimal("0.001"),
        required=False,
        localize=True,
        widget=_decimal_input(placeholder="0,350"),
        error_messages={
            "min_value": _("Le poids estimé doit être positif."),
            "invalid": _("Indiquez un poids, par ex. 0,350."),
        },
    )
    stock = forms.IntegerField(
        label=_("Stock central"),
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
        help_text=_(
            "Ce que vous avez pour tous vos collectifs ensemble. Laissez vide pour un stock illimité."
        ),
        error_messages={
            "min_value": _("Le stock ne peut pas être négatif."),
            "invalid": _("Indiquez un nombre entier."),
        },
    )
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self):
        data = super().clean()
        if data.get("is_variable_weight"):
            if data.get("unit") != Unit.KG:
                self.add_error(
                    "unit", _("Un produit vendu au poids a un prix au kg : choisissez l'unité « kg ».")
                )
            if not data.get("estimated_weight_kg"):
                self.add_error(
                    "estimated_weight_kg",
                    _("Indiquez le poids estimé d'une pièce, pour afficher un prix estimé."),
                )
        return data


class SharedOfferForm(forms.Form):
    """Offer a shared product to one more collective, at its own price."""

    collective = forms.TypedChoiceField(label=_("Collectif"), coerce=int)
    price = forms.DecimalField(
        label=_("Prix TTC dans ce collectif (€)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        localize=True,
        widget=_decimal_input(),
        help_text=_("Laissez vide pour le prix conseillé."),
        error_messages={
            "min_value": _("Le prix doit être supérieur à 0 €."),
            "invalid": _("Indiquez un prix, par ex. 4,80."),
        },
    )

    def __init__(self, *args, collectives, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collective"].choices = [(collective.pk, collective.name) for collective in collectives]
        self.fields["collective"].error_messages["invalid_choice"] = _("Choisissez un collectif de la liste.")


# « Rejoindre comme producteur » -----------------------------------------------------------------------------


class ApplicationForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(
        label=_("Ce que vous produisez"),
        choices=ApplicationCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Cochez au moins une famille de produits.")},
    )
    labels = forms.MultipleChoiceField(
        label=_("Labels"),
        choices=ApplicationLabel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Aucun label ? Laissez vide : ce n'est pas une condition."),
    )

    class Meta:
        model = ProducerApplication
        fields = list(APPLICATION_FIELDS)
        widgets = {
            "products": forms.Textarea(attrs={"rows": 3}),
            "selling_today": forms.Textarea(attrs={"rows": 2}),
            "message": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "department": _("Son numéro, par ex. 47."),
            "products": _(
                "Par ex. : légumes de saison, une vingtaine de variétés ; œufs de poules plein air."
            ),
            "selling_today": _("Marché, vente à la ferme, AMAP, magasin de producteurs…"),
        }

    def validate_unique(self) -> None:
        """A pending application of the same farm is not an error: the service answers with it."""


class ApplicationRefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du refus"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Envoyé à la personne candidate. Restez courtois·e : dites ce qui manque ou ce qui bloque."
        ),
        error_messages={"required": _("Dites en quelques mots pourquoi : la personne le recevra.")},
    )
