# syntax=docker/dockerfile:1
# FitHub's image: gunicorn serving Django, static files collected at build (WhiteNoise).
# Build: docker build -t fithub .   Run: see docker-compose.prod.yml and docs/OPERATIONS.md.

FROM ghcr.io/astral-sh/uv:0.9.7 AS uv

FROM python:3.13-slim AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.13 \
    UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /app
# Dependencies first: this layer is reused until pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-project
COPY manage.py ./
COPY fithub ./fithub
COPY apps ./apps
# Settings refuse to load without a SECRET_KEY; this one only exists during the build.
RUN SECRET_KEY=collectstatic-only-not-a-secret DEBUG=0 \
    /opt/venv/bin/python manage.py collectstatic --no-input --verbosity 0

FROM python:3.13-slim AS runtime
RUN groupadd --system --gid 10001 fithub \
    && useradd --system --uid 10001 --gid fithub --home-dir /app --shell /usr/sbin/nologin fithub
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=fithub.settings \
    GUNICORN_BIND=0.0.0.0:8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/fithub-prometheus
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# Code and static files stay root-owned (read-only for the app); only the metrics dir is writable.
COPY --from=build /app /app
RUN mkdir -p /tmp/fithub-prometheus && chown fithub:fithub /tmp/fithub-prometheus
USER 10001:10001
EXPOSE 8000
# gunicorn handles SIGTERM gracefully (graceful_timeout in fithub/ops/gunicorn_conf.py).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live/', timeout=4).status != 200)"]
CMD ["gunicorn", "--config", "fithub/ops/gunicorn_conf.py", "fithub.wsgi"]
