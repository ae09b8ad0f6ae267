from celery import Celery
from celery.signals import task_prerun

from marketplace.observability import celery_task_context

# DJANGO_SETTINGS_MODULE comes from the environment (make dev, docker-compose, pytest): setting a default
# here would leak into every process started by `python -m config.embedded`.
app = Celery("etal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A task's log lines carry its id (marketplace.observability).
task_prerun.connect(celery_task_context, weak=False)
