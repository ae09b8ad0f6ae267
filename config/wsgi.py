import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

if os.environ.get("ETAL_WARM_UP", "1") != "0":  # config/warmup.py: first requests as fast as the others
    from config.warmup import warm_up

    warm_up()
