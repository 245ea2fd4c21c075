"""The exception tree of Ponte.

Every error raised on purpose by Ponte derives from ``PonteError``::

    PonteError
    ├── ConfigurationError         settings or target definitions are wrong
    ├── ValidationError            input breaks a business rule (field + rule)
    │   └── NotFoundError          a referenced record does not exist
    ├── ConflictError              the request contradicts stored state
    ├── AuthenticationError        credentials missing, wrong, replayed or stale
    ├── AuthorizationError         authenticated, but the role may not do this
    ├── SignatureError             an XML signature is missing or does not verify
    ├── MappingError               a mapping cannot be loaded or applied
    ├── ContractError              a partner WSDL or schema cannot be loaded
    └── RemoteError                a call to a partner system failed
        ├── TransportError         the network failed (refused, reset, timeout)
        ├── HttpStatusError        the partner answered a non-SOAP HTTP error
        └── RemoteFault            the partner answered with a SOAP fault

Errors from spyne, zeep, lxml, signxml and SQLAlchemy are translated into this
tree at one seam per library and chained with ``raise ... from``.

Each error has a stable ``code`` that is what SOAP clients see as the fault
code; the message is one sentence naming the field and the rule.
"""

from __future__ import annotations


class PonteError(Exception):
    """Base of every error Ponte raises on purpose."""

    code = "Server.Error"


class ConfigurationError(PonteError):
    code = "Server.Configuration"


class ValidationError(PonteError):
    """Input that breaks a rule; ``field`` names the offending element."""

    code = "Client.Validation"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = message


class NotFoundError(ValidationError):
    code = "Client.NotFound"

    def __init__(self, field: str, record: str, key: str) -> None:
        super().__init__(field, f"no {record} with {key} exists")
        self.record = record
        self.key = key


class ConflictError(PonteError):
    code = "Client.Conflict"


class AuthenticationError(PonteError):
    code = "Client.Authentication"


class AuthorizationError(PonteError):
    code = "Client.Authorization"


class SignatureError(PonteError):
    code = "Client.Signature"


class MappingError(PonteError):
    code = "Server.Mapping"


class ContractError(PonteError):
    code = "Server.Contract"


class RemoteError(PonteError):
    """A call to a partner system failed."""

    code = "Server.Remote"
    # What was sent and the partner's answer, secrets redacted, when known.
    request_text: str | None = None
    response_text: str | None = None


class TransportError(RemoteError):
    """The network failed; ``sent`` says whether the request left us whole."""

    def __init__(self, message: str, *, sent: bool = False) -> None:
        super().__init__(message)
        self.sent = sent


class HttpStatusError(RemoteError):
    """The partner answered with an HTTP error status and no SOAP fault."""

    def __init__(
        self, status: int, operation: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{operation}: HTTP {status}")
        self.status = status
        self.operation = operation
        # Seconds the partner asked us to wait (its Retry-After), if it did.
        self.retry_after = retry_after


class RemoteFault(RemoteError):
    """The partner answered with a SOAP fault."""

    def __init__(self, faultcode: str, faultstring: str, operation: str) -> None:
        super().__init__(f"{operation}: fault {faultcode}: {faultstring}")
        self.faultcode = faultcode
        self.faultstring = faultstring
        self.operation = operation

    @property
    def is_client_fault(self) -> bool:
        """True for SOAP 1.1 ``Client`` and SOAP 1.2 ``Sender`` faults."""
        local = self.faultcode.rsplit(":", 1)[-1]
        return local.split(".", 1)[0] in {"Client", "Sender"}
