"""The JSON form of a canonical event, for http targets with ``body_format = "json"``.

The conversion is deterministic: the same XML always gives the same bytes.
The rules:

- The root element becomes the top-level JSON value; its own name is dropped
  (for an event, ``{"id": ..., "type": ..., "paymentOrder": {...}}``).
- An element with child elements becomes an object whose keys are the
  children's local names, in the order they first appear in the XML (for a
  canonical event, the schema's order). An element in a namespace other than
  the root's is keyed ``{namespace}name``, so nothing collides.
- An element without child elements becomes its text as a string, always:
  ``"1"``, ``"1500.00"``, ``"2026-12-20"``; an empty element becomes ``""``.
  Text is kept exactly, whitespace included.
- An element becomes an array of values when the schema
  (``wsdl/events-v1.xsd``) lets it occur more than once in its parent
  (``maxOccurs`` above 1 or ``unbounded``, on the element or on an enclosing
  ``xs:sequence``/``xs:choice``), even if it occurs once; or, whatever the
  schema says, when it occurs more than once under the same parent. The array
  keeps document order.
- An optional element that is absent (``minOccurs="0"``) is an absent key.
- Comments and processing instructions are dropped.
- Not supported, and refused with ``MappingError`` naming the element:
  attributes, and text mixed with child elements. The canonical events have
  neither; a mapping that produces them needs ``body_format = "xml"``.

The output is UTF-8 JSON without insignificant whitespace and with non-ASCII
characters written as themselves.

The schema walk follows global elements and complex types, local and ``ref``
elements, ``xs:sequence``, ``xs:choice``, ``xs:all`` and ``xs:complexContent``
extensions. Elements reached through anything else (``xs:group``, ``xs:any``)
fall back to the repetition rule.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from lxml import etree

from adapter import xmlutil
from adapter.errors import ConfigurationError, MappingError

XS = "http://www.w3.org/2001/XMLSchema"
EVENTS_SCHEMA = Path(__file__).resolve().parents[2] / "wsdl" / "events-v1.xsd"

_Path = tuple[str, ...]


class EventJson:
    """Converts event XML to JSON; the schema's repeatable elements are read once."""

    def __init__(self, schema: Path = EVENTS_SCHEMA) -> None:
        """Read ``schema``; raises ``ConfigurationError`` naming it when unreadable."""
        self.schema = schema
        self._repeatable = _repeatable_paths(_read_schema(schema))

    def convert(self, xml: bytes) -> bytes:
        """The JSON bytes for ``xml``; raises ``MappingError`` as the rules say."""
        value = self.to_value(xml)
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8")

    def to_value(self, xml: bytes) -> Any:
        """The JSON value (a dict for an event) before serialisation."""
        try:
            root = xmlutil.parse(xml)
        except etree.XMLSyntaxError as exc:
            raise MappingError(f"the event is not well-formed XML: {exc}") from exc
        namespace = etree.QName(root).namespace
        return self._value(root, (etree.QName(root).localname,), namespace)

    def _value(
        self, element: etree._Element, path: _Path, namespace: str | None
    ) -> Any:
        _refuse_unsupported(element, path)
        children = [c for c in element if isinstance(c.tag, str)]
        if not children:
            return _leaf_text(element)
        counts = Counter(_key(child, namespace) for child in children)
        result: dict[str, Any] = {}
        for child in children:
            key = _key(child, namespace)
            child_path = (*path, etree.QName(child).localname)
            value = self._value(child, child_path, namespace)
            if counts[key] > 1 or child_path in self._repeatable:
                result.setdefault(key, []).append(value)
            else:
                result[key] = value
        return result


def _key(element: etree._Element, root_namespace: str | None) -> str:
    name = etree.QName(element)
    if name.namespace in (None, root_namespace):
        return name.localname
    return f"{{{name.namespace}}}{name.localname}"


def _leaf_text(element: etree._Element) -> str:
    # A comment inside a leaf splits its text; join the pieces around it.
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element)
    return "".join(parts)


def _refuse_unsupported(element: etree._Element, path: _Path) -> None:
    where = "/".join(path)
    if element.attrib:
        raise MappingError(f"{where}: attributes have no JSON form")
    has_children = any(isinstance(c.tag, str) for c in element)
    pieces = [element.text, *(c.tail for c in element)]
    if has_children and any(p and p.strip() for p in pieces):
        raise MappingError(f"{where}: text mixed with elements has no JSON form")


# Reading the schema


def _read_schema(path: Path) -> etree._Element:
    try:
        return xmlutil.parse(path.read_bytes())
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(
            f"event schema {path} cannot be read: {reason}"
        ) from exc
    except etree.XMLSyntaxError as exc:
        raise ConfigurationError(f"event schema {path} is not XML: {exc}") from exc


def _repeatable_paths(schema: etree._Element) -> frozenset[_Path]:
    """Paths of local names, from the root, of elements that may occur twice."""
    walker = _SchemaWalker(schema)
    try:
        for element in schema.findall(f"{{{XS}}}element"):
            walker.walk(element, (), repeated=False)
    except ValueError as exc:
        raise ConfigurationError(f"event schema: {exc}") from exc
    return frozenset(walker.found)


class _SchemaWalker:
    """Collects repeatable paths; a recursive type is followed only once per path."""

    def __init__(self, schema: etree._Element) -> None:
        self.namespace = schema.get("targetNamespace")
        self.elements = _named(schema, "element")
        self.types = _named(schema, "complexType")
        self.found: set[_Path] = set()
        self._open: set[int] = set()

    def walk(self, element: etree._Element, parent: _Path, *, repeated: bool) -> None:
        declared = self._declaration(element)
        if declared is None:
            return
        path = (*parent, declared.get("name", ""))
        if repeated or _max_occurs(element) > 1:
            self.found.add(path)
        complex_type = self._complex_type(declared)
        if complex_type is None or id(complex_type) in self._open:
            return
        self._open.add(id(complex_type))
        self._particles(complex_type, path, repeated=False)
        self._open.discard(id(complex_type))

    def _particles(self, node: etree._Element, path: _Path, *, repeated: bool) -> None:
        for child in node:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            if local == "element":
                self.walk(child, path, repeated=repeated)
            elif local in {"sequence", "choice", "all"}:
                many = repeated or _max_occurs(child) > 1
                self._particles(child, path, repeated=many)
            elif local == "complexContent":
                self._particles(child, path, repeated=repeated)
            elif local == "extension":
                base = self._lookup(self.types, child, "base")
                if base is not None:
                    self._particles(base, path, repeated=repeated)
                self._particles(child, path, repeated=repeated)

    def _declaration(self, element: etree._Element) -> etree._Element | None:
        if element.get("ref"):
            return self._lookup(self.elements, element, "ref")
        return element

    def _complex_type(self, declared: etree._Element) -> etree._Element | None:
        inline = declared.find(f"{{{XS}}}complexType")
        if inline is not None:
            return inline
        return self._lookup(self.types, declared, "type")

    def _lookup(
        self, table: dict[str, etree._Element], node: etree._Element, attribute: str
    ) -> etree._Element | None:
        """The global declaration a QName attribute names, in the target namespace."""
        prefix, _, local = node.get(attribute, "").rpartition(":")
        if node.nsmap.get(prefix or None) != self.namespace:
            return None
        return table.get(local)


def _named(schema: etree._Element, kind: str) -> dict[str, etree._Element]:
    return {
        node.get("name", ""): node
        for node in schema.findall(f"{{{XS}}}{kind}")
        if node.get("name")
    }


def _max_occurs(node: etree._Element) -> float:
    value = node.get("maxOccurs", "1")
    if value == "unbounded":
        return float("inf")
    if not value.isdigit():
        raise ValueError(f"maxOccurs={value!r} is not a number or unbounded")
    return float(value)
