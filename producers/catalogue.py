"""A producer's catalogue as a spreadsheet (CSV or XLSX), through django-import-export.

The file has one row per product and French column names; an export can be edited and imported back,
and importing an unchanged export changes nothing. Rows are matched on « identifiant » (blank for a new
product) and only ever within the producer being imported: an identifier of another producer's product is
an error of that row, never a write.

Over 400 lines: the file format (columns, widgets, cp1252, XLSX checks) and the import report belong
together; the import-export resource needs all of them.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import resources, widgets
from import_export.fields import Field
from import_export.results import Result, RowResult

from marketplace.models import search_normalize
from producers import agreements, dfc
from producers.models import VAT_RATES, Category, LinkStatus, Producer, Product, Unit

IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_ROWS = 2000
PROGRESS_EVERY = 50  # rows between two progress reports of a background import
XLSX_MAX_UNPACKED_BYTES = 50 * 1024 * 1024


def _french(text) -> str:
    """A lazy UI string as written in the code (French), whatever the visitor's language."""
    with translation.override("fr"):
        return str(text)


# Column names as exported (in the visitor's language), then the other spellings accepted on import;
# the French names are always accepted too, so a file made in one language imports in the other.
COLUMNS = {
    "id": (gettext_lazy("identifiant"), ["id", "ref", "reference"]),
    "name": (gettext_lazy("nom"), ["produit", "name"]),
    "description": (gettext_lazy("description"), []),
    "category": (gettext_lazy("catégorie"), ["rayon", "category"]),
    "unit": (gettext_lazy("unité"), ["unit"]),
    "price": (gettext_lazy("prix TTC (€)"), ["prix", "prix ttc", "prix ttc eur", "price"]),
    "vat_rate": (gettext_lazy("TVA (%)"), ["tva", "taux de tva", "vat"]),
    "is_active": (gettext_lazy("en vente"), ["actif", "active"]),
    "is_variable_weight": (gettext_lazy("vendu au poids"), ["poids variable", "au poids"]),
    "estimated_weight_kg": (gettext_lazy("poids estimé (kg)"), ["poids estime", "poids"]),
    "stock": (gettext_lazy("stock (vide = illimité)"), ["stock", "quantite"]),
}

YES = {"oui", "o", "yes", "y", "vrai", "true", "1", "x"}
NO = {"non", "n", "no", "faux", "false", "0"}
UNLIMITED = {"illimite", "illimitee", "unlimited"}


def _plain(value) -> str:
    return search_normalize(str(value)).strip()


def _decimal(value, *, places: int, what: str) -> Decimal | None:
    """A number typed by a French speaker (« 4,80 », « 4.8 », « 4,80 € ») or read from a spreadsheet cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(_("%(what)s invalide : « %(value)s ».") % {"what": what, "value": value})
    if isinstance(value, float):
        # A spreadsheet cell: 4.8 may come back as 4.800000000000001 after a formula.
        number = Decimal(repr(value))
        rounded = round(number, places)
        if abs(number - rounded) < Decimal("1e-9"):
            number = rounded
    elif isinstance(value, int | Decimal):
        number = Decimal(value)
    else:
        text = re.sub(r"[\s\u00a0\u202f€%]", "", value).replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValueError(
                _("%(what)s invalide : « %(value)s » n'est pas un nombre.") % {"what": what, "value": value}
            ) from None
    try:
        rounded = number.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        raise ValueError(
            _("%(what)s invalide : « %(value)s » est trop grand.") % {"what": what, "value": value}
        ) from None
    if number != rounded:
        if places == 0:
            raise ValueError(
                _("%(what)s invalide : « %(value)s » doit être un nombre entier.")
                % {"what": what, "value": value}
            )
        raise ValueError(
            _("%(what)s invalide : « %(value)s » a plus de %(places)s chiffres après la virgule.")
            % {"what": what, "value": value, "places": places}
        )
    return rounded


def _render_decimal(value: Decimal | None, *, places: int, native: bool):
    if value is None:
        return ""
    if native:  # a number cell in XLSX
        return value
    return number_format(value, places, use_l10n=False).replace(".", ",")


class IdWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if value is None or str(value).strip() == "":
            return None
        try:
            number = Decimal(str(value).strip())
            if number != number.to_integral_value() or number <= 0:
                raise InvalidOperation
        except InvalidOperation:
            raise ValueError(_("Identifiant invalide : « %(value)s ».") % {"value": value}) from None
        return int(number)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else (value if kwargs.get("native") else str(value))


# A spreadsheet runs a cell starting with one of these as a formula: exported with a leading apostrophe
# (the spreadsheets' own "this is text" mark), taken off again on import.
FORMULA_STARTS = ("=", "+", "-", "@")


class TextWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else str(value).strip()
        if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
            text = text[1:]
        return text

    def render(self, value, obj=None, **kwargs):
        if value and value.startswith(FORMULA_STARTS):
            return "'" + value
        return value or ""


class CategoryWidget(widgets.Widget):
    """A category of the collective, by name (case and accents ignored); blank for none."""

    def __init__(self):
        super().__init__()
        # Filled on first use; each resource works on its own copy of the fields (Resource.__init__
        # deep-copies them), so the cache lives for one import.
        self._categories: dict[str, Category] | None = None

    def clean(self, value, row=None, **kwargs):
        if value is None or not str(value).strip():
            return None
        if self._categories is None:
            self._categories = {_plain(category.name): category for category in Category.objects.all()}
        category = self._categories.get(_plain(value))
        if category is None:
            names = ", ".join(category.name for category in self._categories.values())
            raise ValueError(
                _("Catégorie inconnue : « %(value)s ». Catégories possibles : %(names)s.")
                % {"value": value, "names": names or _("aucune pour l'instant")}
            )
        return category

    def render(self, value, obj=None, **kwargs):
        return value.name if value else ""


class UnitWidget(widgets.Widget):
    ALIASES = {"pc": Unit.PIECE, "pce": Unit.PIECE, "u": Unit.PIECE, "kilo": Unit.KG, "litre": Unit.LITRE}

    def clean(self, value, row=None, **kwargs):
        text = _plain(value or "")
        for code, label in Unit.choices:
            if text in {_plain(code), _plain(label), _plain(_french(label))}:
                return code
        if text in self.ALIASES:
            return self.ALIASES[text]
        if not text:
            raise ValueError(_("Indiquez l'unité."))
        labels = ", ".join(str(label) for _code, label in Unit.choices)
        raise ValueError(
            _("Unité inconnue : « %(value)s ». Unités possibles : %(labels)s.")
            % {"value": value, "labels": labels}
        )

    def render(self, value, obj=None, **kwargs):
        return str(Unit(value).label) if value else ""


class DecimalWidget(widgets.Widget):
    def __init__(self, *, places: int, what: str):
        super().__init__()
        self.places = places
        self.what = what

    def clean(self, value, row=None, **kwargs):
        return _decimal(value, places=self.places, what=str(self.what))

    def render(self, value, obj=None, **kwargs):
        return _render_decimal(value, places=self.places, native=kwargs.get("native", False))


class VatWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        rate = _decimal(value, places=1, what=_("TVA")) if value not in (None, "") else None
        known = [known_rate for known_rate, _label in VAT_RATES]
        if rate is None:
            raise ValueError(_("Indiquez le taux de TVA : 5,5, 10 ou 20."))
        if rate not in known:
            raise ValueError(
                _("TVA inconnue : « %(value)s ». Taux possibles : 5,5, 10 ou 20.") % {"value": value}
            )
        return rate

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        text = f"{value.normalize():f}"
        if kwargs.get("native"):
            return Decimal(text)
        return text.replace(".", ",")


class YesNoWidget(widgets.Widget):
    def __init__(self, *, default: bool):
        super().__init__()
        self.default = default

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = _plain(value if value is not None else "")
        if not text:
            return self.default
        if text in YES:
            return True
        if text in NO:
            return False
        raise ValueError(_("Répondez « oui » ou « non » (et non « %(value)s »).") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        return _("oui") if value else _("non")


class StockWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str) and _plain(value) in UNLIMITED:
            return None
        number = _decimal(value, places=0, what=_("Stock")) if not isinstance(value, bool) else None
        if number is None:
            raise ValueError(_("Stock invalide : « %(value)s ».") % {"value": value})
        return int(number)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else (value if kwargs.get("native") else str(value))


# Product constraints the row's own checks already enforce (field validators, VatWidget, Product.clean),
# or that an import cannot break (it never links a product to the shared catalogue).
CONSTRAINTS_CHECKED_BY_FIELDS = {
    "product_price_positive",
    "product_stock_not_negative",
    "product_vat_rate_known",
    "product_variable_weight_by_kg",
    "product_one_copy_of_shared",
}


def _field(attribute: str, widget: widgets.Widget, **kwargs) -> Field:
    return Field(attribute=attribute, column_name=attribute, widget=widget, **kwargs)


class ProductResource(resources.ModelResource):
    """The catalogue of one producer. Column names are the model's field names here; the French headers
    of the file are mapped to them by `dataset_read` and back by `catalogue_export`."""

    id = _field("id", IdWidget(), readonly=True)
    name = _field("name", TextWidget())
    description = _field("description", TextWidget())
    category = _field("category", CategoryWidget())
    unit = _field("unit", UnitWidget())
    price = _field("price", DecimalWidget(places=2, what=gettext_lazy("Prix")))
    vat_rate = _field("vat_rate", VatWidget())
    is_active = _field("is_active", YesNoWidget(default=True))
    is_variable_weight = _field("is_variable_weight", YesNoWidget(default=False))
    estimated_weight_kg = _field("estimated_weight_kg", DecimalWidget(places=3, what=gettext_lazy("Poids")))
    stock = _field("stock", StockWidget())

    class Meta:
        model = Product
        fields = tuple(COLUMNS)
        import_id_fields = ["id"]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True
        skip_html_diff = True

    def __init__(self, *, producer: Producer, progress: Callable[[int], None] | None = None):
        super().__init__()
        self.producer = producer
        self._seen_ids: set[int] = set()
        self._prices_before: dict[int, Decimal] = {}
        self._progress = progress
        self._rows_done = 0
        # The producer's catalogue, read once (`_catalogue_load`): rows are matched and checked against it
        # in memory, and it follows what earlier rows of the file did (`_catalogue_follow`).
        self._by_id: dict[int, Product] | None = None
        self._by_name: dict[str, Product] = {}
        self._name_indexed: dict[int, str] = {}  # id() of a product → its key in `_by_name`
        self._agreed: dict[int, agreements.AgreedPrice] = {}

    def after_import_row(self, row, row_result, **kwargs):
        self._rows_done += 1
        if self._progress is not None and self._rows_done % PROGRESS_EVERY == 0:
            self._progress(self._rows_done)

    def get_queryset(self):
        return Product.objects.filter(producer=self.producer).select_related("category")

    def _catalogue_load(self) -> dict[int, Product]:
        if self._by_id is None:
            self._by_id = {product.pk: product for product in self.get_queryset()}
            for product in self._by_id.values():
                self._name_index(product)
            self._agreed = agreements.agreed_prices(product_ids=list(self._by_id), on=timezone.localdate())
        return self._by_id

    def _name_index(self, product: Product) -> None:
        old = self._name_indexed.pop(id(product), None)
        if old is not None and self._by_name.get(old) is product:
            del self._by_name[old]
        key = product.name.lower()
        self._by_name[key] = product
        self._name_indexed[id(product)] = key

    def get_instance(self, instance_loader, row):
        instance = self._instance_of(row)
        if instance is not None:
            self._prices_before[instance.pk] = instance.price
        return instance

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The model's checks without a query a row: its fields and `clean`, a price agreement's (a file may
        not change a guaranteed price) and the table's constraints, against the catalogue read once."""
        errors = dict(import_validation_errors or {})
        before = self._prices_before.get(instance.pk) if instance.pk else None
        if before is not None and instance.price is not None and "price" not in errors:
            try:
                agreements.price_change_check(
                    product=instance, new_price=instance.price, old_price=before, agreed=self._agreed
                )
            except ValidationError as problem:
                errors = problem.update_error_dict(errors)
        try:
            # The producer is the one imported into and a category one of the collective's (CategoryWidget):
            # their foreign keys need no query.
            instance.full_clean(
                exclude=[*errors, "producer", "category", "shared_product"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as problem:
            errors = problem.update_error_dict(errors)
        for constraint in Product._meta.constraints:
            if constraint.name in CONSTRAINTS_CHECKED_BY_FIELDS:
                continue
            try:
                if constraint.name == "product_name_unique_per_producer":
                    self._name_free_check(instance, constraint.violation_error_message)
                elif constraint.name == "product_active_only_if_accepted":
                    if instance.is_active and instance.link_status not in (
                        LinkStatus.OWN,
                        LinkStatus.ACCEPTED,
                    ):
                        raise ValidationError(constraint.violation_error_message)
                else:  # a constraint this resource does not know: the database checks it
                    constraint.validate(Product, instance, exclude=set(errors))
            except ValidationError as problem:
                errors = problem.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _name_free_check(self, instance: Product, message) -> None:
        if not instance.name:
            return
        holder = self._by_name.get(instance.name.lower())
        if holder is not None and holder is not instance:  # one object per product of the catalogue
            raise ValidationError({"name": message})

    def _instance_of(self, row):
        catalogue = self._catalogue_load()
        try:
            product_id = self.fields["id"].clean(row) if "id" in row else None
        except ValueError as problem:
            raise ValidationError({"id": str(problem)}) from None
        if product_id is None:
            # A row typed by hand, without identifier: the product of the same name, if there is one.
            name = self.fields["name"].clean(row)
            instance = self._by_name.get(name.lower()) if name else None
            if instance is not None:
                if instance.pk is None:  # a new product of an earlier row of this file
                    raise ValidationError({"id": _("Ce produit apparaît deux fois dans le fichier.")})
                self._seen_ids_check(instance.pk)
            return instance
        self._seen_ids_check(product_id)
        instance = catalogue.get(product_id)
        if instance is None:
            raise ValidationError(
                {
                    "id": _(
                        "Identifiant inconnu : %(id)s n'est pas un produit de votre catalogue "
                        "(laissez la case vide pour un nouveau produit)."
                    )
                    % {"id": product_id}
                }
            )
        return instance

    def _seen_ids_check(self, product_id: int) -> None:
        if product_id in self._seen_ids:
            raise ValidationError({"id": _("Ce produit apparaît deux fois dans le fichier.")})
        self._seen_ids.add(product_id)

    def init_instance(self, row=None):
        return Product(producer=self.producer)

    def save_instance(self, instance, is_create, row, **kwargs):
        """Saved on a real import; a dry run writes nothing (the rows were checked without the database)."""
        if kwargs.get("dry_run"):
            self._catalogue_follow(instance)
            return
        super().save_instance(instance, is_create, row, **kwargs)

    def after_save_instance(self, instance, row, **kwargs):
        self._catalogue_follow(instance)

    def _catalogue_follow(self, instance: Product) -> None:
        """What this row did, for the next rows: a product created by an earlier row is not to be created
        or changed again by a later one, and a name taken or freed counts from here on."""
        if instance.pk is not None:
            self._seen_ids.add(instance.pk)
        self._name_index(instance)

    def after_import(self, dataset, result, **kwargs):
        """No sequence reset: new rows never carry their own id, and resetting a sequence races with
        concurrent inserts."""


@dataclass
class RowReport:
    number: int
    kind: str  # new, update, skip, invalid
    name: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[RowReport] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.file_errors) or any(row.kind == "invalid" for row in self.rows)

    def count(self, kind: str) -> int:
        return sum(1 for row in self.rows if row.kind == kind)

    @property
    def new_count(self) -> int:
        return self.count("new")

    @property
    def update_count(self) -> int:
        return self.count("update")

    @property
    def skip_count(self) -> int:
        return self.count("skip")

    @property
    def error_count(self) -> int:
        return self.count("invalid")

    def as_json(self) -> dict:
        """What a background preview keeps on its job for the page to show (lists of strings only)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ImportReport:
        rows = [
            RowReport(
                number=row["number"],
                kind=row["kind"],
                name=row["name"],
                changes=[tuple(change) for change in row["changes"]],
                details=[tuple(detail) for detail in row["details"]],
                errors=list(row["errors"]),
            )
            for row in data.get("rows", [])
        ]
        return cls(
            rows=rows,
            file_errors=data.get("file_errors", []),
            ignored_columns=data.get("ignored_columns", []),
        )


class CatalogueFileError(Exception):
    """The file cannot be read at all (not a CSV/XLSX, no « nom » column, too many rows…)."""


def file_format_for(file_name: str) -> str | None:
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension in {"json", "jsonld"}:  # a Data Food Consortium catalogue (JSON-LD)
        return "json"
    return extension if extension in {"csv", "xlsx"} else None


def _dfc_dataset(content: bytes) -> tablib.Dataset:
    """A DFC catalogue as the dataset a spreadsheet would give: the same checks and review follow."""
    try:
        rows = dfc.catalogue_rows(content)
    except dfc.DfcFileError as problem:
        raise CatalogueFileError(str(problem)) from None
    headers = ["name", "description", "unit", "price", "vat_rate", "stock"]
    dataset = tablib.Dataset(headers=headers)
    for row in rows:
        dataset.append([row[header] for header in headers])
    return dataset


def _csv_text(content: bytes) -> str:
    # Spreadsheets save CSV in UTF-8 (with or without BOM) or, for French Excel, in Windows-1252.
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _dataset_load(content: bytes, file_format: str) -> tablib.Dataset:
    if file_format == "json":
        return _dfc_dataset(content)
    if file_format == "csv":
        text = _csv_text(content)
        first_line = text.split("\n", 1)[0]
        delimiter = max([";", ",", "\t"], key=first_line.count)
        try:
            return tablib.Dataset().load(text, format="csv", delimiter=delimiter)
        except csv.Error as problem:
            raise CatalogueFileError(
                _("Ce fichier CSV est illisible : %(problem)s") % {"problem": problem}
            ) from None
        except tablib.InvalidDimensions:
            raise CatalogueFileError(
                _("Une ligne du fichier a plus de colonnes que la première ligne (les noms des colonnes).")
            ) from None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        unpacked = 0
    if unpacked > XLSX_MAX_UNPACKED_BYTES:  # a small file that would unpack into gigabytes
        raise CatalogueFileError(_("Ce tableur est trop gros : 2000 produits au plus."))
    try:
        return tablib.Dataset().load(io.BytesIO(content), format="xlsx")
    except Exception:  # openpyxl raises many kinds of errors on a damaged or foreign file
        raise CatalogueFileError(
            _("Ce fichier n'est pas un tableur XLSX lisible. Enregistrez-le au format .xlsx ou .csv.")
        ) from None


def dataset_read(content: bytes, file_format: str) -> tuple[tablib.Dataset, list[str]]:
    """The file as a dataset whose headers are field names, and the columns that will be ignored."""
    if len(content) > IMPORT_MAX_BYTES:
        raise CatalogueFileError(_("Le fichier ne doit pas dépasser 2 Mo."))
    raw = _dataset_load(content, file_format)
    if not raw.headers:
        raise CatalogueFileError(
            _("Le fichier est vide : la première ligne doit porter les noms des colonnes.")
        )
    aliases = {}
    for attribute, (label, others) in COLUMNS.items():
        for spelling in [attribute, str(label), _french(label), *others]:
            aliases[_plain(spelling)] = attribute
    headers, ignored = [], []
    for header in raw.headers:
        attribute = aliases.get(_plain(header or ""))
        if attribute is None or attribute in headers:
            if header not in (None, ""):
                ignored.append(str(header))
            headers.append(f"ignored:{len(headers)}")
        else:
            headers.append(attribute)
    if "name" not in headers:
        raise CatalogueFileError(
            _("La colonne « %(column)s » est obligatoire (première ligne du fichier).")
            % {"column": COLUMNS["name"][0]}
        )
    dataset = tablib.Dataset(headers=headers)
    for row in raw:
        if all(cell is None or str(cell).strip() == "" for cell in row):
            continue
        dataset.append(row)
    if len(dataset) > IMPORT_MAX_ROWS:
        raise CatalogueFileError(
            _("Le fichier a trop de lignes : %(max)s produits au plus.") % {"max": IMPORT_MAX_ROWS}
        )
    return dataset, ignored


def _label(attribute: str) -> str:
    if attribute in COLUMNS:
        return str(COLUMNS[attribute][0])
    return ""


def _row_report(resource: ProductResource, number: int, row: dict, row_result: RowResult) -> RowReport:
    name = str(row.get("name") or "").strip()
    if row_result.import_type == RowResult.IMPORT_TYPE_INVALID:
        errors = []
        for attribute, messages in row_result.validation_error.message_dict.items():
            label = "" if attribute == NON_FIELD_ERRORS else _label(attribute)
            errors += [f"{label} : {message}" if label else message for message in messages]
        return RowReport(number=number, kind="invalid", name=name, errors=errors)
    if row_result.import_type == RowResult.IMPORT_TYPE_ERROR:
        # Not expected (validation catches what the database would refuse); said plainly, never hidden.
        messages = [str(error.error) for error in row_result.errors]
        return RowReport(number=number, kind="invalid", name=name, errors=messages)
    report = RowReport(number=number, kind=row_result.import_type, name=name)
    if row_result.import_type == RowResult.IMPORT_TYPE_NEW and row_result.instance is not None:
        for attribute in ("unit", "price", "stock"):
            value = resource.fields[attribute].export(row_result.instance)
            report.details.append((_label(attribute), value or _("illimité")))
    if row_result.import_type == RowResult.IMPORT_TYPE_UPDATE and row_result.original is not None:
        for attribute in COLUMNS:
            if attribute not in row or attribute == "id":
                continue
            resource_field = resource.fields[attribute]
            before = resource_field.export(row_result.original)
            after = resource_field.export(row_result.instance)
            if before != after:
                report.changes.append((_label(attribute), before, after))
    return report


def catalogue_import_run(
    *,
    producer: Producer,
    content: bytes,
    file_format: str,
    dry_run: bool,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the file into the producer's catalogue, or only say what that would do (`dry_run`).

    Writes nothing unless every row is valid; the caller runs it inside a transaction and rolls back
    when the report has errors.
    """
    report = ImportReport()
    try:
        dataset, report.ignored_columns = dataset_read(content, file_format)
    except CatalogueFileError as problem:
        report.file_errors.append(str(problem))
        return report
    total = len(dataset)
    resource = ProductResource(
        producer=producer, progress=(lambda done: progress(done, total)) if progress else None
    )
    result: Result = resource.import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=True,
        retain_instance_in_row_result=True,
    )
    for error in result.base_errors:
        report.file_errors.append(str(error.error))
    for number, (row, row_result) in enumerate(zip(dataset.dict, result.rows, strict=True), start=2):
        report.rows.append(_row_report(resource, number, row, row_result))
    if not report.rows and not report.file_errors:
        report.file_errors.append(_("Le fichier ne contient aucun produit."))
    return report


def catalogue_export(*, producer: Producer, file_format: str) -> bytes:
    """The producer's whole catalogue (active or not) as CSV (French Excel flavour) or XLSX."""
    resource = ProductResource(producer=producer)
    queryset = resource.get_queryset().order_by("name", "pk")
    native = file_format == "xlsx"
    dataset = tablib.Dataset(headers=[str(label) for label, _others in COLUMNS.values()])
    for product in queryset:
        dataset.append([resource.fields[attribute].export(product, native=native) for attribute in COLUMNS])
    if file_format == "xlsx":
        dataset.title = _("Catalogue")[:31]
        return dataset.export("xlsx")
    # Semicolons and a BOM: what a French spreadsheet expects when it opens a .csv by double-click.
    return ("\ufeff" + dataset.export("csv", delimiter=";")).encode("utf-8")
