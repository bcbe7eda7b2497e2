"""The `mini-review` command: serve (web + embedded worker), worker (scale-out), migrate, review."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from app.errors import ConfigError
from app.local.command import add_review_parser, review_command
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


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from app.main import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower())


SCALE_OUT_NEEDS_POSTGRES = (
    "mini-review worker: scale-out needs PostgreSQL (DATABASE_URL=postgresql://...); "
    "with SQLite the worker runs inside `mini-review serve`"
)


async def _worker(settings: Settings) -> None:
    """Run a worker until SIGTERM/SIGINT, then stop claiming and let running reviews finish."""
    from app.wiring import build_wiring

    wiring = await build_wiring(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await wiring.start_worker()
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
    args = parser.parse_args(argv)
    if args.command == "review":
        return review_command(args)  # needs only the model's settings, not the App's
    try:
        settings = load_settings()
        preflight(settings)
    except ConfigError as exc:
        print(f"mini-review: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
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
