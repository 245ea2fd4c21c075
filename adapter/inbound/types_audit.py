"""The published types of the audit trail (``urn:ponte:legal:v1``)."""

# spyne declares fields as a class-level list.

from __future__ import annotations

from spyne import Array, DateTime, Integer, Unicode

from adapter.inbound.types import Text40, Text80, _Base

Digest = Unicode(max_len=64)


class AuditEntryFilter(_Base):
    """Every field given must match: ``user`` (the actor), ``operation`` (the
    action, e.g. ``UpsertParty`` or ``deliver``), ``recordType`` and
    ``recordId``, ``outcome``; ``since`` included, ``until`` excluded."""

    _type_info = [
        ("user", Text80),
        ("operation", Text80),
        ("recordType", Text40),
        ("recordId", Text80),
        ("outcome", Unicode(max_len=20)),
        ("since", DateTime),
        ("until", DateTime),
    ]


class AuditEntry(_Base):
    """One entry of the audit trail, CPFs masked.

    ``sequence``, ``previousHash`` and ``hash`` are its place in the hash
    chain: ``hash`` is SHA-256 over the entry's fields and ``previousHash``
    (the README says how), so an auditor can check an export independently.
    ``detail`` is JSON text. ``requestSha256`` is the digest of the SOAP
    request as received, or of an outbound attempt's request, with
    ``responseSha256`` of its answer.
    """

    _type_info = [
        ("id", Integer),
        ("sequence", Integer),
        ("at", DateTime),
        ("user", Text80),
        ("channel", Unicode(max_len=20)),
        ("operation", Text80),
        ("recordType", Text40),
        ("recordId", Text80),
        ("outcome", Unicode(max_len=20)),
        ("faultCode", Unicode(max_len=60)),
        ("correlationId", Text80),
        ("clientAddress", Unicode(max_len=64)),
        ("durationMs", Integer),
        ("requestSha256", Digest),
        ("responseSha256", Digest),
        ("detail", Unicode),
        ("previousHash", Digest),
        ("hash", Digest),
    ]


class AuditEntryPage(_Base):
    _type_info = [
        ("items", Array(AuditEntry.customize(nillable=False), member_name="entry")),
        ("nextCursor", Unicode(max_len=200)),
    ]
