"""Uploaded images (a collective's logo, producers' and products' photos): checked, decoded and re-encoded.

Only the pixels are kept: whatever followed the image in the file (a PDF glued after a PNG), whatever the
uploader named it, and what a phone puts in a photo's metadata (the farm's GPS position among others). The
stored name is random and its extension matches the format written. A small file can decompress into a
huge bitmap: the size is read from the header and checked before anything is decoded.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

# Nobody needs more than this from a phone or a logo; Pillow refuses to open twice as much at all.
IMAGE_MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = IMAGE_MAX_PIXELS
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
ACCEPT = "image/jpeg,image/png,image/webp"
TOO_MANY_PIXELS = _("Cette image est trop grande : 40 mégapixels au plus.")


@dataclass(frozen=True)
class ImageKind:
    max_bytes: int
    max_side: int
    too_big: Promise
    wrong_format: Promise


PHOTO = ImageKind(
    max_bytes=5 * 1024 * 1024,
    max_side=1600,
    too_big=_("La photo ne doit pas dépasser 5 Mo."),
    wrong_format=_("La photo doit être une image JPEG, PNG ou WebP."),
)
LOGO = ImageKind(
    max_bytes=2 * 1024 * 1024,
    max_side=800,
    too_big=_("Le logo ne doit pas dépasser 2 Mo."),
    wrong_format=_("Le logo doit être une image PNG, JPEG ou WebP."),
)
THUMBNAIL_SIZE = (320, 240)


class ImageUploadField(forms.ImageField):
    """Django's ImageField, with a clear message for an image too large for Pillow even to open."""

    def to_python(self, data):
        try:
            return super().to_python(data)
        except ValidationError as error:
            if isinstance(error.__cause__, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
                raise ValidationError(TOO_MANY_PIXELS, code="pixels") from error
            raise


def image_validate(upload, kind: ImageKind = PHOTO) -> None:
    """Refuse anything but a JPEG, PNG or WebP image within the kind's bytes and 40 megapixels (the form
    field has opened the header: `upload.image`, nothing decoded yet)."""
    if upload.size > kind.max_bytes:
        raise ValidationError(kind.too_big, code="too_big")
    image = getattr(upload, "image", None)
    if image is None or image.format not in IMAGE_FORMATS:
        raise ValidationError(kind.wrong_format, code="format")
    width, height = image.size
    if width * height > IMAGE_MAX_PIXELS:
        raise ValidationError(TOO_MANY_PIXELS, code="pixels")


def _decoded(upload) -> tuple[Image.Image, str]:
    """(the upright pixels, the upload's format). Called only after image_validate."""
    upload.seek(0)
    with Image.open(upload) as opened:
        if opened.format not in IMAGE_FORMATS:
            raise ValidationError(LOGO.wrong_format, code="format")
        image_format = opened.format
        image = ImageOps.exif_transpose(opened)
        image.load()
    return image, image_format


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info)


def _flattened(image: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency."""
    if image.mode in {"RGBA", "LA", "P", "PA"}:
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _encoded(image: Image.Image, image_format: str, name: str, **options) -> ContentFile:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return ContentFile(buffer.getvalue(), name=f"{name}.{EXTENSIONS[image_format]}")


def photo_process(upload) -> tuple[ContentFile, ContentFile]:
    """(photo at most 1600 px, 320×240 thumbnail), both JPEG under a random name."""
    image, _format = _decoded(upload)
    image = _flattened(image)
    token = secrets.token_hex(8)
    large = image.copy()
    large.thumbnail((PHOTO.max_side, PHOTO.max_side))
    thumbnail = ImageOps.fit(image, THUMBNAIL_SIZE)
    return (
        _encoded(large, "JPEG", token, quality=85, optimize=True),
        _encoded(thumbnail, "JPEG", f"{token}-320", quality=80, optimize=True),
    )


def logo_process(upload) -> ContentFile:
    """The logo at most 800 px, as PNG (kept for PNGs and anything transparent), JPEG or WebP; the name
    is `logo.<extension>` (collective_logo_path adds a random part)."""
    image, image_format = _decoded(upload)
    image.thumbnail((LOGO.max_side, LOGO.max_side))
    if image_format == "WEBP":
        return _encoded(image, "WEBP", "logo", quality=90)
    if image_format == "PNG" or _has_alpha(image):
        if image.mode not in {"RGB", "RGBA", "L", "LA", "P"}:
            image = image.convert("RGBA")
        return _encoded(image, "PNG", "logo", optimize=True)
    return _encoded(_flattened(image), "JPEG", "logo", quality=90, optimize=True)
