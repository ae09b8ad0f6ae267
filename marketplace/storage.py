"""The private storage: files that name people (delivery sheets, purchase orders…).

Never under MEDIA_ROOT and without a URL: such a file only leaves through a view that checks who asks
(FileResponse). `STORAGES["private"]` picks the backend; by default the filesystem under PRIVATE_ROOT.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.files.storage import FileSystemStorage, storages
from django.utils.functional import cached_property


class PrivateFileSystemStorage(FileSystemStorage):
    """A FileSystemStorage under settings.PRIVATE_ROOT (read when first used, again when a test changes it)
    that has no URL."""

    def __init__(self, location=None, **kwargs):
        kwargs.pop("base_url", None)
        super().__init__(location=location, **kwargs)

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("Private files have no URL: send them through a permission-checked view.")


def private_storage():
    """For `FileField(storage=private_storage)`: a callable, so migrations do not depend on the setting."""
    return storages["private"]


@checks.register(checks.Tags.security)
def private_root_outside_media_root(app_configs=None, **kwargs):
    """A private file under MEDIA_ROOT would be one misconfigured front server away from everyone."""
    private = Path(settings.PRIVATE_ROOT).resolve()
    media = Path(settings.MEDIA_ROOT).resolve()
    if private == media or media in private.parents or private in media.parents:
        return [checks.Error("PRIVATE_ROOT and MEDIA_ROOT must not contain each other.", id="etal.E001")]
    return []
