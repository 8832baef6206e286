"""`antenna serve`: the web UI, the REST API, the job runner and the scheduler in one process."""

from __future__ import annotations

import logging
import signal
import socket
import sys
from typing import Annotated

import typer

from antenna.cli.context import load, mask_secrets
from antenna.cli.output import print_line
from antenna.errors import UserError
from antenna.fs import DataDirLock

log = logging.getLogger(__name__)


def _exit_cleanly(_signum: int, _frame: object) -> None:
    sys.exit(0)


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(
                f"Cannot listen on {host}:{port} ({exc.strerror}).",
                "Another program uses that port: pass --port, or stop it.",
            ) from None


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default from settings: 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings: 8765).")] = None,
) -> None:
    """Start the web UI, REST API, job runner and scheduler."""
    import uvicorn  # imported here: other commands and --help do not pay for the web stack

    from antenna.container import build_container
    from antenna.web.app import create_app
    from antenna.web.auth import AuthService

    settings = load(ctx, verbose=True)
    with DataDirLock(settings.data_dir / "antenna.lock"):
        bind_host = host or settings.host
        bind_port = port or settings.port
        _check_port(bind_host, bind_port)
        container = build_container(settings)
        mask_secrets(ctx, container)
        auth = AuthService(container.secrets, container.clock)
        configured = settings.admin_password.get_secret_value() if settings.admin_password else None
        generated = auth.ensure_admin_password(configured)
        if generated:
            print_line(
                f"First start: the admin password is {generated}  (shown once; change it with "
                "ANTENNA_ADMIN_PASSWORD)"
            )
        app = create_app(container)
        url_host = f"[{bind_host}]" if ":" in bind_host else bind_host
        print_line(f"Antenna is listening on http://{url_host}:{bind_port}  (data: {settings.data_dir})")
        log.info("serving on %s:%d with data dir %s", bind_host, bind_port, settings.data_dir)
        config = uvicorn.Config(
            app,
            host=bind_host,
            port=bind_port,
            log_config=None,  # uvicorn logs through Antenna's handlers (file, console, redaction)
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=3,
            lifespan="on",
        )
        # uvicorn re-raises SIGTERM after its graceful shutdown; turning it into SystemExit(0) lets the
        # finally below close the database and log the stop.
        signal.signal(signal.SIGTERM, _exit_cleanly)
        try:
            uvicorn.Server(config).run()
        finally:
            container.close()
            log.info("stopped")
