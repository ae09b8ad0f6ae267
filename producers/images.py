"""Photos of producers and products: checked at upload, re-encoded, and a small thumbnail made for the shop.

Re-encoding drops what a phone puts in a photo's metadata (the farm's GPS position among others) and
turns a 4000 px picture into something a cheap phone on a poor network can load.
"""

from __future__ import annotations

import io
import secrets

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
# A small file can still decompress into a huge bitmap; nobody needs more than this from a phone.
PHOTO_MAX_PIXELS = 40_000_000
PHOTO_MAX_SIDE = 1600
THUMBNAIL_SIZE = (320, 240)


def photo_validate(upload) -> None:
    """Refuse anything but a JPEG, PNG or WebP image of at most 5 MB (the form has checked it is an image)."""
    if upload.size > PHOTO_MAX_BYTES:
        raise ValidationError(_("La photo ne doit pas dépasser 5 Mo."), code="too_big")
    image = getattr(upload, "image", None)
    if image is None or image.format not in PHOTO_FORMATS:
        raise ValidationError(_("La photo doit être une image JPEG, PNG ou WebP."), code="format")
    width, height = image.size
    if width * height > PHOTO_MAX_PIXELS:
        raise ValidationError(_("Cette image est trop grande : 40 mégapixels au plus."), code="pixels")


def _jpeg(image: Image.Image, name: str, quality: int) -> ContentFile:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return ContentFile(buffer.getvalue(), name=name)


def photo_process(upload) -> tuple[ContentFile, ContentFile]:
    """(photo at most 1600 px, 320×240 thumbnail), both JPEG under a random name."""
    upload.seek(0)
    with Image.open(upload) as opened:
        image = ImageOps.exif_transpose(opened)
        if image.mode in {"RGBA", "LA", "P"}:
            image = image.convert("RGBA")
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, mask=image.getchannel("A"))
            image = background
        else:
            image = image.convert("RGB")
    token = secrets.token_hex(8)
    large = image.copy()
    large.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    thumbnail = ImageOps.fit(image, THUMBNAIL_SIZE)
    return _jpeg(large, f"{token}.jpg", 85), _jpeg(thumbnail, f"{token}-320.jpg", 80)
