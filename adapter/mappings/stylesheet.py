"""One XSLT 1.0 file, compiled by lxml, with errors that name the file and line.

A stylesheet runs with every extension access denied (no document(), no
writing files, no network). Its output is one element, the mapped document;
a stylesheet may instead answer "nothing to send" for an event that has no
counterpart at the target::

    <pm:nothing-to-send xmlns:pm="urn:ponte:mappings:v1"
                        reason="the change has no ledger movement"/>

``Stylesheet.apply`` returns that element like any other; ``Mapping.apply``
(``adapter.mappings.xslt``) turns it into ``NothingToSend``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from adapter import xmlutil
from adapter.errors import MappingError

XSL_NS = "http://www.w3.org/1999/XSL/Transform"
MAPPINGS_NS = "urn:ponte:mappings:v1"
NOTHING_TO_SEND = f"{{{MAPPINGS_NS}}}nothing-to-send"

# XSLT 1.0 §D: libxslt ignores an unknown xsl: element (a typo such as
# xsl:valueof) silently, so the check is ours.
XSLT_ELEMENTS = frozenset(
    {
        "apply-imports", "apply-templates", "attribute", "attribute-set",
        "call-template", "choose", "comment", "copy", "copy-of",
        "decimal-format", "element", "fallback", "for-each", "if", "import",
        "include", "key", "message", "namespace-alias", "number", "otherwise",
        "output", "param", "preserve-space", "processing-instruction", "sort",
        "strip-space", "stylesheet", "template", "text", "transform",
        "value-of", "variable", "when", "with-param",
    }
)  # fmt: skip


class NothingToSend(MappingError):
    """The event has nothing to send to this target (the mapping said so)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: nothing to send for this event: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Stylesheet:
    """A compiled mapping file; ``apply`` is not thread-safe (lxml's XSLT)."""

    path: Path
    transform: etree.XSLT
    # The parsed source: its lines name what wrote an output element.
    document: etree._ElementTree

    @classmethod
    def load(cls, path: Path) -> Stylesheet:
        """Compile ``path``; raise ``MappingError`` naming the file and line."""
        try:
            document = etree.parse(str(path), xmlutil.safe_parser())
        except OSError as exc:
            raise MappingError(f"{path}: cannot read the mapping: {exc}") from exc
        except etree.XMLSyntaxError as exc:
            raise MappingError(f"{path}:{exc.lineno}: {exc.msg}") from exc
        _check_instructions(path, document)
        access = etree.XSLTAccessControl.DENY_ALL
        try:
            transform = etree.XSLT(document, access_control=access)
        except etree.XSLTParseError as exc:
            raise MappingError(_located(path, exc.error_log, str(exc))) from exc
        return cls(path, transform, document)

    def apply(self, event: etree._Element | bytes) -> etree._Element:
        """Map a canonical event (parsed, or bytes); return the output's root.

        Raises ``MappingError`` naming the file (and the line when libxslt
        gives one) when the stylesheet fails, stops with ``xsl:message
        terminate="yes"`` or writes no element.
        """
        source = _parsed(event) if isinstance(event, bytes) else event
        try:
            result = self.transform(source)
        except etree.XSLTApplyError as exc:
            raise MappingError(
                _located(self.path, self.transform.error_log, str(exc))
            ) from exc
        root = result.getroot()
        if root is None:
            raise MappingError(
                _located(
                    self.path,
                    self.transform.error_log,
                    "the mapping wrote no element for this event (is there a "
                    "template for its root, /ev:event?)",
                    always=True,
                )
            )
        return root


def nothing_to_send_reason(root: etree._Element) -> str | None:
    """The reason when ``root`` is the "nothing to send" answer, else None."""
    if root.tag != NOTHING_TO_SEND:
        return None
    return root.get("reason") or "(no reason given)"


def _check_instructions(path: Path, document: etree._ElementTree) -> None:
    for element in document.iter(f"{{{XSL_NS}}}*"):
        name = etree.QName(element).localname
        if name not in XSLT_ELEMENTS:
            raise MappingError(
                f"{path}:{element.sourceline}: xsl:{name} is not an XSLT 1.0 element"
            )


def _parsed(data: bytes) -> etree._Element:
    try:
        return xmlutil.parse(data)
    except etree.XMLSyntaxError as exc:
        raise MappingError(f"the event is not well-formed XML: {exc}") from exc


def _located(
    path: Path, log: etree._ListErrorLog, fallback: str, *, always: bool = False
) -> str:
    """``path:line: message`` from libxslt's log, the way compilers say it.

    libxslt spreads one error over several entries: the line sits on the
    entry naming the instruction, the cause on entries without a line. The
    first line found is the error's; the messages are joined in order.
    ``always`` puts ``fallback`` first even when the log has entries.
    """
    line = next((e.line for e in log if e.line), 0)
    messages: list[str] = [fallback] if always or not len(log) else []
    for entry in log:
        message = entry.message.strip()
        if message and message != "unknown error" and message not in messages:
            messages.append(message)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {'; '.join(messages or [fallback or 'XSLT error'])}"
