"""The mapping folders: ``mappings/<folder>/`` holds one profile's mappings.

Layout of a folder::

    profile.toml                 what kind of target, and its contract
    <event type>.xsl             the mapping of one event type
    default.xsl                  (optional) the mapping of every other type
    samples/<name>.input.xml     a canonical event
    samples/<name>.expected.xml  what the mapping must write for it
    contract/                    the target's WSDL or schemas

``profile.toml``::

    profile = "sap-acc-document"     # the profile that reads the answers
    kind = "soap"                    # soap, or http (a plain HTTP receiver)
    description = "..."

    [contract]
    wsdl = "contract/x.wsdl"         # checks the mapped SOAP body (soap)
    port = "X_BINDING"
    operation = "X_POST"
    bundle = "contract"              # answers the WSDL's ?xsd=xsdN imports
    document_schema = "contract/d.xsd"   # checks the mapped document itself
    document_parameter = "XML"       # the call parameter that carries it
    [contract.params]                # fixed call parameters, for previews
    DataServerName = "FinLanDataBR"

A sample's event type is the one its input names (``ev:type``); the mapping
that runs is the one a delivery of that event would use.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from adapter import xmlutil
from adapter.domain.events import EVENT_TYPES, EVENTS_NS
from adapter.errors import MappingError

MANIFEST = "profile.toml"
DEFAULT_MAPPING = "default"
# mappings/ beside the package: where the shipped profiles live.
SHIPPED = Path(__file__).resolve().parents[2] / "mappings"

_TOP_KEYS = frozenset({"profile", "kind", "description", "contract"})
_CONTRACT_KEYS = frozenset(
    {
        "wsdl",
        "port",
        "operation",
        "bundle",
        "document_schema",
        "document_parameter",
        "params",
    }
)


@dataclass(frozen=True)
class FolderContract:
    """What the folder knows of the target's contract (paths are absolute)."""

    wsdl: Path | None = None
    port: str | None = None
    operation: str | None = None
    bundle: Path | None = None
    document_schema: Path | None = None
    document_parameter: str | None = None
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    """A canonical event and the mapping output expected for it."""

    name: str
    input: Path
    expected: Path

    def event_type(self) -> str:
        """The ``ev:type`` of the input; ``MappingError`` naming the file."""
        root = read_xml(self.input)
        found = root.findtext(f"{{{EVENTS_NS}}}type")
        if root.tag != f"{{{EVENTS_NS}}}event" or not found:
            raise MappingError(
                f"{self.input}: not a canonical event (an ev:event with ev:type)"
            )
        return found.strip()


@dataclass(frozen=True)
class ProfileFolder:
    path: Path
    profile: str
    kind: str
    description: str
    contract: FolderContract

    @property
    def name(self) -> str:
        return self.path.name

    @classmethod
    def load(cls, path: Path) -> ProfileFolder:
        """Read ``path/profile.toml``; ``MappingError`` names the file and key."""
        manifest = path / MANIFEST
        data = _read_manifest(manifest)
        contract = data.get("contract", {})
        if not isinstance(contract, dict):
            raise MappingError(f"{manifest}: [contract] must be a table")
        _check_keys(manifest, "contract.", contract, _CONTRACT_KEYS)
        kind = _text(manifest, data, "kind", required=True)
        if kind not in ("soap", "http"):
            raise MappingError(f"{manifest}: kind must be soap or http, not {kind!r}")
        return cls(
            path=path.resolve(),
            profile=_text(manifest, data, "profile", required=True) or "",
            kind=kind or "",
            description=_text(manifest, data, "description") or "",
            contract=_contract(manifest, path.resolve(), contract),
        )

    def mapping_files(self) -> dict[str, Path]:
        """``{event type or "default": file}``; ``MappingError`` for a file
        named after no event type (a typo would otherwise map nothing)."""
        found: dict[str, Path] = {}
        for file in sorted(self.path.glob("*.xsl")):
            name = file.name.removesuffix(".xsl")
            if name != DEFAULT_MAPPING and name not in EVENT_TYPES:
                known = ", ".join(sorted(EVENT_TYPES))
                raise MappingError(
                    f"{file}: a mapping is named after the event type it maps "
                    f"({known}) or {DEFAULT_MAPPING}.xsl"
                )
            found[name] = file
        return found

    def samples(self) -> list[Sample]:
        """The folder's samples, by name; ``MappingError`` for an unpaired file."""
        folder = self.path / "samples"
        inputs = {
            p.name.removesuffix(".input.xml"): p for p in folder.glob("*.input.xml")
        }
        expected = {
            p.name.removesuffix(".expected.xml"): p
            for p in folder.glob("*.expected.xml")
        }
        for name in sorted(set(inputs) ^ set(expected)):
            have = inputs.get(name) or expected[name]
            lacking = "expected" if name in inputs else "input"
            raise MappingError(
                f"{have}: no {name}.{lacking}.xml beside it; a sample is a pair"
            )
        return [Sample(name, inputs[name], expected[name]) for name in sorted(inputs)]


def folder_of(path: Path) -> ProfileFolder | None:
    """The profile folder ``path`` is (a folder) or lies in (a file), if any."""
    folder = path if path.is_dir() else path.parent
    if not (folder / MANIFEST).is_file():
        return None
    return ProfileFolder.load(folder)


def profile_folders(root: Path) -> Iterator[ProfileFolder]:
    """Every profile folder directly under ``root``, by name."""
    for child in sorted(root.iterdir()):
        if (child / MANIFEST).is_file():
            yield ProfileFolder.load(child)


def read_xml(path: Path) -> etree._Element:
    """Parse a sample or mapping output file; ``MappingError`` names file and line."""
    try:
        return xmlutil.parse(path.read_bytes())
    except OSError as exc:
        raise MappingError(f"{path}: cannot read: {exc}") from exc
    except etree.XMLSyntaxError as exc:
        raise MappingError(f"{path}:{exc.lineno}: {exc.msg}") from exc


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: {exc}") from exc
    _check_keys(path, "", data, _TOP_KEYS)
    return data


def _check_keys(
    path: Path, prefix: str, data: dict[str, Any], known: frozenset[str]
) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise MappingError(
            f"{path}: unknown key {prefix}{unknown[0]} (known: "
            f"{', '.join(prefix + k for k in sorted(known))})"
        )


def _text(
    path: Path, data: dict[str, Any], key: str, *, required: bool = False
) -> str | None:
    value = data.get(key)
    if value is None and required:
        raise MappingError(f"{path}: {key} is missing")
    if value is not None and not isinstance(value, str):
        raise MappingError(f"{path}: {key} must be a string")
    return value


def _contract(manifest: Path, folder: Path, data: dict[str, Any]) -> FolderContract:
    def file(key: str) -> Path | None:
        value = _text(manifest, data, key)
        if value is None:
            return None
        resolved = (folder / value).resolve()
        if not resolved.exists():
            raise MappingError(f"{manifest}: contract.{key}: {resolved} does not exist")
        return resolved

    params = data.get("params", {})
    if not isinstance(params, dict) or not all(
        isinstance(v, str) for v in params.values()
    ):
        raise MappingError(f"{manifest}: [contract.params] holds strings only")
    return FolderContract(
        wsdl=file("wsdl"),
        port=_text(manifest, data, "port"),
        operation=_text(manifest, data, "operation"),
        bundle=file("bundle"),
        document_schema=file("document_schema"),
        document_parameter=_text(manifest, data, "document_parameter"),
        params=dict(params),
    )
