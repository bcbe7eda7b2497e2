# syntax=docker/dockerfile:1
# mini-review image. Default: one container, SQLite on /data, the worker in-process (deploy/compose.yaml).
# The same image runs `mini-review worker` and `mini-review migrate` for scale-out (compose.scale.yaml,
# deploy/kubernetes). Dependencies install only from deploy/requirements.lock, every file hash-checked.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY deploy/requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock
COPY pyproject.toml README.md /src/
COPY app /src/app
# The build backend came from the lock too: no unpinned download while building our own package.
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation /src

FROM ${PYTHON_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /srv/mini-review --shell /usr/sbin/nologin mini \
 && mkdir -p /data /srv/mini-review \
 && chown 10001:10001 /data /srv/mini-review
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/mini-review.db
WORKDIR /srv/mini-review
USER 10001:10001
VOLUME /data
EXPOSE 8000
# /healthz answers without touching the database; the worker command has no HTTP (compose disables it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# tini is PID 1: it forwards SIGTERM to mini-review (graceful shutdown) and reaps children.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["mini-review", "serve", "--host", "0.0.0.0", "--port", "8000"]
