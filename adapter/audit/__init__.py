"""Audit: who did what, when, through which channel, and how it ended.

- ``writer``: entries appended in the caller's transaction, chained by hash;
- ``chain``: how an entry is hashed, and the walk that checks a chain;
- ``verify``: the walk over the stored chain (``ponte audit verify``);
- ``query``: filters, keyset pages and masked views (``QueryAuditEntries``,
  ``ponte audit list|show|export``);
- ``archive``: outbound attempt bodies kept apart from the chain;
- ``changes``: a record's changed fields, before and after;
- ``settings``: the ``[audit]`` settings.
"""
