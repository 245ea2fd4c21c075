"""The ``ponte`` command line."""

from __future__ import annotations

import getpass
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from adapter import __version__
from adapter.cli_audit import audit, privacy
from adapter.cli_delivery import deliveries, targets
from adapter.cli_keys import keys, verify
from adapter.cli_mappings import mappings
from adapter.config import Settings, load_settings
from adapter.errors import PonteError


class _Obj:
    def __init__(self, config: Path | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings


pass_obj = click.make_pass_decorator(_Obj)

ROLE_NAMES = ["admin", "finance_erp", "hr_system", "auditor"]
ROLE_HELP = (
    "admin: every operation; finance_erp: parties, lawsuits, contracts, payment "
    "orders, provisions; hr_system: parties, employees, time-clock punches; "
    "auditor: every Get and Query, and QueryAuditEntries (the audit trail)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ponte")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="PONTE_CONFIG",
    help="Settings file (TOML). Default: ./ponte.toml if present, else built-in "
    "defaults (SQLite under ./data). Env: PONTE_CONFIG.",
)
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """Ponte: SOAP/XML integration adapter for legal departments.

    Inbound, ERPs call the SOAP service (ponte serve). Outbound, approved
    payment orders are delivered to the configured targets by the delivery
    worker, signed and retried until they succeed or are parked.

    --config goes before the command: ponte --config ponte.toml serve.
    """
    ctx.obj = _Obj(config)


def _runtime(obj: _Obj, *, existing: bool = False) -> Any:
    """Build the runtime; ``existing`` refuses to create a new SQLite database.

    Read-only commands use it, so that running one in the wrong folder says so
    instead of quietly creating an empty database there.
    """
    from sqlalchemy.engine import make_url

    from adapter.logs import setup_logging
    from adapter.runtime import build_runtime

    settings = obj.settings
    url = make_url(settings.database_url)
    sqlite_file = url.database if url.get_backend_name() == "sqlite" else None
    if existing and sqlite_file and not Path(sqlite_file).exists():
        found = Path("ponte.toml")
        where = obj.config or (found if found.exists() else "no ponte.toml here")
        raise click.ClickException(
            f"no Ponte database at {sqlite_file} ({where}); run this in the "
            "folder of your ponte.toml or pass --config FILE before the command"
        )
    setup_logging(settings.log_level)
    return build_runtime(settings)


@cli.command()
@click.option("--host", help="Listen address (default from settings: 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default from settings: 8080).")
@click.option("--workers", type=int, help="gunicorn worker processes (default 2).")
@click.option(
    "--no-worker", is_flag=True, help="Do not start the delivery worker alongside."
)
@pass_obj
def serve(
    obj: _Obj, host: str | None, port: int | None, workers: int | None, no_worker: bool
) -> None:
    """Serve SOAP at http://HOST:PORT/soap/v1 (WSDL at ?wsdl).

    Runs gunicorn with several worker processes and, unless --no-worker, one
    delivery-worker process. The database is created or migrated first.
    """
    from adapter.serving import GunicornServer, Supervisor

    settings = obj.settings
    server = settings.server.model_copy(
        update={
            k: v
            for k, v in {"host": host, "port": port, "workers": workers}.items()
            if v is not None
        }
    )
    settings = settings.model_copy(update={"server": server})
    runtime = _runtime(obj)
    if not no_worker:
        from adapter.delivery.worker import DeliveryWorker

        DeliveryWorker(runtime).prepare()  # a bad target stops us here, not later
    runtime.db.dispose()  # each gunicorn worker opens its own connections
    if no_worker:
        GunicornServer(settings).run()
        return
    base = [sys.executable, "-m", "adapter"]
    if obj.config is not None:
        base += ["--config", str(obj.config)]
    args = [
        arg
        for name, value in (("--host", host), ("--port", port), ("--workers", workers))
        if value is not None
        for arg in (name, str(value))
    ]
    raise SystemExit(Supervisor(base).run(args))


@cli.command()
@pass_obj
def worker(obj: _Obj) -> None:
    """Run the delivery worker (one per database; a second one waits)."""
    from adapter.delivery.worker import DeliveryWorker

    delivery = DeliveryWorker(_runtime(obj))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    delivery.start()
    try:
        stop.wait()
    finally:
        delivery.stop()


@cli.group()
def users() -> None:
    """Integration users (ERPs, HR systems, operators)."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLE_NAMES),
    help=ROLE_HELP,
)
@click.option(
    "--password",
    help="At least 12 characters. Prompted (hidden, twice) when omitted; give it "
    "here where there is no terminal.",
)
@pass_obj
def users_add(obj: _Obj, name: str, role: str, password: str | None) -> None:
    """Create user NAME with ROLE."""
    from adapter.credentials.users import add_user

    if password is None:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise click.ClickException("the passwords differ")
    runtime = _runtime(obj)
    with runtime.db.transaction() as session:
        record = add_user(session, runtime.vault, name, role, password)
        from adapter.audit.writer import AuditRecord

        runtime.audit.record(
            session,
            AuditRecord(
                actor=getpass.getuser(),
                channel="cli",
                action="users.add",
                outcome="ok",
                record_type="user",
                record_id=name,
                detail={"role": role},
            ),
        )
    click.echo(f"user {record.name} created with role {record.role}")


@users.command("unlock")
@click.argument("name")
@pass_obj
def users_unlock(obj: _Obj, name: str) -> None:
    """Clear the lockout of NAME after repeated wrong passwords."""
    from adapter.audit.writer import AuditRecord

    runtime = _runtime(obj, existing=True)
    if not runtime.authenticator.unlock(name):
        raise click.ClickException(f"no user named {name}")
    with runtime.db.transaction() as session:
        runtime.audit.record(
            session,
            AuditRecord(
                actor=getpass.getuser(),
                channel="cli",
                action="users.unlock",
                outcome="ok",
                record_type="user",
                record_id=name,
            ),
        )
    click.echo(f"user {name} unlocked")


@users.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLE_NAMES))
@pass_obj
def users_set_role(obj: _Obj, name: str, role: str) -> None:
    """Give user NAME the role ROLE (audited, with the role it had).

    The new role applies to the user's next call. admin: every operation;
    finance_erp: parties, lawsuits, contracts, payment orders, provisions;
    hr_system: parties, employees, time-clock punches; auditor: every Get and
    Query, and QueryAuditEntries.
    """
    from adapter.audit.writer import AuditRecord
    from adapter.credentials.users import set_role

    runtime = _runtime(obj, existing=True)
    with runtime.db.transaction() as session:
        before = set_role(session, name, role)
        runtime.audit.record(
            session,
            AuditRecord(
                actor=getpass.getuser(),
                channel="cli",
                action="users.set-role",
                outcome="ok" if before != role else "unchanged",
                record_type="user",
                record_id=name,
                detail={"from": before, "to": role},
            ),
        )
    if before == role:
        click.echo(f"user {name} already has role {role}")
    else:
        click.echo(f"user {name}: role {before} -> {role}")


@users.command("bind-cert")
@click.argument("name")
@click.argument(
    "certificate",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=False,
)
@click.option("--unbind", is_flag=True, help="Remove the binding instead.")
@pass_obj
def users_bind_cert(
    obj: _Obj, name: str, certificate: Path | None, unbind: bool
) -> None:
    """Bind NAME to a partner's X.509 CERTIFICATE (PEM).

    From then on every request of NAME must carry a WS-Security signature over
    Body and Timestamp made with that certificate's key; a request signed with
    it needs no UsernameToken.
    """
    from adapter.audit.writer import AuditRecord
    from adapter.credentials.users import bind_certificate

    if not unbind and certificate is None:
        raise click.UsageError("give a CERTIFICATE file, or --unbind")
    pem = None if unbind or certificate is None else certificate.read_bytes()
    runtime = _runtime(obj, existing=True)
    with runtime.db.transaction() as session:
        fingerprint = bind_certificate(session, name, pem)
        runtime.audit.record(
            session,
            AuditRecord(
                actor=getpass.getuser(),
                channel="cli",
                action="users.unbind-cert" if unbind else "users.bind-cert",
                outcome="ok",
                record_type="user",
                record_id=name,
                detail={"sha256": fingerprint} if fingerprint else {},
            ),
        )
    if fingerprint:
        click.echo(f"user {name} bound to certificate sha256:{fingerprint}")
    else:
        click.echo(f"user {name} no longer bound to a certificate")


@users.command("list")
@pass_obj
def users_list(obj: _Obj) -> None:
    """List users and their roles."""
    from adapter.credentials.users import list_users

    runtime = _runtime(obj, existing=True)
    with runtime.db.transaction() as session:
        records = list_users(session)
    if not records:
        click.echo("no users yet: ponte users add NAME --role ROLE")
    for record in records:
        click.echo(f"{record.name}\t{record.role}")


cli.add_command(keys)
cli.add_command(verify)


cli.add_command(targets)
cli.add_command(deliveries)
cli.add_command(audit)
cli.add_command(privacy)
cli.add_command(mappings)


@cli.command()
@click.option(
    "--url", help="soap:address to write (default: the configured public URL)."
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)
@pass_obj
def wsdl(obj: _Obj, url: str | None, output: Path | None) -> None:
    """Print (or write) the WSDL that the server publishes."""
    from adapter.inbound.app import wsdl_document

    document = wsdl_document(url or obj.settings.server.soap_url)
    if output:
        output.write_bytes(document)
        click.echo(f"wrote {output}")
    else:
        click.echo(document.decode())


def main(argv: Sequence[str] | None = None) -> None:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="ponte")
    except PonteError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
