"""Check mapped documents against the target's contract, before anything is sent.

What a document is checked against comes from the profile folder
(``profile.toml``):

- ``document_schema``: the document itself must be valid against that XSD
  (TOTVS RM's DataSet, which travels as a string parameter; the JSON-free
  body of a plain HTTP receiver);
- else ``wsdl`` with ``port`` and ``operation``: the document is the SOAP
  Body's element, so it must be the operation's input element and valid
  against the WSDL's schema (SAP, Protheus, the generic receiver).

Each violation names the element by a readable path
(``/ZPONTE_ACC_DOCUMENT_POST/DOCUMENTHEADER/HEADER_TXT``), the line in the
output as written (indented, one element a line) and, when the element is a
literal result element of the stylesheet, the stylesheet's line that wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from adapter.errors import ContractError, MappingError
from adapter.mappings.catalog import ProfileFolder
from adapter.outbound.wsdl import (
    client_of,
    contract_schema,
    input_element,
    read_contract,
    schema_from_file,
)


@dataclass(frozen=True)
class Violation:
    """One thing the contract does not allow in a mapped document."""

    message: str
    path: str
    output_line: int
    output_text: str
    mapping_line: int | None = None

    def describe(self, mapping: Path | None = None) -> str:
        """``mapping:line: path (output line N): message``, as one line."""
        if mapping is None:
            where = ""
        elif self.mapping_line:
            where = f"{mapping}:{self.mapping_line}: "
        else:
            where = f"{mapping}: "
        return f"{where}{self.path} (output line {self.output_line}): {self.message}"


@dataclass(frozen=True)
class Checked:
    """A mapped document as written, and what the contract says of it."""

    output: str
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class DocumentCheck:
    """A profile folder's contract, compiled once.

    ``check`` is not thread-safe (lxml keeps the schema's error log on the
    schema object); the worker checks at start-up, one mapping at a time.
    """

    schema: etree.XMLSchema
    source: str
    element: str | None = None  # the Clark name the document must have

    @classmethod
    def for_folder(cls, folder: ProfileFolder) -> DocumentCheck | None:
        """The folder's check, or None when its contract names no schema.

        Raises ``MappingError`` naming the manifest when the contract cannot
        be loaded.
        """
        contract = folder.contract
        try:
            if contract.document_schema is not None:
                schema = schema_from_file(contract.document_schema)
                return cls(schema, contract.document_schema.name)
            if contract.wsdl is None:
                return None
            return _wsdl_check(folder)
        except ContractError as exc:
            raise MappingError(f"{folder.path / 'profile.toml'}: {exc}") from exc

    def check(
        self, document: etree._Element, stylesheet: etree._ElementTree | None = None
    ) -> Checked:
        """Validate ``document`` (a mapping's output root).

        ``stylesheet`` (the mapping's parsed source) lets violations name the
        line of the literal result element that wrote the offending element.
        """
        output = etree.tostring(document, pretty_print=True, encoding="unicode")
        written = etree.fromstring(output.encode("utf-8"))
        lines = output.splitlines()
        if self.element is not None and written.tag != self.element:
            wrong = self._wrong_element(written, lines, document, stylesheet)
            return Checked(output, (wrong,))
        self.schema.validate(written)
        violations = tuple(
            self._violation(entry, written, lines, document, stylesheet)
            for entry in self.schema.error_log
        )
        return Checked(output, violations)

    def _wrong_element(
        self,
        written: etree._Element,
        lines: list[str],
        document: etree._Element,
        stylesheet: etree._ElementTree | None,
    ) -> Violation:
        assert self.element is not None
        return Violation(
            f"the operation's input is {_readable(self.element)}, not "
            f"{_readable(str(written.tag))} ({self.source})",
            f"/{etree.QName(written).localname}",
            1,
            lines[0].strip() if lines else "",
            _literal_line(document, stylesheet),
        )

    def _violation(
        self,
        entry: etree._LogEntry,
        written: etree._Element,
        lines: list[str],
        document: etree._Element,
        stylesheet: etree._ElementTree | None,
    ) -> Violation:
        element = _element_at(written, entry.line, entry.path)
        original = _same_place(element, written, document)
        shown = lines[entry.line - 1].strip() if 0 < entry.line <= len(lines) else ""
        return Violation(
            entry.message.strip(),
            _path(element) if element is not None else str(entry.path),
            entry.line,
            shown,
            _literal_line(original, stylesheet),
        )


def _wsdl_check(folder: ProfileFolder) -> DocumentCheck:
    contract = folder.contract
    assert contract.wsdl is not None
    manifest = folder.path / "profile.toml"
    if not contract.port or not contract.operation:
        raise MappingError(
            f"{manifest}: a contract with a wsdl names port and operation"
        )
    read = read_contract(str(contract.wsdl), bundle=contract.bundle)
    body = input_element(client_of(read), contract.port, contract.operation)
    qname = getattr(body, "qname", None)
    source = f"{contract.wsdl.name}, operation {contract.operation}"
    return DocumentCheck(contract_schema(read), source, str(qname) if qname else None)


def _readable(clark: str) -> str:
    qname = etree.QName(clark)
    return (
        f"{{{qname.namespace}}}{qname.localname}"
        if qname.namespace
        else qname.localname
    )


def _element_at(
    root: etree._Element, line: int, libxml_path: str | None
) -> etree._Element | None:
    """The element libxml2 reported: on ``line``, and at ``libxml_path``."""
    tree = root.getroottree()
    on_line = [
        e for e in root.iter() if isinstance(e.tag, str) and e.sourceline == line
    ]
    for element in on_line:
        if libxml_path and tree.getpath(element) == libxml_path:
            return element
    return on_line[0] if on_line else None


def _path(element: etree._Element) -> str:
    """``/A/B/item[2]/C``: local names, with a position where names repeat."""
    steps: list[str] = []
    current: etree._Element | None = element
    while current is not None:
        name = etree.QName(current).localname
        parent = current.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == current.tag]
            if len(same) > 1:
                name += f"[{same.index(current) + 1}]"
        steps.append(name)
        current = parent
    return "/" + "/".join(reversed(steps))


def _same_place(
    element: etree._Element | None, written: etree._Element, original: etree._Element
) -> etree._Element | None:
    """The element of ``original`` at the place ``element`` has in ``written``."""
    if element is None:
        return None
    positions: list[int] = []
    current = element
    while current is not written:
        parent = current.getparent()
        if parent is None:
            return None
        positions.append(_element_children(parent).index(current))
        current = parent
    found = original
    for index in reversed(positions):
        children = _element_children(found)
        if index >= len(children):
            return None
        found = children[index]
    return found


def _element_children(element: etree._Element) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str)]


def _literal_line(
    element: etree._Element | None, stylesheet: etree._ElementTree | None
) -> int | None:
    """The stylesheet line of the literal result element that wrote ``element``.

    libxslt keeps a literal result element's line on its copy in the output;
    an element made by ``xsl:element`` or copied from the event has another
    line (or none), so the line counts only when the stylesheet has an
    element of that name there.
    """
    if element is None or stylesheet is None or not element.sourceline:
        return None
    for candidate in stylesheet.getroot().iter(element.tag):
        if candidate.sourceline == element.sourceline:
            return element.sourceline
    return None
