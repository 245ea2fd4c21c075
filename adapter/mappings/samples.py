"""Run a profile folder's samples and compare each output with the expected one.

Two documents are the same when they have the same elements, in the same
order, with the same namespaces, attributes and text. Not compared:
namespace prefixes (``ns0:`` or a default namespace, as the writer chose),
whitespace-only text between elements (indentation), comments and
processing instructions. Text inside an element is compared exactly.

On a mismatch the result carries a unified diff of both documents written
in one normal form: each element on its own line, indented, its namespace
declared as the default namespace wherever it changes, attributes sorted.
"""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from adapter.errors import MappingError
from adapter.mappings.catalog import ProfileFolder, Sample, read_xml
from adapter.mappings.xslt import Mapping


class Status(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the output differs from the expected one
    ERROR = "error"  # the mapping, or the sample, cannot be run


@dataclass(frozen=True)
class SampleResult:
    sample: Sample
    status: Status
    mapping: Path | None = None
    diff: str | None = None
    error: str | None = None


def run_folder(folder: ProfileFolder) -> tuple[list[Path], list[SampleResult]]:
    """Run every sample of ``folder``; also return mappings without a sample.

    Raises ``MappingError`` when the folder itself cannot be read (its
    manifest, an unpaired sample) or a mapping does not compile.
    """
    mapping = Mapping.load(folder.path, check=False)
    results = [run_sample(mapping, sample) for sample in folder.samples()]
    tried = {r.mapping for r in results if r.mapping is not None}
    files = [s.path for s in mapping.by_type.values()]
    files += [mapping.every.path] if mapping.every is not None else []
    return [f for f in files if f not in tried], results


def run_sample(mapping: Mapping, sample: Sample) -> SampleResult:
    """Map ``sample``'s input with the stylesheet its event type selects."""
    try:
        stylesheet = mapping.stylesheet_for(sample.event_type())
        expected = read_xml(sample.expected)
        actual = stylesheet.apply(read_xml(sample.input))
    except MappingError as exc:
        return SampleResult(sample, Status.ERROR, error=str(exc))
    if same(expected, actual):
        return SampleResult(sample, Status.PASSED, stylesheet.path)
    diff = difference(expected, actual, sample.expected, stylesheet.path)
    return SampleResult(sample, Status.FAILED, stylesheet.path, diff=diff)


def same(one: etree._Element, other: etree._Element) -> bool:
    """Whether two documents are equal but for prefixes and indentation."""
    return normal_form(one) == normal_form(other)


def difference(
    expected: etree._Element, actual: etree._Element, expected_path: Path, by: Path
) -> str:
    """A unified diff from the expected document to the actual one."""
    lines = difflib.unified_diff(
        normal_form(expected).splitlines(),
        normal_form(actual).splitlines(),
        f"expected ({expected_path.name})",
        f"mapped by {by.name}",
        lineterm="",
    )
    return "\n".join(lines)


def normal_form(root: etree._Element) -> str:
    """The document written one element a line, prefix-free (see module doc)."""
    lines: list[str] = []
    _write(root, None, 0, lines)
    return "\n".join(lines) + "\n"


def _write(
    element: etree._Element, parent_ns: str | None, depth: int, lines: list[str]
) -> None:
    qname = etree.QName(element)
    namespace = qname.namespace or ""
    opening = qname.localname
    if namespace != (parent_ns or "") or parent_ns is None:
        opening += f" xmlns={quoteattr(namespace)}" if namespace or parent_ns else ""
    for name, value in sorted(element.attrib.items()):
        opening += f" {_attribute_name(name)}={quoteattr(value)}"
    children = [c for c in element if isinstance(c.tag, str)]
    text = _own_text(element, bool(children))
    indent = "  " * depth
    if not children:
        body = escape(text)
        lines.append(
            f"{indent}<{opening}>{body}</{qname.localname}>"
            if body
            else f"{indent}<{opening}/>"
        )
        return
    lines.append(f"{indent}<{opening}>" + (escape(text) if text else ""))
    for child in children:
        _write(child, namespace, depth + 1, lines)
        tail = (child.tail or "").strip() and child.tail
        if tail:
            lines.append(f"{indent}  {escape(tail)}")
    lines.append(f"{indent}</{qname.localname}>")


def _own_text(element: etree._Element, has_children: bool) -> str:
    text = element.text or ""
    if has_children and not text.strip():
        return ""
    return text


def _attribute_name(name: str) -> str:
    qname = etree.QName(name)
    return f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else name
