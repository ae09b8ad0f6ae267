"""Catalogue as CSV/XLSX: export, dry run row by row, confirmation, all or nothing, round trip."""

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from producers import services
from producers.models import ImportJob, Product
from tests.conftest import words
from tests.producers import factories
from tests.producers.conftest import back_to
from tests.producers.conftest import read as text

HEADER = (
    "identifiant;nom;description;catégorie;unité;prix TTC (€);TVA (%);en vente;vendu au poids;"
    "poids estimé (kg);stock (vide = illimité)"
)


@pytest.fixture
def catalogue(farm, vegetables, dairy):
    return [
        factories.product(farm, "Tomates anciennes", price=Decimal("4.50"), category=vegetables, stock=30),
        factories.product(
            farm,
            "Poulet fermier",
            unit="kg",
            price=Decimal("11.50"),
            category=dairy,
            is_variable_weight=True,
            estimated_weight_kg=Decimal("1.800"),
            stock=None,
            description='=HYPERLINK("x") ; élevé en plein air',
        ),
        factories.product(
            farm,
            "Vin rouge",
            unit="bottle",
            price=Decimal("8.00"),
            vat_rate=Decimal("20.0"),
            stock=0,
            is_active=False,
        ),
    ]


def _snapshot(producer) -> list[tuple]:
    return list(
        Product.objects.filter(producer=producer)
        .order_by("pk")
        .values_list(
            "pk",
            "name",
            "description",
            "category_id",
            "unit",
            "price",
            "vat_rate",
            "is_active",
            "is_variable_weight",
            "estimated_weight_kg",
            "stock",
            "updated_at",
        )
    )


def _committed(request):
    """A request whose follow-ups (the background check or import) run once it has committed, as the
    worker would run them."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return request()


def _upload(client, producer, name: str, content: bytes):
    return _committed(
        lambda: client.post(
            f"/producteurs/{producer.pk}/importer/", {"file": SimpleUploadedFile(name, content)}
        )
    )


def _review_url(response) -> str:
    assert response.status_code == 302, response.content[:2000]
    return response["Location"]


def test_export_csv_is_what_a_french_spreadsheet_opens(browse, in_alpha, farm, catalogue):
    response = browse(in_alpha, in_alpha.producer).get(f"/producteurs/{farm.pk}/exporter/?format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="catalogue-ferme-des-coteaux.csv"'
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff" + HEADER)
    lines = content.splitlines()
    tomatoes, chicken, wine = catalogue
    assert f"{tomatoes.pk};Tomates anciennes;;Légumes;kg;4,50;5,5;oui;non;;30" in lines
    assert f"{wine.pk};Vin rouge;;;bouteille;8,00;20;non;non;;0" in lines
    # A cell that a spreadsheet would run as a formula is exported as text.
    assert f'{chicken.pk};Poulet fermier;"\'=HYPERLINK(""x"") ; élevé en plein air";Œufs' in content


def test_export_xlsx_has_numbers_as_numbers(browse, in_alpha, farm, catalogue):
    response = browse(in_alpha, in_alpha.coordinator).get(f"/producteurs/{farm.pk}/exporter/?format=xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][1] == "nom" and rows[0][5] == "prix TTC (€)"
    tomatoes = next(row for row in rows if row[1] == "Tomates anciennes")
    assert tomatoes[5] == 4.5 and tomatoes[6] == 5.5 and tomatoes[10] == 30


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(browse, in_alpha, farm, catalogue, file_format):
    client = browse(in_alpha, in_alpha.producer)
    exported = client.get(f"/producteurs/{farm.pk}/exporter/?format={file_format}").content
    back_to(in_alpha.collective)
    before = _snapshot(farm)

    review = client.get(_review_url(_upload(client, farm, f"catalogue.{file_format}", exported)))
    page = text(review)
    assert review.status_code == 200
    assert "3 produits inchangés" in page and "nouveau" not in page and "modifié" not in page
    assert "Ce fichier ne change rien à votre catalogue." in page

    # Confirming anyway writes nothing either.
    confirm = _committed(lambda: client.post(review.request["PATH_INFO"]))
    assert confirm.status_code == 302
    back_to(in_alpha.collective)
    assert _snapshot(farm) == before


def test_dry_run_shows_row_by_row_what_would_change(browse, in_alpha, farm, catalogue):
    tomatoes = catalogue[0]
    content = "\n".join(
        [
            HEADER,
            f"{tomatoes.pk};Tomates anciennes;;Légumes;kg;4,90;5,5;oui;non;;12",
            ";Aubergines;;légumes;KG;3.2;5.5;oui;non;;",
            ";Œufs;;;douzaine;4,80;5,5;;;;40",
        ]
    ).encode("utf-8")
    client = browse(in_alpha, in_alpha.producer)
    review_url = _review_url(_upload(client, farm, "maj.csv", content))
    back_to(in_alpha.collective)
    before = _snapshot(farm)

    page = words(client.get(review_url))
    assert "2 nouveaux produits" in page and "1 produit modifié" in page
    assert "prix TTC (€) : 4,50 → 4,90" in page
    assert "stock (vide = illimité) : 30 → 12" in page
    assert (
        "Aubergines nouveau ligne 3 unité : kg prix TTC (€) : 3,20 stock (vide = illimité) : illimité" in page
    )
    assert "Confirmer l'import" in page
    back_to(in_alpha.collective)
    assert _snapshot(farm) == before  # a dry run writes nothing

    response = _committed(lambda: client.post(review_url, {"price": "0,01"}))  # the file kept is imported
    assert response.status_code == 302
    assert "Import terminé : 2 produit(s) ajouté(s), 1 modifié(s), 0 inchangé(s)." in text(
        client.get(response["Location"], follow=True)
    )
    back_to(in_alpha.collective)
    tomatoes.refresh_from_db()
    assert tomatoes.price == Decimal("4.90") and tomatoes.stock == 12
    aubergines = Product.objects.get(producer=farm, name="Aubergines")
    assert aubergines.unit == "kg" and aubergines.price == Decimal("3.20") and aubergines.stock is None
    assert aubergines.category.name == "Légumes"
    assert Product.objects.get(producer=farm, name="Œufs").unit == "dozen"

    # The same confirmation twice imports once.
    again = _committed(lambda: client.post(review_url))
    assert again.status_code == 302
    back_to(in_alpha.collective)
    assert Product.objects.filter(producer=farm).count() == 5


BAD_ROWS = [
    (";Courges;;;citrouille;2,00;5,5;oui;non;;", "unité : Unité inconnue : « citrouille »."),
    (";Navets;;;kg;-1,50;5,5;oui;non;;", "prix TTC (€) : Le prix doit être supérieur à 0 €."),
    (";;;;kg;2,00;5,5;oui;non;;", "nom : Ce champ ne peut pas être vide."),
    (";Blettes;;;kg;2,00;7;oui;non;;", "TVA (%) : TVA inconnue : « 7 ». Taux possibles : 5,5, 10 ou 20."),
    (
        ";Fèves;;;kg;2,00;5,5;peut-être;non;;",
        "en vente : Répondez « oui » ou « non » (et non « peut-être »).",
    ),
    (";Oignons;;;kg;2,00;5,5;oui;non;;-4", "stock (vide = illimité) : Le stock ne peut pas être négatif."),
    (
        ";Ail;;;kg;2,00;5,5;oui;non;;2,5",
        "stock (vide = illimité) : Stock invalide : « 2,5 » doit être un nombre entier.",
    ),
    (";Persil;;Herbes;botte;1,00;5,5;oui;non;;", "catégorie : Catégorie inconnue : « Herbes »."),
    (
        ";Melon;;;pièce;3,00;5,5;oui;oui;;",
        "unité : Un produit vendu au poids a un prix au kg : choisissez l'unité « kg ».",
    ),
    (
        ";Prunes;;;kg;trois euros;5,5;oui;non;;",
        "prix TTC (€) : Prix invalide : « trois euros » n'est pas un nombre.",
    ),
    (";Pêches;;;kg;2,555;5,5;oui;non;;", "Prix invalide : « 2,555 » a plus de 2 chiffres après la virgule."),
]


def test_every_error_is_reported_in_french_and_nothing_is_written(browse, in_alpha, farm, catalogue):
    good = ";Aubergines;;;kg;3,20;5,5;oui;non;;"
    content = "\n".join([HEADER, good, *(row for row, _message in BAD_ROWS)]).encode("utf-8")
    client = browse(in_alpha, in_alpha.producer)
    back_to(in_alpha.collective)
    before = _snapshot(farm)
    review_url = _review_url(_upload(client, farm, "erreurs.csv", content))

    response = client.get(review_url)
    assert response.status_code == 400
    page = text(response)
    assert f"{len(BAD_ROWS)} lignes avec des erreurs" in page
    for _row, message in BAD_ROWS:
        assert message in page
    assert "Corrigez le fichier puis envoyez-le à nouveau" in page
    assert "Confirmer l'import" not in page

    # A hand-made confirmation of a file with errors writes nothing, not even its good rows.
    response = client.post(review_url)
    assert response.status_code == 400
    assert "Le fichier contient des erreurs : rien n'a été importé." in text(response)
    back_to(in_alpha.collective)
    assert _snapshot(farm) == before
    assert not Product.objects.filter(name="Aubergines").exists()
    assert ImportJob.objects.get().applied_at is None


def test_an_identifier_of_another_producer_is_an_error_not_a_write(browse, in_alpha, farm, catalogue, cheese):
    content = f"{HEADER}\n{cheese.pk};Tomme volée;;;kg;0,01;5,5;oui;non;;0\n".encode()
    client = browse(in_alpha, in_alpha.producer)
    review = client.get(_review_url(_upload(client, farm, "vol.csv", content)))
    assert review.status_code == 400
    assert f"identifiant : Identifiant inconnu : {cheese.pk} n'est pas un produit de votre catalogue" in text(
        review
    )
    _committed(lambda: client.post(review.request["PATH_INFO"]))
    back_to(in_alpha.collective)
    cheese.refresh_from_db()
    assert (
        cheese.name == "Tomme de chèvre"
        and cheese.price == Decimal("16.00")
        and cheese.producer_id != farm.pk
    )


def test_the_import_is_all_or_nothing_even_when_the_database_refuses(in_alpha, farm, catalogue):
    """Two new rows with the same name: the second is refused, so the first is not kept either."""
    content = f"{HEADER}\n;Céleri;;;kg;2,00;5,5;oui;non;;\n;céleri;;;kg;2,10;5,5;oui;non;;\n".encode()
    job = services.import_job_create(
        producer=farm, created_by=in_alpha.producer, file_name="x.csv", content=content
    )
    before = _snapshot(farm)
    with pytest.raises(services.ImportRefused) as refused:
        services.import_job_apply(job=job)
    assert any(
        "Ce produit apparaît deux fois dans le fichier." in error
        for row in refused.value.report.rows
        for error in row.errors
    )
    assert _snapshot(farm) == before


def test_a_job_of_one_producer_cannot_be_confirmed_through_another(browse, in_alpha, farm, neighbour):
    job = services.import_job_create(
        producer=neighbour,
        created_by=in_alpha.coordinator,
        file_name="x.csv",
        content=f"{HEADER}\n;Pirate;;;kg;1;5,5;;;;\n".encode(),
    )
    client = browse(in_alpha, in_alpha.producer)
    assert client.get(f"/producteurs/{farm.pk}/importer/{job.pk}/").status_code == 404
    assert client.post(f"/producteurs/{farm.pk}/importer/{job.pk}/").status_code == 404
    assert client.post(f"/producteurs/{neighbour.pk}/importer/{job.pk}/").status_code == 404
    back_to(in_alpha.collective)
    assert not Product.objects.filter(name="Pirate").exists()


def test_a_spreadsheet_typed_by_hand_is_understood(browse, in_alpha, farm, catalogue):
    """Windows-1252, commas, other column names, a row without identifier that names an existing product."""
    content = (
        "Nom,Prix,Unité,TVA,Stock,Remarque\n"
        'Tomates anciennes,"5,00",kg,5.5,8,à cueillir\n'
        "Panais,2.5,kg,5.5,,\n"
    )
    client = browse(in_alpha, in_alpha.producer)
    page = words(client.get(_review_url(_upload(client, farm, "a la main.csv", content.encode("cp1252")))))
    assert "1 nouveau produit" in page and "1 produit modifié" in page
    assert "prix TTC (€) : 4,50 → 5,00" in page
    assert "Colonnes ignorées : Remarque" in page


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("catalogue.pdf", b"%PDF-1.4", "Choisissez un fichier .csv, .xlsx ou un catalogue DFC .json."),
        ("catalogue.xlsx", b"pas un tableur", "Ce fichier n'est pas un tableur XLSX lisible."),
        ("catalogue.csv", b"prix;unite\n1;kg\n", "La colonne « nom » est obligatoire"),
        ("catalogue.csv", b"nom\n", "Le fichier ne contient aucun produit."),
    ],
)
def test_unreadable_files_are_explained(browse, in_alpha, farm, name, content, message):
    client = browse(in_alpha, in_alpha.producer)
    response = _upload(client, farm, name, content)
    if response.status_code == 302:
        response = client.get(response["Location"])
    assert response.status_code == 400
    assert message in text(response)


def test_a_spreadsheet_that_would_unpack_into_gigabytes_is_refused(browse, in_alpha, farm):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    assert len(bomb.getvalue()) < 2 * 1024 * 1024
    client = browse(in_alpha, in_alpha.producer)
    response = client.get(_review_url(_upload(client, farm, "bombe.xlsx", bomb.getvalue())))
    assert response.status_code == 400
    assert "Ce tableur est trop gros : 2000 produits au plus." in text(response)


def test_a_double_click_on_confirm_imports_once_and_shows_no_error(browse, in_alpha, farm, catalogue):
    """The second click arrives before the background import has run: both land on the waiting page,
    the file is imported once, and the producer reads « Import terminé »."""
    client = browse(in_alpha, in_alpha.producer)
    review_url = _review_url(
        _upload(client, farm, "new.csv", f"{HEADER}\n;Radis;;;botte;1,50;5,5;oui;non;;\n".encode())
    )
    with TestCase.captureOnCommitCallbacks(execute=False) as pending:
        first = client.post(review_url)
        second = client.post(review_url)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"{review_url}?attente=1"
    waiting = client.get(first["Location"])
    assert "Import en cours" in text(waiting) and 'http-equiv="refresh"' in text(waiting)
    for callback in pending:
        callback()
    done = client.get(first["Location"], follow=True)
    assert "Import terminé : 1 produit(s) ajouté(s), 0 modifié(s), 0 inchangé(s)." in text(done)
    back_to(in_alpha.collective)
    assert Product.objects.filter(producer=farm, name="Radis").count() == 1
    assert ImportJob.objects.get().state == ImportJob.State.APPLIED


def test_a_file_being_checked_shows_its_progress_and_refreshes_itself(browse, in_alpha, farm, catalogue):
    """Before the background check has run, the page says so, without JavaScript; then it shows the report."""
    client = browse(in_alpha, in_alpha.producer)
    rows = "\n".join(f";Produit {number};;;kg;1,{number % 100:02d};5,5;oui;non;;" for number in range(120))
    with TestCase.captureOnCommitCallbacks(execute=False) as pending:
        review_url = _review_url(
            client.post(
                f"/producteurs/{farm.pk}/importer/",
                {"file": SimpleUploadedFile("gros.csv", f"{HEADER}\n{rows}\n".encode())},
            )
        )
    waiting = text(client.get(review_url))
    assert "Vérification en cours…" in waiting and 'http-equiv="refresh"' in waiting
    assert "Confirmer l'import" not in waiting
    for callback in pending:
        callback()
    page = text(client.get(review_url))
    assert "120 nouveaux produits" in page and "Confirmer l'import" in page


def test_names_are_checked_row_after_row_as_the_import_would_write_them(in_alpha, farm, catalogue):
    """The preview checks names without writing: a name taken by another product is refused, a name freed
    by an earlier row of the file may be taken by a later one, and the preview says what the import does."""
    tomatoes, chicken, wine = catalogue
    taken = f"{HEADER}\n{wine.pk};poulet FERMIER;;;bouteille;8,00;20;non;non;;0\n".encode()
    job = services.import_job_create(
        producer=farm, created_by=in_alpha.producer, file_name="a.csv", content=taken
    )
    report = services.import_job_dry_run(job=job)
    assert [row.errors for row in report.rows] == [["nom : Ce producteur a déjà un produit de ce nom."]]

    # Tomatoes get a new name, then the wine takes the tomatoes' old one: fine in this order, row after row.
    swapped = (
        f"{HEADER}\n{tomatoes.pk};Tomates cerises;;;pièce;4,50;5,5;oui;non;;30\n"
        f"{wine.pk};Tomates anciennes;;;bouteille;8,00;20;non;non;;0\n"
    ).encode()
    job = services.import_job_create(
        producer=farm, created_by=in_alpha.producer, file_name="b.csv", content=swapped
    )
    preview = services.import_job_dry_run(job=job)
    assert not preview.has_errors and preview.update_count == 2
    assert sorted(Product.objects.filter(producer=farm).values_list("name", flat=True)) == [
        "Poulet fermier",
        "Tomates anciennes",
        "Vin rouge",
    ]  # the preview wrote nothing
    services.import_job_apply(job=job)
    assert sorted(Product.objects.filter(producer=farm).values_list("name", flat=True)) == [
        "Poulet fermier",
        "Tomates anciennes",
        "Tomates cerises",
    ]

    # Back the other way round: the first row takes a name the second row only frees afterwards.
    backwards = (
        f"{HEADER}\n{tomatoes.pk};Tomates anciennes;;;pièce;4,50;5,5;oui;non;;30\n"
        f"{wine.pk};Vin rouge;;;bouteille;8,00;20;non;non;;0\n"
    ).encode()
    job = services.import_job_create(
        producer=farm, created_by=in_alpha.producer, file_name="c.csv", content=backwards
    )
    refused = services.import_job_dry_run(job=job)
    assert [row.errors for row in refused.rows] == [["nom : Ce producteur a déjà un produit de ce nom."], []]


def test_a_shared_product_not_accepted_cannot_be_put_on_sale_by_a_file(in_alpha, farm, catalogue):
    tomatoes = catalogue[0]
    Product.objects.filter(pk=tomatoes.pk).update(link_status="proposed", is_active=False)
    content = f"{HEADER}\n{tomatoes.pk};Tomates anciennes;;;pièce;4,50;5,5;oui;non;;30\n".encode()
    job = services.import_job_create(
        producer=farm, created_by=in_alpha.producer, file_name="d.csv", content=content
    )
    report = services.import_job_dry_run(job=job)
    assert report.rows[0].errors == [
        "Ce produit du catalogue commun n'a pas été accepté par le collectif : il ne peut pas"
        " être mis en vente."
    ]
