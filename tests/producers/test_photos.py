"""Photos: images only, 5 MB at most, stored in the collective's folder, with a small thumbnail."""

import io
from decimal import Decimal

from PIL import Image

from producers.models import Product
from tests.producers import factories
from tests.producers.conftest import back_to
from tests.producers.conftest import read as text

FORM = {"name": "Miel de fleurs", "unit": "jar", "price": "8,50", "vat_rate": "5.5", "is_active": "on"}


def _post(client, farm, photo, **extra):
    return client.post(f"/producteurs/{farm.pk}/produits/nouveau/", {**FORM, **extra, "photo": photo})


def test_a_photo_is_stored_in_the_collectives_folder_with_a_thumbnail(browse, in_alpha, farm, media_root):
    response = _post(browse(in_alpha, in_alpha.producer), farm, factories.png(size=(3000, 2000)))
    assert response.status_code == 302
    back_to(in_alpha.collective)
    product = Product.objects.get(name="Miel de fleurs")
    assert product.photo.name.startswith("c_alpha/products/") and product.photo.name.endswith(".jpg")
    assert product.thumbnail.name == product.photo.name.replace(".jpg", "-320.jpg")
    with Image.open(media_root / product.thumbnail.name) as thumbnail:
        assert thumbnail.size == (320, 240) and thumbnail.format == "JPEG"
    with Image.open(media_root / product.photo.name) as photo:
        assert max(photo.size) == 1600  # big phone pictures are brought down to a useful size

    # Served on the collective's own site only.
    served = browse(in_alpha).get(f"/media/{product.thumbnail.name}")
    assert served.status_code == 200
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).size == (320, 240)
    assert browse("beta.localhost").get(f"/media/{product.thumbnail.name}").status_code == 404


def test_a_file_that_is_not_an_image_is_refused(browse, in_alpha, farm, media_root):
    fake = io.BytesIO(b"MZ\x90\x00 ceci n'est pas une image")
    fake.name = "miel.jpg"
    response = _post(browse(in_alpha, in_alpha.producer), farm, fake)
    assert response.status_code == 400
    assert "Téléversez une image valide." in text(response)
    back_to(in_alpha.collective)
    assert not Product.objects.exists()
    assert not list(media_root.rglob("*.*"))


def test_an_image_of_another_format_is_refused(browse, in_alpha, farm, media_root):
    gif = io.BytesIO()
    Image.new("RGB", (40, 40)).save(gif, format="GIF")
    gif.seek(0)
    gif.name = "miel.gif"
    response = _post(browse(in_alpha, in_alpha.producer), farm, gif)
    assert response.status_code == 400
    assert "La photo doit être une image JPEG, PNG ou WebP." in text(response)


def test_a_photo_over_5_mb_is_refused(browse, in_alpha, farm, media_root):
    big = factories.png(size=(40, 40))
    big = io.BytesIO(big.getvalue() + b"\0" * (5 * 1024 * 1024))  # a valid PNG, padded past 5 MB
    big.name = "miel.png"
    response = _post(browse(in_alpha, in_alpha.producer), farm, big)
    assert response.status_code == 400
    assert "La photo ne doit pas dépasser 5 Mo." in text(response)
    back_to(in_alpha.collective)
    assert not Product.objects.exists()


def test_a_photo_can_be_replaced_and_removed(
    browse, in_alpha, farm, media_root, django_capture_on_commit_callbacks
):
    product = factories.product(farm, "Miel", unit="jar", price=Decimal("8.50"), photo=factories.png())
    first = [product.photo.name, product.thumbnail.name]
    client = browse(in_alpha, in_alpha.producer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/produits/{product.pk}/", {**FORM, "name": "Miel", "photo": factories.png(colour=(1, 2, 3))}
        )
    assert response.status_code == 302
    back_to(in_alpha.collective)
    product.refresh_from_db()
    assert product.photo.name not in first
    assert not any((media_root / name).exists() for name in first)  # the old files are gone

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/produits/{product.pk}/", {**FORM, "name": "Miel", "remove_photo": "on"})
    back_to(in_alpha.collective)
    product.refresh_from_db()
    assert not product.photo and not product.thumbnail
    assert not list(media_root.rglob("*.jpg"))


def test_a_producer_photo_gets_a_thumbnail_too(browse, in_alpha, farm, media_root):
    response = browse(in_alpha, in_alpha.producer).post(
        f"/producteurs/{farm.pk}/profil/", {"name": "Ferme des Coteaux", "photo": factories.png()}
    )
    assert response.status_code == 302
    back_to(in_alpha.collective)
    farm.refresh_from_db()
    assert farm.thumbnail.name.startswith("c_alpha/producers/")
    assert f'src="/media/{farm.thumbnail.name}"' in text(
        browse(in_alpha).get(f"/boutique/producteurs/{farm.pk}/")
    )


def test_a_photo_of_too_many_pixels_is_refused_before_it_is_decoded(browse, in_alpha, farm, media_root):
    client = browse(in_alpha, in_alpha.producer)
    # 150 megapixels in a few hundred bytes (Pillow will not even open it); 49 megapixels (it would).
    for bomb in [factories.png_header_only(12_500, 12_000), factories.png_header_only(7_000, 7_000)]:
        response = _post(client, farm, bomb)
        assert response.status_code == 400
        assert "Cette image est trop grande : 40 mégapixels au plus." in text(response)
    back_to(in_alpha.collective)
    assert not Product.objects.exists() and not list(media_root.rglob("*.*"))


def test_a_photo_keeps_only_its_pixels_whatever_its_name(browse, in_alpha, farm, media_root):
    """PNG bytes followed by a PDF, named .pdf: stored and served as a JPEG, the PDF gone."""
    trick = io.BytesIO(factories.png(size=(64, 48)).getvalue() + b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF")
    trick.name = "miel.pdf"
    assert _post(browse(in_alpha, in_alpha.producer), farm, trick).status_code == 302
    back_to(in_alpha.collective)
    product = Product.objects.get(name="Miel de fleurs")
    assert product.photo.name.endswith(".jpg") and "miel" not in product.photo.name
    served = browse(in_alpha).get(f"/media/{product.photo.name}")
    body = b"".join(served.streaming_content)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"%PDF" not in body and Image.open(io.BytesIO(body)).size == (64, 48)
