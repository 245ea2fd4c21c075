"""``ponte keys`` (the keyring) and ``ponte verify`` (check a signed message).

Registered on the main group in ``adapter.cli``. Every command that changes
the keyring, and ``keys export``, writes an audit entry (channel ``cli``)
naming the operator: ``--operator``, by default the OS user.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from adapter.cli_operator import operator_option
from adapter.errors import NotFoundError, PonteError, ValidationError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_VALID, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Duration(click.ParamType):
    name = "DURATION"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.timedelta:
        from adapter.signing import parse_duration

        if isinstance(value, dt.timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class _Moment(click.ParamType):
    name = "TIME"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            moment = dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# Building what the commands need


def _runtime(obj: Any, *, existing: bool = False) -> Any:
    from adapter.cli import _runtime as build

    return build(obj, existing=existing)


def _admin(obj: Any) -> tuple[Any, Any]:
    """The keyring and its admin on a migrated database (created if new)."""
    from adapter.signing import Keyring, KeyringAdmin

    runtime = _runtime(obj)
    keyring = Keyring.from_settings(runtime.settings, runtime.db)
    return keyring, KeyringAdmin(runtime.db, runtime.audit, keyring)


def _reading_keyring(obj: Any) -> tuple[Any, bool]:
    """The keyring to read; only the ponte.toml keys when there is no database.

    Returns the keyring and whether a database was found.
    """
    from adapter.signing import Keyring

    try:
        runtime = _runtime(obj, existing=True)
    except click.ClickException:  # no database here: ponte.toml keys only
        return Keyring.from_settings(obj.settings, None), False
    return Keyring.from_settings(runtime.settings, runtime.db), True


def _refusal(exc: PonteError) -> click.ClickException:
    """A refused keyring action: a bad argument is a usage error (exit 2)."""
    if isinstance(exc, ValidationError) and not isinstance(exc, NotFoundError):
        return click.UsageError(str(exc))
    return click.ClickException(str(exc))


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ponte keys


@click.group()
def keys() -> None:
    """Signing keys for outbound XML-DSig, and their rotation.

    A target signs with the active key of its signing name (signing_key =
    "NAME" in ponte.toml). `rotate` makes a new key active and keeps the old
    one retiring (still accepted by `ponte verify` and still exported) for a
    grace period, so receivers can add the new certificate before the old one
    stops. Running workers switch within about 5 seconds; no restart.

    A [[signing_keys]] entry of ponte.toml is the active key of the name equal
    to its id until a rotation of that name replaces it.
    """


@keys.command("list")
@click.option("--name", help="Only the keys of this signing name.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def keys_list(obj: Any, name: str | None, as_json: bool) -> None:
    """List keys: id, name, state, certificate dates and fingerprint.

    The state is as of now: a retiring key whose grace has ended shows as
    retired. "until" is the end of a retiring key's grace.
    """
    keyring, _ = _reading_keyring(obj)
    now = keyring.now()
    records = [r for r in keyring.records() if name is None or r.name == name]
    if not records and not as_json:
        click.echo("no signing keys yet: ponte keys generate NAME")
        return
    rows = [_key_row(record, now) for record in records]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    click.echo("id  name  state  source  not-before  not-after  until  fingerprint")
    for row in rows:
        click.echo(
            "  ".join(
                str(row[k] or "-")
                for k in (
                    "id",
                    "name",
                    "state",
                    "source",
                    "not_before",
                    "not_after",
                    "grace_until",
                    "fingerprint",
                )
            )
        )


def _key_row(record: Any, now: dt.datetime) -> dict[str, Any]:
    cert = record.certificate
    state = record.state_at(now).value
    return {
        "id": record.key_id,
        "name": record.name,
        "state": state,
        "source": record.source.value,
        "not_before": _when(cert.not_valid_before_utc) if cert else None,
        "not_after": _when(cert.not_valid_after_utc) if cert else None,
        "grace_until": _when(record.grace_until) if state == "retiring" else None,
        "fingerprint": f"sha256:{record.fingerprint}" if cert else None,
        "created_at": _when(record.created_at) if record.created_at else None,
        "created_by": record.created_by,
        "problem": record.problem,
    }


@keys.command("generate")
@click.argument("name", required=False)
@click.option(
    "--id",
    "key_id",
    help="Key id, written in each signature's ds:KeyName. With NAME the "
    "default is NAME-YYYYMMDD; without NAME it is ponte-1.",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Without NAME only: where to write KEY_ID.key.pem and KEY_ID.cert.pem "
    "(default DATA_DIR/keys). Keyring keys always live in DATA_DIR/keys.",
)
@click.option(
    "--cn", default="Ponte", show_default=True, help="Certificate subject CN."
)
@operator_option
@click.pass_obj
def keys_generate(
    obj: Any,
    name: str | None,
    key_id: str | None,
    folder: Path | None,
    cn: str,
    operator: str,
) -> None:
    """Generate an RSA-2048 key and a self-signed certificate.

    With NAME: the key becomes the active key of signing name NAME in the
    keyring (files in DATA_DIR/keys, state in the database, an audit entry);
    targets sign with it through signing_key = "NAME". Refused if NAME already
    has an active key: use `ponte keys rotate NAME`.

    Without NAME: only write the two files and print the [[signing_keys]]
    lines to paste into ponte.toml; no database is touched.
    """
    if name is None:
        _generate_files(obj, key_id or "ponte-1", folder, cn)
        return
    if folder is not None:
        raise click.UsageError(
            "--dir goes without NAME: keyring keys live in DATA_DIR/keys"
        )

    _, admin = _admin(obj)
    try:
        record = admin.generate(name, operator=operator, key_id=key_id, common_name=cn)
    except PonteError as exc:
        raise _refusal(exc) from exc
    click.echo(f"{name}: key {record.key_id} generated, active")
    click.echo(
        f"  cert: {record.cert_path}\n  fingerprint: sha256:{record.fingerprint}"
    )
    click.echo(
        f'Targets sign with it through signing_key = "{name}"; give receivers '
        f"its certificate: ponte keys export {name}"
    )


def _generate_files(obj: Any, key_id: str, folder: Path | None, cn: str) -> None:
    """The ponte.toml way: two files and the lines to paste."""
    from adapter.signing import generate_signing_key

    folder = folder or obj.settings.data_dir / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / f"{key_id}.key.pem", folder / f"{key_id}.cert.pem"
    generate_signing_key(key_path, cert_path, common_name=cn)
    click.echo(f"key:  {key_path}\ncert: {cert_path}")
    click.echo(
        "Add to ponte.toml:\n\n[[signing_keys]]\n"
        f'id = "{key_id}"\nkey = "{key_path}"\ncert = "{cert_path}"'
    )


@keys.command("rotate")
@click.argument("name")
@click.option(
    "--grace",
    type=_Duration(),
    default="7d",
    show_default=True,
    help="How long the replaced key stays accepted and exported: a number and "
    "a unit (s, m, h, d, w), e.g. 36h or 2w; 0 retires it at once (a key that "
    "leaked).",
)
@click.option(
    "--cn", default="Ponte", show_default=True, help="Certificate subject CN."
)
@operator_option
@click.pass_obj
def keys_rotate(
    obj: Any, name: str, grace: dt.timedelta, cn: str, operator: str
) -> None:
    """Give signing name NAME a new active key; the old one starts retiring.

    Messages are signed with the new key from the next delivery on (workers
    notice within about 5 seconds). Hand receivers the certificates with
    `ponte keys export NAME` right away: during the grace both verify.
    """
    _, admin = _admin(obj)
    try:
        rotation = admin.rotate(name, operator=operator, grace=grace, common_name=cn)
    except PonteError as exc:
        raise _refusal(exc) from exc
    new = rotation.new
    click.echo(f"{name}: {new.key_id} is now active (sha256:{new.fingerprint})")
    for old in rotation.replaced:
        if old.state.value == "retiring":
            click.echo(f"  {old.key_id}: retiring until {_when(old.grace_until)}")
        else:
            click.echo(f"  {old.key_id}: retired")
    click.echo(f"Give receivers the certificates now: ponte keys export {name}")


@keys.command("retire")
@click.argument("key_id", metavar="ID")
@operator_option
@click.pass_obj
def keys_retire(obj: Any, key_id: str, operator: str) -> None:
    """End the grace of retiring key ID now.

    From then on `ponte verify` refuses messages signed with it and `keys
    export` leaves it out. The active key of a name cannot be retired (nothing
    would sign): rotate it, with --grace 0 to retire it at once.
    """
    _, admin = _admin(obj)
    try:
        record = admin.retire(key_id, operator=operator)
    except PonteError as exc:
        raise _refusal(exc) from exc
    click.echo(f"{record.key_id} retired: no longer accepted nor exported")


@keys.command("export")
@click.argument("name")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one ID.cert.pem per key here instead of printing them.",
)
@operator_option
@click.pass_obj
def keys_export(obj: Any, name: str, folder: Path | None, operator: str) -> None:
    """Print the PEM certificates receivers should trust for NAME.

    These are the active key and every retiring key still in its grace, in
    that order; send receivers this whole set after every rotation. The
    bundle goes to standard output (what each certificate is, to standard
    error); with --dir, one file per key, named by its key id.
    """
    keyring, admin = _admin(obj)
    now = keyring.now()
    records = sorted(
        keyring.trusted(name, at=now),
        key=lambda r: r.state_at(now).value != "active",
    )
    if not records:
        raise click.ClickException(f"{name} has no active or retiring key")
    admin.record_export(name, records, operator=operator)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        state = record.state_at(now).value
        until = f" until {_when(record.grace_until)}" if state == "retiring" else ""
        if folder is None:
            click.echo(record.cert_pem.decode(), nl=False)
            click.echo(f"{record.key_id}: {state}{until}", err=True)
        else:
            path = folder / f"{record.key_id}.cert.pem"
            path.write_bytes(record.cert_pem)
            click.echo(f"{path}  ({state}{until})")


# ponte verify


@dataclass(frozen=True)
class _Trusted:
    certificate: Any
    record: Any | None  # the keyring's KeyRecord, when the key is ours
    source: str  # where the certificate came from, for the report


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--cert",
    "cert_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trust the certificates in this PEM file (as `ponte keys export` "
    "writes them; may hold several). Repeatable. Replaces the keyring unless "
    "--keys-from-db is also given.",
)
@click.option(
    "--keys-from-db",
    is_flag=True,
    help="Trust this installation's active and retiring keys (the default "
    "when no --cert is given).",
)
@click.option(
    "--at",
    "at",
    type=_Moment(),
    help="Judge the Timestamp and the key states as of this time, e.g. when "
    "the message was received (ISO 8601; UTC if no offset). Default: now.",
)
@click.pass_obj
def verify(
    obj: Any,
    file: Path,
    cert_files: Sequence[Path],
    keys_from_db: bool,
    at: dt.datetime | None,
) -> None:
    """Check the signature of a message or document that Ponte signed.

    FILE is either a SOAP envelope (WS-Security signature over Body,
    Timestamp and MessageID; the Timestamp must not have expired) or a
    document with an enveloped signature (one Reference, URI=""). Prints the
    key that signed it and what the signature covers.

    Exit status: 0 valid; 1 invalid, with the reason on one line; 2 usage
    error (unreadable certificate file, nothing to trust).
    """
    moment = at or dt.datetime.now(dt.UTC)
    trusted, known = _trust(obj, cert_files, keys_from_db or not cert_files, moment)
    data = file.read_bytes()
    try:
        lines = _verify(data, trusted, known, moment)
    except _Invalid as exc:
        click.echo(f"invalid: {exc}", err=True)
        raise SystemExit(EXIT_INVALID) from None
    for line in lines:
        click.echo(line)


class _Invalid(Exception):
    """The file does not verify; the message is the one-line reason."""


def _trust(
    obj: Any, cert_files: Sequence[Path], from_keyring: bool, moment: dt.datetime
) -> tuple[list[_Trusted], list[Any]]:
    """The certificates to trust, and every key record known (to name a key
    that is no longer trusted)."""
    trusted = [
        _Trusted(cert, None, str(path))
        for path in cert_files
        for cert in _read_certificates(path)
    ]
    known: list[Any] = []
    if from_keyring:
        keyring, _ = _reading_keyring(obj)
        known = list(keyring.records())
        ours = [
            _Trusted(r.certificate, r, "keyring") for r in keyring.trusted(at=moment)
        ]
        trusted = ours + [t for t in trusted if t.certificate not in _certs(ours)]
        if not known and not cert_files:
            raise click.UsageError(
                "nothing to trust: this installation has no signing keys; give "
                "the signer's certificate with --cert FILE"
            )
    return trusted, known


def _read_certificates(path: Path) -> list[Any]:
    from cryptography import x509

    try:
        return list(x509.load_pem_x509_certificates(path.read_bytes()))
    except ValueError as exc:
        raise click.BadParameter(
            f"{path} holds no PEM certificate", param_hint="--cert"
        ) from exc


def _certs(trusted: Sequence[_Trusted]) -> list[Any]:
    return [t.certificate for t in trusted]


def _verify(
    data: bytes, trusted: list[_Trusted], known: list[Any], moment: dt.datetime
) -> list[str]:
    """Verify ``data``; the report lines, or ``_Invalid`` with the reason."""
    from lxml import etree

    from adapter.xmlutil import SOAP11_ENV, parse

    try:
        root = parse(data)
    except etree.XMLSyntaxError:
        raise _Invalid("the file is not well-formed XML") from None
    if root.tag == f"{{{SOAP11_ENV}}}Envelope":
        return _verify_envelope(data, trusted, known, moment)
    return _verify_document(data, trusted, known, moment)


def _verify_envelope(
    data: bytes, trusted: list[_Trusted], known: list[Any], moment: dt.datetime
) -> list[str]:
    from adapter.errors import SignatureError
    from adapter.signing import signer_certificates, verify_envelope

    try:
        embedded = signer_certificates(data)
    except SignatureError as exc:
        raise _Invalid(str(exc)) from None
    candidates = [t for t in trusted if t.certificate in embedded]
    if not candidates:
        raise _Invalid(_untrusted(embedded, known, moment))

    failure: SignatureError | None = None
    for candidate in candidates:
        try:
            result = verify_envelope(data, [candidate.certificate], now=moment)
        except SignatureError as exc:
            failure = exc
            continue
        covers = f"covers: soap:Body <{_first_child(result.body)}>, wsu:Timestamp"
        return [
            _signed_by(candidate, result.key_name, moment),
            f"{covers}, wsa:MessageID {result.message_id}",
        ]
    raise _Invalid(_with_hint(str(failure)))


def _verify_document(
    data: bytes, trusted: list[_Trusted], known: list[Any], moment: dt.datetime
) -> list[str]:
    from lxml import etree

    from adapter.errors import SignatureError
    from adapter.signing.document import document_certificates, verify_document

    try:
        embedded = document_certificates(data)
        if not any(t.certificate in embedded for t in trusted):
            raise _Invalid(_untrusted(embedded, known, moment))
        result = verify_document(data, _certs(trusted), now=moment)
    except SignatureError as exc:
        raise _Invalid(str(exc)) from None
    signer = next(t for t in trusted if t.certificate == result.certificate)
    tag = etree.QName(result.document)
    return [
        _signed_by(signer, result.key_name, moment),
        f"covers: the whole document <{{{tag.namespace or ''}}}{tag.localname}> "
        '(enveloped signature, Reference URI="")',
    ]


def _signed_by(signer: _Trusted, key_name: str | None, moment: dt.datetime) -> str:
    """``valid: signed by key ID of NAME (state), sha256:…`` and the KeyName."""
    from adapter.signing import fingerprint

    hint = f"ds:KeyName {key_name!r}" if key_name else "no ds:KeyName"
    digest = f"sha256:{fingerprint(signer.certificate)}"
    record = signer.record
    if record is None:
        source = f"a certificate from {signer.source}"
        return f"valid: signed with {source} ({digest}); {hint}"
    state = record.state_at(moment).value
    if state == "retiring":
        state += f" until {_when(record.grace_until)}"
    line = f"valid: signed by key {record.key_id} of {record.name} ({state}), {digest}"
    if key_name != record.key_id:
        line += f"; note: {hint}, which the signature does not cover"
    return line


def _untrusted(embedded: list[Any], known: list[Any], moment: dt.datetime) -> str:
    """Why no trusted certificate applies, naming our key if it is one."""
    for record in known:
        if record.certificate in embedded:
            if not record.existed_at(moment):
                return f"signed by key {record.key_id}, which did not exist yet"
            ended = record.retired_at or record.grace_until
            return f"signed by key {record.key_id}, retired since {_when(ended)}"
    return "the signing certificate is not trusted (an unknown key)"


def _with_hint(reason: str) -> str:
    if "expired" in reason:
        return f"{reason} (--at TIME checks it as of when it was received)"
    return reason


def _first_child(body: Any) -> str:
    from lxml import etree

    for child in body:
        if isinstance(child.tag, str):
            return etree.QName(child).text
    return "empty"
