"""``lps serve``: run the service with uvicorn.

The main CLI (:mod:`solver.cli.main`) calls :func:`add_serve_command` to register the
subcommand; ``python -m api.cli_serve`` runs it on its own (what the Docker image does).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


def add_serve_command(subparsers: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    """Register ``serve`` on the main CLI's subparsers; the handler is in ``func``."""
    p = subparsers.add_parser(
        "serve",
        help="run the HTTP service (POST /solve, jobs, cache, API keys)",
        description="Run the lps-init HTTP service with uvicorn. Settings come from LPS_* "
                    "environment variables (LPS_DATA_DIR, LPS_API_KEYS, LPS_WORKERS, limits); "
                    "the options below override them.",
    )
    _add_arguments(p)
    p.set_defaults(func=run_serve)
    return p


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=None, help="solver processes (default LPS_WORKERS or 1)")
    p.add_argument("--data-dir", default=None, help="database folder (default LPS_DATA_DIR or ./lps-data)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])


def run_serve(args: argparse.Namespace) -> int:
    """Start uvicorn with :func:`api.app.create_app`; returns the exit code."""
    try:
        import uvicorn
        from pydantic import ValidationError

        from api.app import create_app
        from api.settings import Settings
    except ImportError as exc:
        print(f"lps serve: the service needs the 'service' extra (pip install 'lps-init[service]'): {exc}", file=sys.stderr)
        return 2
    if not 0 < args.port < 65536:
        print(f"lps serve: --port {args.port} is not a port number", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print("lps serve: --workers must be at least 1", file=sys.stderr)
        return 2
    overrides = {k: v for k, v in (("workers", args.workers), ("data_dir", args.data_dir)) if v is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        print(f"lps serve: {_settings_errors(exc)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(settings)
    auth = f"{len(settings.api_keys)} API key(s)" if settings.auth_enabled else "no API keys (open)"
    print(f"lps serve: http://{args.host}:{args.port}  data {settings.data_dir}  workers {settings.workers}  {auth}",
          file=sys.stderr, flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False,
                    timeout_graceful_shutdown=10)
    except OSError as exc:  # port in use, address not available
        print(f"lps serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


def _settings_errors(exc: "ValidationError") -> str:
    """One line per bad setting, named by its environment variable."""
    lines = []
    for e in exc.errors():
        name = str(e["loc"][0]) if e.get("loc") else "settings"
        env = name if name.startswith("LPS_") else f"LPS_{name.upper()}"
        lines.append(f"{env}={e.get('input')!r}: {e['msg']}")
    return "; ".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="lps serve", description="Run the lps-init HTTP service.")
    _add_arguments(p)
    return run_serve(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
