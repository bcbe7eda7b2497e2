# One container, embedded default: SQLite on a volume and the worker in-process.
FROM python:3.11-slim
WORKDIR /srv/mini-review
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir . && mkdir -p /data && chown 10001 /data
ENV DATABASE_URL=sqlite+aiosqlite:////data/mini-review.db
VOLUME /data
EXPOSE 8000
USER 10001
CMD ["mini-review", "serve", "--host", "0.0.0.0", "--port", "8000"]
