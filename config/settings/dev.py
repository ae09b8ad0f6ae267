from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
PUBLIC_PORT = env("PUBLIC_PORT", default="8000")
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
