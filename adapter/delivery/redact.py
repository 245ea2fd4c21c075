"""What an attempt keeps of a request or an answer: no secrets, at most 64 KiB.

Texts are treated as text, not parsed: they may be cut, not XML at all, or
an HTML error page. Removed are Authorization headers, password fields
(``wsse:Password``, ``<Password>``, ``<Senha>``, ``password=...``) and the
contents of ``wsse:BinarySecurityToken``. Documents such as a CPF stay: they
are what was sent, and the attempt is the record of it.
"""

from __future__ import annotations

import re

LIMIT_BYTES = 64 * 1024
REDACTED = "***"

_HEADER = re.compile(
    r"^(?P<name>(?:Proxy-)?Authorization|Cookie|Set-Cookie|X-Api-Key)"
    r"(?P<sep>\s*:\s*).*$",
    re.IGNORECASE | re.MULTILINE,
)
_ELEMENT = re.compile(
    r"(?P<open><(?P<tag>(?:[\w.-]+:)?(?:Password|Passwd|Senha|"
    r"BinarySecurityToken|PrivateKey|ClientSecret))(?:\s[^>]*)?>)"
    r"(?P<body>.*?)"
    r"(?P<close></(?P=tag)\s*>)",
    re.IGNORECASE | re.DOTALL,
)
_PAIR = re.compile(
    r"(?P<key>\b(?:password|passwd|senha|pwd|secret|token)\b[\"']?\s*[=:]\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s&;,<]+)",
    re.IGNORECASE,
)


_OPEN = re.compile(
    r"<(?:[\w.-]+:)?(?:Password|Passwd|Senha|BinarySecurityToken|PrivateKey|"
    r"ClientSecret)(?:\s[^>]*)?>",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with every secret it visibly carries replaced by ``***``."""
    text = _HEADER.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)
    text = _ELEMENT.sub(lambda m: f"{m['open']}{REDACTED}{m['close']}", text)
    text = _unclosed(text)
    return _PAIR.sub(lambda m: f"{m['key']}{REDACTED}", text)


def _unclosed(text: str) -> str:
    """A secret element cut off before its end tag loses the rest of the text."""
    for found in _OPEN.finditer(text):
        if not text.startswith(REDACTED, found.end()):
            return text[: found.end()] + REDACTED
    return text


def for_record(text: str | None, limit: int = LIMIT_BYTES) -> str | None:
    """Redacted, then cut to ``limit`` bytes of UTF-8 with a note of the cut."""
    if text is None:
        return None
    clean = redact(text)
    data = clean.encode("utf-8")
    if len(data) <= limit:
        return clean
    note = f"\n[cut: {len(data)} bytes in all, the first {limit} kept]"
    keep = limit - len(note.encode("utf-8"))
    return data[:keep].decode("utf-8", errors="ignore") + note
