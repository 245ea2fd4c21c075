"""``ponte mappings``: test, validate and preview the mappings of ``mappings/``.

Registered on the main group in ``adapter.cli``. None of these commands opens
the database or sends anything; ``preview --target`` reads the settings (and
fetches the target's WSDL when it is a URL).

Exit status: 0 when everything passed, 1 when a sample failed or an output
breaks its contract, 2 when something could not be run at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
from lxml import etree

from adapter import xmlutil
from adapter.errors import MappingError
from adapter.mappings.catalog import (
    SHIPPED,
    ProfileFolder,
    Sample,
    profile_folders,
    read_xml,
)
from adapter.mappings.samples import SampleResult, Status, run_folder
from adapter.mappings.stylesheet import NothingToSend, nothing_to_send_reason
from adapter.mappings.validate import Checked, DocumentCheck
from adapter.mappings.xslt import Mapping

_DIR_HELP = (
    "Folder holding the profile folders. Default: ./mappings when it holds "
    "any, else the mappings shipped with Ponte."
)


@click.group()
def mappings() -> None:
    """Mappings from Ponte's events to each target's contract.

    Each folder under mappings/ is one profile:

    \b
      profile.toml                  which profile reads the answers; the contract
      <event type>.xsl              XSLT 1.0 mapping of one event type
      default.xsl                   (optional) mapping of every other type
      samples/<name>.input.xml      a canonical event (wsdl/events-v1.xsd)
      samples/<name>.expected.xml   what the mapping must write for it
      contract/                     the target's WSDL or schemas

    test compares every sample; validate checks every output against the
    contract; preview prints what a target would be sent for an event. None
    of them opens the database or sends anything.
    """


def _dir_option(func: Any) -> Any:
    return click.option(
        "--dir",
        "root",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help=_DIR_HELP,
    )(func)


@mappings.command("test")
@click.argument("profiles", nargs=-1, metavar="[PROFILE]...")
@_dir_option
def test_command(profiles: tuple[str, ...], root: Path | None) -> None:
    """Run every sample through its mapping; compare with the expected output.

    PROFILE is a folder name under the mappings folder (sap, totvs-rm...);
    without one, every profile is tested. The comparison ignores namespace
    prefixes, indentation and comments; a mismatch prints a unified diff of
    both documents (one element a line). A mapping without a sample counts
    as a failure. Exit status 1 when any sample fails.

    \b
    Example:
      ponte mappings test sap
    """
    failed = passed = 0
    for folder in _folders(root, profiles):
        click.echo(f"{folder.name} ({folder.profile})")
        untested, results = run_folder(folder)
        width = max((len(r.sample.name) for r in results), default=0)
        for result in results:
            _echo_result(result, width)
        for mapping in untested:
            click.echo(f"  FAIL  {mapping.name}: no sample uses this mapping")
        passed += sum(r.status is Status.PASSED for r in results)
        failed += sum(r.status is not Status.PASSED for r in results) + len(untested)
    click.echo(f"{passed + failed} checks: {passed} passed, {failed} failed")
    if failed:
        raise SystemExit(1)


def _echo_result(result: SampleResult, width: int) -> None:
    name = result.sample.name
    if result.status is Status.PASSED:
        by = result.mapping.name if result.mapping else ""
        click.echo(f"  ok    {name:<{width}}  {by}")
        return
    click.echo(f"  FAIL  {name}")
    detail = result.diff if result.status is Status.FAILED else result.error
    for line in (detail or "").splitlines():
        click.echo(f"        {line}")


@mappings.command("validate")
@click.argument("profiles", nargs=-1, metavar="[PROFILE]...")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Map and check this canonical event instead of the samples "
    "(repeatable; needs exactly one PROFILE).",
)
@_dir_option
def validate_command(
    profiles: tuple[str, ...], events: tuple[Path, ...], root: Path | None
) -> None:
    """Check each mapped output against the target's contract.

    For a SOAP profile the output must be the operation's input element and
    valid against the WSDL's schema; for TOTVS RM, against the DataServer's
    schema; for an HTTP receiver, against its document schema. Every
    violation is printed with the element's path, the line in the output
    (indented, one element a line; the line itself is shown) and, when a
    literal element of the mapping wrote it, the mapping's file and line.
    An event the mapping has nothing to send for is reported, not failed.
    Exit status 1 when any output breaks its contract.

    \b
    Example:
      ponte mappings validate sap --event my-event.xml
    """
    if events and len(profiles) != 1:
        raise click.UsageError("--event needs exactly one PROFILE")
    broken = checked = 0
    for folder in _folders(root, profiles):
        check = DocumentCheck.for_folder(folder)
        source = check.source if check else "no schema in profile.toml"
        click.echo(f"{folder.name} (against {source})")
        mapping = Mapping.load(folder.path, check=False)
        inputs = _inputs(folder, events)
        width = max((len(label) for label, _ in inputs), default=0)
        for label, path in inputs:
            checked += 1
            broken += _validate_one(mapping, check, label.ljust(width), path)
    click.echo(f"{checked} outputs checked, {broken} break their contract")
    if broken:
        raise SystemExit(1)


def _inputs(folder: ProfileFolder, events: Iterable[Path]) -> list[tuple[str, Path]]:
    given = [(str(path), path) for path in events]
    return given or [(s.name, s.input) for s in folder.samples()]


def _validate_one(
    mapping: Mapping, check: DocumentCheck | None, label: str, path: Path
) -> int:
    """Print one output's verdict; 1 when it breaks the contract."""
    try:
        event_type = Sample(label, path, path).event_type()
        stylesheet = mapping.stylesheet_for(event_type)
        output = stylesheet.apply(read_xml(path))
    except MappingError as exc:
        click.echo(f"  FAIL  {label}  {exc}")
        return 1
    reason = nothing_to_send_reason(output)
    if reason is not None:
        click.echo(f"  none  {label}  nothing to send: {reason}")
        return 0
    if check is None:
        click.echo(f"  ?     {label}  not checked (the profile names no schema)")
        return 0
    result = check.check(output, stylesheet.document)
    _echo_checked(label, stylesheet.path, result)
    return 1 if result.violations else 0


def _echo_checked(label: str, mapping: Path, result: Checked) -> None:
    if not result.violations:
        click.echo(f"  ok    {label}  {mapping.name}")
        return
    count = len(result.violations)
    click.echo(f"  FAIL  {label}  {count} violation{'s' if count > 1 else ''}")
    for violation in result.violations:
        click.echo(f"        {violation.describe(mapping)}")
        click.echo(f"          {violation.output_line:>4} | {violation.output_text}")


@mappings.command("preview")
@click.argument("event", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--target", "target_name", help="A target of the settings, by name.")
@click.option(
    "--profile",
    "profile_name",
    help="A profile folder instead of a configured target: its contract's "
    "WSDL, port and operation, and example parameters.",
)
@_dir_option
@click.pass_obj
def preview_command(
    obj: Any,
    event: Path,
    target_name: str | None,
    profile_name: str | None,
    root: Path | None,
) -> None:
    """Print the request a target would be sent for EVENT (a canonical event).

    The whole HTTP request: request line, headers and the SOAP envelope
    (or, for an http target, the body), built as the delivery builds it:
    the target's mapping, its profile, zeep from its WSDL, WS-Addressing and,
    when the target signs, the WS-Security header. Signature values, times
    and the message id are placeholders; passwords and Authorization values
    print as ***. Nothing is sent and the database is not opened; a WSDL
    given by URL is fetched. Notes go to stderr, the request to stdout.

    \b
    Examples:
      ponte mappings preview event.xml --target rm-finance
      ponte mappings preview event.xml --profile sap > envelope.txt
    """
    from adapter.mappings.preview import preview, target_for_folder

    if (target_name is None) == (profile_name is None):
        raise click.UsageError("give --target NAME or --profile NAME (one of them)")
    data = _canonical_event(event)
    if target_name is not None:
        target = obj.settings.target(target_name)
        _setup_logging(obj)
    else:
        target = target_for_folder(_folders(root, (profile_name or "",))[0])
    try:
        request = preview(target, data)
    except NothingToSend as exc:
        click.echo(f"# {target.name}: nothing would be sent: {exc.reason}", err=True)
        return
    click.echo(
        f"# {target.name}: what would be sent for {event.name}; signature "
        "values are placeholders, secrets ***",
        err=True,
    )
    click.echo(request.text, nl=False)


def _canonical_event(path: Path) -> bytes:
    """The bytes of ``path``, refused unless valid against events-v1.xsd."""
    from adapter.outbound.event_json import EVENTS_SCHEMA

    data = path.read_bytes()
    try:
        root = xmlutil.parse(data)
    except etree.XMLSyntaxError as exc:
        raise MappingError(f"{path}:{exc.lineno}: {exc.msg}") from exc
    schema = etree.XMLSchema(etree.parse(str(EVENTS_SCHEMA)))
    if not schema.validate(root):
        first = schema.error_log[0]
        raise MappingError(
            f"{path}:{first.line}: not a canonical event ({EVENTS_SCHEMA.name}): "
            f"{first.message}"
        )
    return data


def _setup_logging(obj: Any) -> None:
    from adapter.logs import setup_logging

    setup_logging(obj.settings.log_level)


def _folders(root: Path | None, names: Iterable[str]) -> list[ProfileFolder]:
    """The profile folders named (all when none), under ``root``."""
    base = root or _default_root()
    wanted = list(names)
    found = {f.name: f for f in profile_folders(base)}
    if not found:
        raise MappingError(f"{base}: no profile folder (one with profile.toml)")
    unknown = [n for n in wanted if n not in found]
    if unknown:
        raise click.UsageError(
            f"no profile {unknown[0]} in {base} (profiles: {', '.join(sorted(found))})"
        )
    return [found[n] for n in wanted] if wanted else list(found.values())


def _default_root() -> Path:
    local = Path("mappings")
    if local.is_dir() and any(profile_folders(local)):
        return local
    return SHIPPED
