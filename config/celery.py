from celery import Celery
from celery.signals import before_task_publish, task_prerun

from marketplace.observability import celery_request_id_publish, celery_task_context

# DJANGO_SETTINGS_MODULE comes from the environment (make dev, docker-compose, pytest): setting a default
# here would leak into every process started by `python -m config.embedded`.
app = Celery("etal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A task's log lines carry the id of the request that queued it, else its own (marketplace.observability).
before_task_publish.connect(celery_request_id_publish, weak=False)
task_prerun.connect(celery_task_context, weak=False)
