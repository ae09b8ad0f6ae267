"""The project's named date formats per language (settings.FORMAT_MODULE_PATH), on top of Django's own:
templates write `{{ when|date:"WEEKDAY_AT_TIME_FORMAT" }}` and each language words it its own way."""
