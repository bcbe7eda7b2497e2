"""The `mini-review` command: serve (web + embedded worker), worker (scale-out), migrate, review, setup."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from app.errors import ConfigError
from app.local.command import add_review_parser, review_command
from app.observability.logs import configure_logging
from app.settings import Settings, load_settings


def preflight(settings: Settings) -> None:
    """Check what only shows at first use (the key file and its format), so start-up fails in one line."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = settings.private_key_pem()
    name = "GITHUB_APP_PRIVATE_KEY" if settings.github_app_private_key else "GITHUB_APP_PRIVATE_KEY_PATH"
    try:
        load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError(f"configuration error: {name} is not a valid unencrypted PEM private key") from None


# A missing one of these means no App is registered yet: `mini-review setup` does it.
APP_VARIABLES = ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET")


def _with_setup_hint(message: str) -> str:
    if any(name in message for name in APP_VARIABLES):
        return f"{message}; run `mini-review setup` to register the GitHub App"
    return message


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from app.main import create_app

    # log_config=None: uvicorn's own loggers go through ours (one format, JSON included).
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level=settings.log_level.lower(), log_config=None
    )


def _serve_worker_metrics(port: int) -> None:
    """A worker serves no HTTP of its own: its per-process series are scraped on this port."""
    from prometheus_client import start_http_server

    try:
        start_http_server(port)
    except OSError as exc:
        raise ConfigError(
            f"configuration error: MINI_METRICS_PORT {port} cannot be used ({exc.strerror})"
        ) from None


SCALE_OUT_NEEDS_POSTGRES = (
    "mini-review worker: scale-out needs PostgreSQL (DATABASE_URL=postgresql://...); "
    "with SQLite the worker runs inside `mini-review serve`"
)


async def _worker(settings: Settings) -> None:
    """Run a worker until SIGTERM/SIGINT, then stop claiming and let running reviews finish."""
    from app.gc_tuning import tune_after_startup
    from app.wiring import build_wiring

    wiring = await build_wiring(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if settings.metrics_port is not None:
        _serve_worker_metrics(settings.metrics_port)
    try:
        await wiring.start_worker()
        tune_after_startup()
        logging.getLogger(__name__).info("mini-review worker started (%s)", wiring.database_kind)
        await stop.wait()
        logging.getLogger(__name__).info(
            "stopping: running reviews get %.0fs to finish", settings.shutdown_grace_s
        )
    finally:
        await wiring.close()


def _is_sqlite(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0] == "sqlite"


async def _migrate(settings: Settings) -> None:
    from app.storage.db import create_engine, migrate
    from app.storage.migrations.runner import UnknownSchemaError

    engine = create_engine(settings.database_url)
    try:
        revision = await migrate(engine)
        print(f"database at schema revision {revision} (head)")
    except UnknownSchemaError as exc:
        raise ConfigError(str(exc)) from None
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mini-review", description="Pre-review GitHub pull requests.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web service (and, by default, the worker in-process)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    sub.add_parser("worker", help="run a worker only (scale-out, e.g. on PostgreSQL)")
    sub.add_parser("migrate", help="create or upgrade the database schema and exit")
    add_review_parser(sub)
    from app.setup.command import add_arguments, run_setup

    add_arguments(sub.add_parser("setup", help="register the GitHub App (manifest flow) and write .env"))
    args = parser.parse_args(argv)
    if args.command == "review":
        return review_command(args)  # needs only the model's settings, not the App's
    if args.command == "setup":
        return run_setup(args)
    try:
        settings = load_settings()
        preflight(settings)
    except ConfigError as exc:
        print(f"mini-review: {_with_setup_hint(str(exc))}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    try:
        if args.command == "serve":
            _serve(settings, args.host, args.port)
        elif args.command == "worker":
            if _is_sqlite(settings.database_url):
                print(SCALE_OUT_NEEDS_POSTGRES, file=sys.stderr)
                return 2
            asyncio.run(_worker(settings.model_copy(update={"worker_mode": "embedded"})))
        else:
            asyncio.run(_migrate(settings))
    except ConfigError as exc:
        print(f"mini-review: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
