"""Run `mini-review setup`: serve the setup page until GitHub's redirect has been converted."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import uvicorn
from dotenv import dotenv_values

from app.setup.flow import SetupFlow, SetupOptions
from app.setup.manifest import default_api_url

DEFAULT_GITHUB_URL = "https://github.com"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", help="register the App for this organisation instead of your account")
    parser.add_argument("--github-url", help="GitHub's web URL (GHES: https://HOST); env GITHUB_URL")
    parser.add_argument("--github-api-url", help="REST base; env GITHUB_API_URL, else derived")
    parser.add_argument("--public-url", help="where GitHub reaches this service; env PUBLIC_URL")
    parser.add_argument("--name", default="mini-review", help="the App's name (unique on GitHub)")
    parser.add_argument("--host", default="127.0.0.1", help="address of the setup page")
    parser.add_argument("--port", type=int, default=3000, help="port of the setup page")
    parser.add_argument("--env-file", type=Path, default=Path(".env"), help="file to write (mode 0600)")


def options_from(args: argparse.Namespace) -> SetupOptions:
    """Resolve the flow's URLs from flags, then the environment, then the env file, then defaults."""
    known = {k: v for k, v in dotenv_values(args.env_file).items() if v is not None}
    known.update(os.environ)
    github_url = (args.github_url or known.get("GITHUB_URL") or DEFAULT_GITHUB_URL).rstrip("/")
    api_url = (args.github_api_url or known.get("GITHUB_API_URL") or default_api_url(github_url)).rstrip("/")
    extra: dict[str, str] = {}
    if github_url != DEFAULT_GITHUB_URL:
        extra["GITHUB_URL"] = github_url
    if api_url != default_api_url(DEFAULT_GITHUB_URL):
        extra["GITHUB_API_URL"] = api_url
    return SetupOptions(
        github_url=github_url,
        api_url=api_url,
        public_url=args.public_url or known.get("PUBLIC_URL") or "http://localhost:8000",
        org=args.org,
        app_name=args.name,
        env_path=args.env_file,
        extra_env=extra,
    )


async def _serve_until_done(server: uvicorn.Server, flow: SetupFlow) -> None:
    serving = asyncio.create_task(server.serve())
    done = asyncio.create_task(flow.done.wait())
    await asyncio.wait({serving, done}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True  # lets the redirect to the install page finish first
    await serving
    done.cancel()


def run_setup(args: argparse.Namespace) -> int:
    """Serve the setup page; return 0 once `.env` is written, 1 if stopped before that."""
    options = options_from(args)
    flow = SetupFlow(options)
    config = uvicorn.Config(flow.app, host=args.host, port=args.port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    print(f"Open http://localhost:{args.port}/ in a browser on this machine to register the GitHub App.")
    print(f"From another machine: http://<this-host>:{args.port}/?token={flow.token} (works once).")
    if "localhost" in options.public_url or "127.0.0.1" in options.public_url:
        print(
            f"Note: PUBLIC_URL is {options.public_url}; GitHub cannot deliver webhooks there "
            "(set PUBLIC_URL or --public-url, or forward webhooks as the README shows)."
        )
    print("Waiting for GitHub...", flush=True)
    try:
        asyncio.run(_serve_until_done(server, flow))
    except KeyboardInterrupt:
        return 1
    if flow.result is None:
        print("Setup stopped before GitHub sent the App's credentials; nothing was written.")
        return 1
    creds = flow.result
    print(
        f"Registered GitHub App '{creds.slug}' (id {creds.id}); its credentials are in "
        f"{options.env_path} (mode 0600)."
    )
    print(f"Install it on your repositories: {creds.install_url(options.github_url)}")
    print("Then start the service: mini-review serve", flush=True)
    return 0
