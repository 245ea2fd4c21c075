"""The published types of time-clock punches and AFD files.

``AfdFileInput.content`` is published as ``xs:base64Binary`` but reaches Ponte as
text (``Base64Text``), so that Ponte decodes it strictly: spyne's own decoding
drops characters outside the base64 alphabet without a word, and the bytes of
an AFD must be exactly the ones the client sent. The schema validator still
checks the lexical form first; what it refuses never reaches the operation.
"""

from __future__ import annotations

from spyne import Array, Boolean, ByteArray, Date, DateTime, Integer, Unicode

from adapter.inbound.types import Text40, Text80, Text200, _Base

XSD = "http://www.w3.org/2001/XMLSchema"
Sha256 = Unicode(max_len=64)


class Base64Text(Unicode):
    """``xs:base64Binary`` on the wire, a ``str`` for the operation to decode."""

    __type_name__ = "base64Binary"
    __namespace__ = XSD


class TimePunchInput(_Base):
    """A punch from an HR system, keyed by sourceSystem + externalId.

    ``punchedAt`` carries its UTC offset. A punch is never edited: sending the
    key again with another time, employee or collector is refused.
    """

    _type_info = [
        ("sourceSystem", Text40.customize(min_occurs=1)),
        ("externalId", Text80.customize(min_occurs=1)),
        ("employeeCpf", Unicode(max_len=20).customize(min_occurs=1)),
        ("punchedAt", DateTime.customize(min_occurs=1)),
        ("collector", Text40),
    ]


class TimePunch(_Base):
    """A stored punch, from an AFD (``origin`` afd) or an HR system (api).

    When ``localTime`` is true (Portaria 1510 files), ``punchedAt`` has no
    offset: it is the wall-clock time as written, in ``localTimeZone``.
    """

    _type_info = [
        ("id", Unicode(max_len=36)),
        ("origin", Unicode(max_len=3)),
        ("sourceSystem", Text40),
        ("externalId", Text80),
        ("afdFileId", Unicode(max_len=36)),
        ("nsr", Integer),
        ("recordType", Integer),
        ("employeeCpf", Unicode(max_len=11)),
        ("employeePis", Unicode(max_len=11)),
        ("punchedAt", DateTime),
        ("localTime", Boolean),
        ("localTimeZone", Unicode(max_len=64)),
        ("recordedAt", DateTime),
        ("collector", Text40),
        ("online", Boolean),
        ("hash", Sha256),
        ("createdAt", DateTime),
    ]


class TimePunchFilter(_Base):
    """One of employeeCpf, employeePis or afdFileId is required.

    ``punchedFrom`` is inclusive, ``punchedTo`` exclusive.
    """

    _type_info = [
        ("employeeCpf", Unicode(max_len=20)),
        ("employeePis", Unicode(max_len=20)),
        ("afdFileId", Unicode(max_len=36)),
        ("punchedFrom", DateTime),
        ("punchedTo", DateTime),
        ("modifiedSince", DateTime),
    ]


class TimePunchPage(_Base):
    _type_info = [
        ("items", Array(TimePunch.customize(nillable=False), member_name="punch")),
        ("nextCursor", Unicode(max_len=200)),
    ]


class AfdFileInput(_Base):
    """An AFD (Portaria 671 or 1510) exactly as the REP wrote it.

    ``localTimeZone`` (IANA name) says where a 1510 file's times were written;
    the server's configured zone applies when it is absent.
    """

    _type_info = [
        ("fileName", Text200.customize(min_occurs=1)),
        ("employerTaxId", Unicode(max_len=20).customize(min_occurs=1)),
        ("content", Base64Text.customize(min_occurs=1)),
        ("localTimeZone", Unicode(max_len=64)),
    ]


class AfdLine(_Base):
    """A refused line or a warning: where it is and why."""

    _type_info = [
        ("lineNumber", Integer),
        ("nsr", Integer),
        ("reason", Unicode(max_len=500)),
    ]


class AfdFile(_Base):
    """An imported AFD and its report; ``content`` only when asked for."""

    _type_info = [
        ("id", Unicode(max_len=36)),
        ("fileName", Text200),
        ("employerTaxId", Unicode(max_len=14)),
        ("layout", Unicode(max_len=4)),
        ("layoutVersion", Unicode(max_len=3)),
        ("repId", Unicode(max_len=17)),
        ("periodStart", Date),
        ("periodEnd", Date),
        ("localTimeZone", Unicode(max_len=64)),
        ("sha256", Sha256),
        ("size", Integer),
        ("lineCount", Integer),
        ("importedAt", DateTime),
        ("importedBy", Text80),
        ("acceptedCount", Integer),
        ("refusedCount", Integer),
        (
            "refusedLines",
            Array(AfdLine.customize(nillable=False), member_name="line"),
        ),
        ("warnings", Array(AfdLine.customize(nillable=False), member_name="warning")),
        ("content", ByteArray),
    ]


class ImportAfdFileResult(_Base):
    _type_info = [
        ("afdFile", AfdFile),
        ("outcome", Unicode(max_len=20)),
    ]
