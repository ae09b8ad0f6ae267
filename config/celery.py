from celery import Celery

# DJANGO_SETTINGS_MODULE comes from the environment (make dev, docker-compose, pytest): setting a default
# here would leak into every process started by `python -m config.embedded`.
app = Celery("etal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
