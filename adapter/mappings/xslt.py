"""Loading and applying XSLT mappings.

A mapping is compiled when the worker starts, so a broken file is reported
with its name and line before any delivery, never in the middle of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from adapter.errors import MappingError
from adapter.xmlutil import safe_parser


@dataclass(frozen=True)
class Mapping:
    path: Path
    transform: etree.XSLT

    @classmethod
    def load(cls, path: Path) -> Mapping:
        """Compile ``path``; raise ``MappingError`` naming the file and line."""
        try:
            document = etree.parse(str(path), safe_parser())
        except OSError as exc:
            raise MappingError(f"{path}: cannot read the mapping: {exc}") from exc
        except etree.XMLSyntaxError as exc:
            raise MappingError(f"{path}:{exc.lineno}: {exc.msg}") from exc
        access = etree.XSLTAccessControl.DENY_ALL
        try:
            transform = etree.XSLT(document, access_control=access)
        except etree.XSLTParseError as exc:
            raise MappingError(f"{path}: {_first_error(exc.error_log)}") from exc
        return cls(path, transform)

    def apply(self, event_xml: bytes) -> etree._Element:
        """Map a canonical event; the result's root element is returned."""
        source = etree.fromstring(event_xml, safe_parser())
        try:
            result = self.transform(source)
        except etree.XSLTApplyError as exc:
            raise MappingError(
                f"{self.path}: {_first_error(self.transform.error_log)}"
            ) from exc
        root = result.getroot()
        if root is None:
            raise MappingError(f"{self.path}: the mapping produced no element")
        return root


def _first_error(log: etree._ListErrorLog) -> str:
    for entry in log:
        return f"line {entry.line}: {entry.message}"
    return "XSLT error"
