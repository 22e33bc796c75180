"""``ai2text serve`` (the whole platform on the embedded defaults) and ``ai2text token``."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="start local Ray, the Serve app and the embedded stores (Ctrl-C stops)",
        epilog="example: ai2text serve --port 8000",
    )
    serve.add_argument("--host", help="default 127.0.0.1 (dev listens on loopback only)")
    serve.add_argument("--port", type=int, help="default 8000")
    serve.set_defaults(run=run_serve)
    token = commands.add_parser(
        "token",
        help="a JWT for the running configuration (HS256 secret; every scope by default)",
        epilog="example: ai2text token --sub alice --scope transcribe --scope read --ttl 3600",
    )
    token.add_argument("--sub", default="dev")
    token.add_argument("--ttl", type=int, help="seconds; default AI2TEXT_AUTH__DEV_TOKEN_TTL_S")
    token.add_argument(
        "--scope",
        action="append",
        help="transcribe, ingest, read, write or admin; repeat it; default every scope",
    )
    token.set_defaults(run=run_token)


def _settings(args: argparse.Namespace) -> Any:
    from ai2text.config import load_settings

    overrides: dict[str, Any] = {}
    base = load_settings()
    if args.host is not None or args.port is not None:
        serve = base.serve.model_dump()
        serve.update({k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None})
        overrides["serve"] = serve
    return load_settings(**overrides) if overrides else base


def run_serve(args: argparse.Namespace) -> int:
    from deployments.server import run_platform

    return run_platform(_settings(args))


def run_token(args: argparse.Namespace) -> int:
    from ai2text.auth import SCOPES, issue_token
    from ai2text.config import load_settings

    print(issue_token(load_settings(), args.sub, args.scope or SCOPES, args.ttl))
    return 0
