"""The mapping of a target: what turns a canonical event into its document.

A target's ``mapping`` setting names either

- one XSLT file, applied to every event the target receives; or
- a profile folder (``mappings/sap``), whose ``<event type>.xsl`` files are
  chosen by each event's ``ev:type`` (``default.xsl``, if present, maps the
  types without a file of their own).

``Mapping.load`` compiles everything when the worker starts, and, when the
mapping lies in a profile folder (one with ``profile.toml``), runs the
folder's samples through it and checks each output against the folder's
contract. So a broken file, a template that writes nothing, or an output
element the contract does not allow is reported at start-up with the file
and line, never in the middle of a delivery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from adapter import xmlutil
from adapter.domain.events import EVENTS_NS
from adapter.errors import MappingError
from adapter.mappings.catalog import (
    DEFAULT_MAPPING,
    ProfileFolder,
    Sample,
    folder_of,
    read_xml,
)
from adapter.mappings.stylesheet import (
    NothingToSend,
    Stylesheet,
    nothing_to_send_reason,
)
from adapter.mappings.validate import DocumentCheck

log = logging.getLogger("ponte.mappings")

# At most this many problems in one start-up error; the rest are counted.
_REPORTED = 5


@dataclass(frozen=True)
class Mapping:
    """A target's mapping: one stylesheet for all events, or one per type.

    ``apply`` is not thread-safe (lxml's XSLT objects are not); the worker
    maps one event at a time.
    """

    path: Path
    by_type: dict[str, Stylesheet] = field(default_factory=dict)
    every: Stylesheet | None = None  # a single file, or default.xsl
    folder: ProfileFolder | None = None

    @classmethod
    def load(cls, path: Path, *, check: bool = True) -> Mapping:
        """Compile the mapping at ``path`` (a file or a profile folder).

        With ``check`` (the default), a mapping inside a profile folder is
        run over the folder's samples and its outputs are checked against
        the folder's contract. Raises ``MappingError`` naming the file and
        line of the first problems.
        """
        if not path.exists():
            raise MappingError(f"{path}: no such mapping file or folder")
        folder = folder_of(path)
        mapping = cls._compile(path, folder)
        if check and folder is not None:
            mapping.check_samples()
        return mapping

    @classmethod
    def _compile(cls, path: Path, folder: ProfileFolder | None) -> Mapping:
        if path.is_file():
            return cls(path, {}, Stylesheet.load(path), folder)
        if folder is None:
            raise MappingError(
                f"{path}: a mapping folder needs a profile.toml "
                "(see mappings/README.md)"
            )
        files = folder.mapping_files()
        if not files:
            raise MappingError(f"{path}: the folder holds no .xsl mapping")
        compiled = {name: Stylesheet.load(file) for name, file in files.items()}
        every = compiled.pop(DEFAULT_MAPPING, None)
        return cls(path, compiled, every, folder)

    @property
    def event_types(self) -> frozenset[str]:
        """The types with a file of their own (empty for a single file)."""
        return frozenset(self.by_type)

    def stylesheet_for(self, event_type: str) -> Stylesheet:
        """The stylesheet a ``event_type`` event goes through.

        Raises ``MappingError`` naming the folder and what it does map.
        """
        found = self.by_type.get(event_type) or self.every
        if found is None:
            known = ", ".join(sorted(self.by_type)) or "nothing"
            raise MappingError(
                f"{self.path}: no mapping for {event_type} events (it maps {known}); "
                f"add {event_type}.xsl, or take the type out of the target's events"
            )
        return found

    def handles(self, event_type: str) -> bool:
        return event_type in self.by_type or self.every is not None

    def apply(self, event_xml: bytes) -> etree._Element:
        """Map a canonical event; the output's root element is returned.

        Raises ``NothingToSend`` (a ``MappingError``) when the mapping says
        the event has no counterpart at the target, and ``MappingError`` for
        every other failure.
        """
        event = _parse_event(event_xml)
        stylesheet = self._choose(event)
        root = stylesheet.apply(event)
        reason = nothing_to_send_reason(root)
        if reason is not None:
            raise NothingToSend(stylesheet.path, reason)
        return root

    def _choose(self, event: etree._Element) -> Stylesheet:
        if not self.by_type and self.every is not None:
            return self.every
        event_type = (event.findtext(f"{{{EVENTS_NS}}}type") or "").strip()
        return self.stylesheet_for(event_type)

    # Start-up checks

    def check_samples(self) -> None:
        """Run the folder's samples for the types this mapping handles.

        Raises ``MappingError`` listing the first problems: a mapping that
        fails or writes nothing, and output elements the contract does not
        allow. A sample whose output merely differs from the expected one is
        left to ``ponte mappings test``.
        """
        if self.folder is None:
            return
        problems = self._sample_problems(self.folder)
        if problems:
            shown = "\n  ".join(problems[:_REPORTED])
            more = len(problems) - _REPORTED
            tail = (
                f"\n  ... and {more} more (ponte mappings validate)" if more > 0 else ""
            )
            raise MappingError(
                f"{self.path}: the mapping fails on its samples:\n  {shown}{tail}"
            )
        log.debug("mapping checked path=%s", self.path)

    def _sample_problems(self, folder: ProfileFolder) -> list[str]:
        check = DocumentCheck.for_folder(folder)
        problems: list[str] = []
        for sample in folder.samples():
            stylesheet = self._sample_stylesheet(sample)
            if stylesheet is None:
                continue
            problems += _problems(sample, stylesheet, check)
        return problems

    def _sample_stylesheet(self, sample: Sample) -> Stylesheet | None:
        event_type = sample.event_type()
        if self.path.is_file():
            # A single file in a folder answers for the type it is named after.
            named = self.path.name.removesuffix(".xsl")
            return self.every if named == event_type else None
        if not self.handles(event_type):
            return None
        return self.stylesheet_for(event_type)


def _problems(
    sample: Sample, stylesheet: Stylesheet, check: DocumentCheck | None
) -> list[str]:
    try:
        output = stylesheet.apply(read_xml(sample.input))
    except MappingError as exc:
        return [f"{exc} (sample {sample.input.name})"]
    if nothing_to_send_reason(output) is not None or check is None:
        return []
    checked = check.check(output, stylesheet.document)
    return [
        f"{v.describe(stylesheet.path)} (sample {sample.input.name}, against "
        f"{check.source})"
        for v in checked.violations
    ]


def _parse_event(data: bytes) -> etree._Element:
    try:
        return xmlutil.parse(data)
    except etree.XMLSyntaxError as exc:
        raise MappingError(f"the event is not well-formed XML: {exc}") from exc
