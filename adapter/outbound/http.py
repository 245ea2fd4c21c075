"""The one seam between Ponte and plain-HTTP receivers (``kind = "http"`` targets).

``HttpCaller.call`` POSTs the event (the canonical XML, or its JSON form from
``event_json``) with the Standard Webhooks headers, signed by
``adapter.signing.webhooks``, plus ``X-Ponte-Event-Type``. Redirects are not
followed: like any answer other than 2xx, a 3xx fails the attempt. Failures
come out as ``TransportError`` or ``HttpStatusError``, carrying the first
64 KiB of the answer in ``response_text``; nothing from requests escapes.

Secrets, keys and the Basic password are read once per target, by ``prepare``
(or the first call), and never reach a log line or an attempt's record.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.adapters
import urllib3.exceptions

from adapter import __version__
from adapter.config import Settings, TargetSettings
from adapter.errors import (
    ConfigurationError,
    HttpStatusError,
    RemoteError,
    TransportError,
)
from adapter.outbound.caller import CallResult
from adapter.outbound.event_json import EventJson
from adapter.outbound.retry_after import parse_retry_after
from adapter.signing.webhooks import (
    WebhookKeys,
    load_ed25519_private_key,
    parse_secrets,
)

log = logging.getLogger("ponte.outbound.http")

# What an attempt keeps of an answer (webhooks.md §10: at least 64 KiB).
RESPONSE_LIMIT = 64 * 1024
# Connecting takes at most this long, whatever the target's timeout.
CONNECT_TIMEOUT_SECONDS = 5.0
_RESULT_CHARS = 200
_REDACTED = "***"
_CONTENT_TYPES = {"xml": "application/xml", "json": "application/json"}


@dataclass(frozen=True)
class _Answer:
    status: int
    text: str
    # Seconds the receiver asked us to wait (Retry-After), if it did.
    retry_after: float | None


@dataclass
class _Receiver:
    """What one target needs for every call, built once."""

    session: requests.Session
    keys: WebhookKeys
    to_json: EventJson | None


class HttpCaller:
    """Calls http targets; each keeps one Session (pooled connections) and its keys."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._receivers: dict[str, _Receiver] = {}
        self._lock = threading.Lock()

    def prepare(self, target: TargetSettings) -> None:
        """Load the target's secrets and keys now, so mistakes show at start-up.

        Raises ``ConfigurationError`` naming the target and the field.
        """
        self._receiver(target)

    def call(
        self, target: TargetSettings, body: bytes, *, message_id: str, event_type: str
    ) -> CallResult:
        """POST one event; ``message_id`` becomes ``webhook-id``.

        ``request_text`` in the result is the request line, the headers (the
        signature and Authorization values redacted) and the body as sent.
        Raises ``TransportError`` (``sent`` says whether the request left
        whole) or ``HttpStatusError`` for any answer but 2xx, each carrying
        ``request_text`` and ``response_text``; ``MappingError`` when a json
        target's event has no JSON form.
        """
        receiver = self._receiver(target)
        payload = receiver.to_json.convert(body) if receiver.to_json else body
        headers = _webhook_headers(receiver, target, payload, message_id, event_type)
        sent = _request_record(
            target, headers, payload, basic=bool(receiver.session.auth)
        )

        started = time.perf_counter()
        try:
            answer = _post(receiver, target, headers, payload)
        except RemoteError as exc:
            _log_call(target, message_id, event_type, None, _ms(started), exc)
            exc.request_text = sent
            raise
        ms = _ms(started)
        _log_call(target, message_id, event_type, answer.status, ms, None)

        if not 200 <= answer.status < 300:
            failure = HttpStatusError(
                answer.status, "POST", retry_after=answer.retry_after
            )
            failure.response_text = answer.text
            failure.request_text = sent
            raise failure
        result = answer.text.strip()[:_RESULT_CHARS] or None
        return CallResult(result, answer.status, ms, sent, answer.text)

    def close(self) -> None:
        """Close every target's pooled connections."""
        with self._lock:
            for receiver in self._receivers.values():
                receiver.session.close()
            self._receivers.clear()

    def _receiver(self, target: TargetSettings) -> _Receiver:
        with self._lock:
            found = self._receivers.get(target.name)
            if found is None:
                found = _load_receiver(target)
                self._receivers[target.name] = found
            return found


# Loading a target


def _load_receiver(target: TargetSettings) -> _Receiver:
    if target.kind != "http":
        raise ConfigurationError(f"target {target.name} is not an http target")
    url = urlsplit(target.url or "")
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise ConfigurationError(
            f"target {target.name}: url must be an http:// or https:// URL"
        )
    keys = _load_keys(target)
    to_json = _load_converter(target) if target.body_format == "json" else None
    return _Receiver(_session(target), keys, to_json)


def _load_keys(target: TargetSettings) -> WebhookKeys:
    secrets = _load_secrets(target) if target.webhook_secret_env else ()
    private_key = None
    if target.webhook_ed25519_key is not None:
        try:
            private_key = load_ed25519_private_key(target.webhook_ed25519_key)
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"target {target.name}: webhook_ed25519_key: {exc}"
            ) from exc
    if not secrets and private_key is None:
        raise ConfigurationError(
            f"target {target.name}: an http target needs webhook_secret_env or "
            "webhook_ed25519_key, to sign its webhooks"
        )
    return WebhookKeys(secrets, private_key)


def _load_secrets(target: TargetSettings) -> tuple[bytes, ...]:
    variable = target.webhook_secret_env or ""
    where = f"target {target.name}: webhook_secret_env"
    text = os.environ.get(variable)
    if text is None:
        raise ConfigurationError(f"{where}: environment variable {variable} is not set")
    try:
        return parse_secrets(text)
    except ValueError as exc:
        # The message names the position and the rule, never the secret.
        raise ConfigurationError(f"{where}: {variable}: {exc}") from None


def _load_converter(target: TargetSettings) -> EventJson:
    try:
        return EventJson()
    except ConfigurationError as exc:
        raise ConfigurationError(f"target {target.name}: body_format: {exc}") from exc


def _session(target: TargetSettings) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = f"Ponte/{__version__}"
    # Ponte's retry schedule decides about retries; urllib3 must not retry.
    pool = requests.adapters.HTTPAdapter(
        pool_connections=1, pool_maxsize=target.max_in_flight, max_retries=0
    )
    session.mount("http://", pool)
    session.mount("https://", pool)
    if target.auth.basic_user:
        try:
            password = target.auth.basic_password() or ""
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"target {target.name}: auth.basic_password_env: {exc}"
            ) from exc
        session.auth = (target.auth.basic_user, password)
    return session


# Calling


def _webhook_headers(
    receiver: _Receiver,
    target: TargetSettings,
    payload: bytes,
    message_id: str,
    event_type: str,
) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "Content-Type": _CONTENT_TYPES[target.body_format],
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": receiver.keys.sign(message_id, timestamp, payload),
        "X-Ponte-Event-Type": event_type,
    }


def _post(
    receiver: _Receiver,
    target: TargetSettings,
    headers: dict[str, str],
    payload: bytes,
) -> _Answer:
    """Send, then read at most RESPONSE_LIMIT of the answer."""
    timeout = (
        min(CONNECT_TIMEOUT_SECONDS, target.timeout_seconds),
        target.timeout_seconds,
    )
    try:
        response = receiver.session.post(
            target.url or "",
            data=payload,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
    except requests.exceptions.RequestException as exc:
        raise _transport_error(target, exc) from exc

    with response:
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"), dt.datetime.now(dt.UTC)
        )
        try:
            text = _read_limited(response)
        except requests.exceptions.RequestException as exc:
            raise TransportError(
                f"{target.name}: HTTP {response.status_code}, then the answer "
                f"failed or timed out: {_short(_cause(exc))}",
                sent=True,
            ) from exc
    return _Answer(response.status_code, text, retry_after)


def _read_limited(response: requests.Response) -> str:
    """The first RESPONSE_LIMIT bytes of the body, decoded leniently.

    The charset is the one the answer declares, else UTF-8 (requests would
    guess ISO-8859-1 for any text/* answer without one).
    """
    data = bytearray()
    for chunk in response.iter_content(chunk_size=16 * 1024):
        data += chunk
        if len(data) >= RESPONSE_LIMIT:
            break
    declared = "charset=" in response.headers.get("Content-Type", "").lower()
    encoding = (response.encoding if declared else None) or "utf-8"
    try:
        return bytes(data[:RESPONSE_LIMIT]).decode(encoding, errors="replace")
    except LookupError:
        return bytes(data[:RESPONSE_LIMIT]).decode("utf-8", errors="replace")


def _transport_error(target: TargetSettings, exc: Exception) -> TransportError:
    """Translate requests' errors; ``sent`` is False only when nothing left."""
    name, cause = target.name, _cause(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TransportError(f"{name}: connect timed out", sent=False)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return TransportError(f"{name}: timed out waiting for the answer", sent=True)
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportError(f"{name}: TLS failed: {_short(cause)}", sent=False)
    if isinstance(cause, urllib3.exceptions.NewConnectionError):
        # Refused, unreachable or unresolvable: no byte of the request left.
        return TransportError(f"{name}: connection failed: {_short(cause)}", sent=False)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return TransportError(f"{name}: connection broken: {_short(cause)}", sent=True)
    return TransportError(f"{name}: {_short(cause)}", sent=False)


def _cause(exc: BaseException) -> BaseException:
    """urllib3's own error inside requests' one; its text carries no URL (and so
    no token a query string may hold)."""
    inner = exc.args[0] if exc.args else None
    reason = getattr(inner, "reason", None)
    if isinstance(reason, BaseException):
        return reason
    return inner if isinstance(inner, BaseException) else exc


# Recording and logging


def _request_record(
    target: TargetSettings, headers: dict[str, str], payload: bytes, *, basic: bool
) -> str:
    """The request as an attempt keeps it: no signature, no credentials."""
    lines = [f"POST {_safe_url(target.url or '')}"]
    for name, value in headers.items():
        redact = name.lower() == "webhook-signature"
        lines.append(f"{name}: {_REDACTED if redact else value}")
    if basic:
        lines.append(f"Authorization: Basic {_REDACTED}")
    return "\n".join(lines) + "\n\n" + payload.decode("utf-8", errors="replace")


def _safe_url(url: str) -> str:
    """The URL without user info, and with its query (often a token) redacted."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = _REDACTED if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _log_call(
    target: TargetSettings,
    message_id: str,
    event_type: str,
    status: int | None,
    ms: int,
    error: RemoteError | None,
) -> None:
    outcome = f" error={type(error).__name__}" if error is not None else ""
    log.info(
        "POST target=%s message_id=%s event=%s status=%s ms=%d%s",
        target.name,
        message_id,
        event_type,
        status if status is not None else "-",
        ms,
        outcome,
    )


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
