"""Settings: one frozen object, read from ``ponte.toml`` and ``PONTE_*`` variables.

Where the file is: ``--config`` on the command line, else ``$PONTE_CONFIG``,
else ``./ponte.toml`` when it exists, else built-in defaults (SQLite under
``./data``). Environment variables override the file, with ``__`` between
levels: ``PONTE_SERVER__PORT=9090``, ``PONTE_DATABASE__URL=postgresql+psycopg://...``.

Relative paths in the file are taken relative to the file's folder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from adapter.audit.settings import AuditSettings
from adapter.domain.events import EVENT_TYPES
from adapter.errors import ConfigurationError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServerSettings(_Frozen):
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8080, description="TCP port to listen on.")
    public_url: str | None = Field(
        None,
        description="URL written into the WSDL's soap:address; defaults to "
        "http://HOST:PORT/soap/v1. Set it to the https URL behind a proxy.",
    )
    workers: int = Field(2, ge=1, description="gunicorn worker processes.")
    max_body_bytes: int = Field(20 * 1024 * 1024, description="Largest request.")
    tls_cert: Path | None = Field(
        None, description="PEM certificate: Ponte terminates TLS itself when set."
    )
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert.")
    tls_client_ca: Path | None = Field(
        None,
        description="PEM CA bundle for client certificates; a client that shows "
        "one signed by it, bound to a user (users bind-cert), is that user.",
    )

    @property
    def soap_url(self) -> str:
        scheme = "https" if self.tls_cert else "http"
        return self.public_url or f"{scheme}://{self.host}:{self.port}/soap/v1"


class DatabaseSettings(_Frozen):
    url: str | None = Field(
        None,
        description="SQLAlchemy URL; defaults to SQLite in WAL mode at "
        "DATA_DIR/ponte.db.",
    )


class SecuritySettings(_Frozen):
    secret_key: str | None = Field(
        None,
        description="Fernet key that encrypts what PasswordDigest needs. "
        "Defaults to DATA_DIR/secret.key, created on first start (mode 0600). "
        "Losing it makes every stored password unusable for digest auth.",
    )
    timestamp_window_seconds: int = Field(
        300, description="How far a WS-Security Created may be from now."
    )


class SigningKeySettings(_Frozen):
    id: str = Field(description="Key id, written into each signature's KeyName.")
    key: Path = Field(description="PEM private key (RSA).")
    cert: Path = Field(description="PEM X.509 certificate of that key.")


class TargetAuth(_Frozen):
    """How Ponte proves itself to a target, besides its signature."""

    basic_user: str | None = None
    basic_password_env: str | None = Field(
        None, description="Name of the environment variable holding the password."
    )
    username_token_user: str | None = Field(
        None, description="soap: a WS-Security UsernameToken with this user name."
    )
    username_token_password_env: str | None = Field(
        None, description="Environment variable holding the UsernameToken password."
    )
    username_token_digest: bool = Field(
        True, description="PasswordDigest with Nonce and Created; false: PasswordText."
    )
    client_cert: Path | None = Field(
        None, description="PEM client certificate for TLS to the target."
    )
    client_key: Path | None = Field(None, description="PEM private key of client_cert.")

    def basic_password(self) -> str | None:
        return _secret_from(self.basic_password_env)

    def username_token_password(self) -> str | None:
        return _secret_from(self.username_token_password_env)


def _secret_from(variable: str | None) -> str | None:
    if not variable:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise ConfigurationError(f"environment variable {variable} is not set")
    return value


class TargetSettings(_Frozen):
    """Where events go: an ERP's SOAP endpoint or a plain HTTP receiver."""

    name: str
    kind: Literal["soap", "http"] = Field(
        "soap",
        description="soap: an operation of the target's WSDL; http: a POST with "
        "Standard Webhooks headers.",
    )
    profile: Literal[
        "totvs-rm-dataserver",
        "sap-acc-document",
        "protheus-payables",
        "access-control",
        "generic",
    ] = "totvs-rm-dataserver"
    wsdl: str | None = Field(None, description="Path or URL of the target's WSDL.")
    schema_bundle: Path | None = Field(
        None, description="Folder of local schemas that resolve the WSDL's imports."
    )
    endpoint: str | None = Field(
        None, description="Overrides the WSDL's soap:address when set."
    )
    port: str | None = Field(None, description="WSDL port name, e.g. RM_IwsDataServer.")
    operation: str = "SaveRecord"
    mapping: Path | None = Field(
        None,
        description="XSLT that maps the canonical event; an http target without "
        "one receives the canonical event itself.",
    )
    url: str | None = Field(None, description="http targets: the receiver's URL.")
    body_format: Literal["xml", "json"] = Field(
        "xml", description="http targets: the canonical XML event, or it as JSON."
    )
    webhook_secret_env: str | None = Field(
        None,
        description="http targets: environment variable holding the Standard "
        "Webhooks HMAC secret (whsec_...).",
    )
    webhook_ed25519_key: Path | None = Field(
        None,
        description="http targets: PEM ed25519 private key for asymmetric "
        "Standard Webhooks signatures (v1a).",
    )
    events: tuple[str, ...] = ("payment_order.approved",)
    params: dict[str, str] = Field(
        default_factory=dict,
        description="Fixed call parameters, e.g. DataServerName and Contexto.",
    )
    auth: TargetAuth = TargetAuth()
    signing_key: str | None = Field(
        None, description="Signing name: a [[signing_keys]] id or a keyring name."
    )
    sign_document: bool = Field(
        False,
        description="Also sign the mapped document itself (enveloped XML-DSig), "
        "for finance systems that keep the signed payment order.",
    )
    timeout_seconds: float = Field(30.0, gt=0)
    max_in_flight: int = Field(4, ge=1, description="Calls in flight at once.")
    rate_limit_per_second: float | None = Field(
        None, gt=0, description="Most calls started per second; unlimited if unset."
    )
    ordered: bool | None = Field(
        None,
        description="Events with the same business key arrive in order (a later "
        "one waits for the earlier to be delivered or parked). Unset: on for "
        "payment orders, contracts, person flags and provisions, off otherwise.",
    )
    disable_after_hours: float = Field(
        72.0, gt=0, description="Failing continuously this long disables the target."
    )

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - EVENT_TYPES)
        if unknown:
            known = ", ".join(sorted(EVENT_TYPES))
            raise ValueError(f"unknown event type {', '.join(unknown)}; known: {known}")
        return value

    @model_validator(mode="after")
    def _kind_needs(self) -> TargetSettings:
        if self.kind == "soap":
            missing = [n for n in ("wsdl", "mapping") if getattr(self, n) is None]
            if missing:
                raise ValueError(f"a soap target needs {' and '.join(missing)}")
        elif self.url is None:
            raise ValueError("an http target needs url")
        return self


class DeliverySettings(_Frozen):
    poll_seconds: float = Field(2.0, description="How often the worker looks for work.")
    schedule_seconds: tuple[float, ...] = Field(
        (5, 60, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400),
        description="Delay before each retry; after the last the delivery parks.",
    )
    jitter: float = Field(0.2, ge=0, lt=1, description="± fraction of each delay.")


class Settings(BaseSettings):
    """Everything Ponte reads from outside, frozen after start-up."""

    model_config = SettingsConfigDict(
        env_prefix="PONTE_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    data_dir: Path = Field(Path("data"), description="SQLite file, keys, secret.")
    log_level: str = "INFO"
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    security: SecuritySettings = SecuritySettings()
    delivery: DeliverySettings = DeliverySettings()
    audit: AuditSettings = AuditSettings()
    signing_keys: tuple[SigningKeySettings, ...] = ()
    targets: tuple[TargetSettings, ...] = ()

    @field_validator("targets")
    @classmethod
    def _unique_targets(
        cls, value: tuple[TargetSettings, ...]
    ) -> tuple[TargetSettings, ...]:
        names = [t.name for t in value]
        if len(names) != len(set(names)):
            raise ValueError("target names must be unique")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'ponte.db'}"

    def target(self, name: str) -> TargetSettings:
        for target in self.targets:
            if target.name == name:
                return target
        raise ConfigurationError(f"no target named {name!r} is configured")

    def signing_key(self, key_id: str) -> SigningKeySettings:
        for key in self.signing_keys:
            if key.id == key_id:
                return key
        raise ConfigurationError(f"no signing key with id {key_id!r} is configured")

    def fernet_key(self) -> bytes:
        """The secret key, creating DATA_DIR/secret.key on first use."""
        if self.security.secret_key:
            return self.security.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            from cryptography.fernet import Fernet

            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        return path.read_bytes().strip()


_CONFIG_OVERRIDE: Path | None = None


def _config_path() -> Path | None:
    if _CONFIG_OVERRIDE is not None:
        return _CONFIG_OVERRIDE
    env = os.environ.get("PONTE_CONFIG")
    if env:
        return Path(env)
    default = Path("ponte.toml")
    return default if default.exists() else None


def _where(loc: tuple[Any, ...]) -> str:
    """``targets[2].mapping`` rather than pydantic's ``targets.2.mapping``."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int) and parts:
            parts[-1] += f"[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts) or "(file)"


def _say(error: Any) -> str:
    kind, message = error.get("type", ""), str(error.get("msg", ""))
    if kind == "extra_forbidden":
        return "unknown setting (see the configuration reference in the README)"
    if kind in {"tuple_type", "list_type"}:
        return 'must be an array, e.g. ["a", "b"]'
    return message.removeprefix("Value error, ")


def _resolve(base: Path, value: Path) -> Path:
    return value if value.is_absolute() else (base / value).resolve()


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings; relative paths in a file are relative to that file.

    Raises ``ConfigurationError`` naming the file and the offending field.
    """
    global _CONFIG_OVERRIDE
    _CONFIG_OVERRIDE = path
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        source = _config_path() or "defaults"
        problems = "\n".join(f"  {_where(e['loc'])}: {_say(e)}" for e in exc.errors())
        raise ConfigurationError(
            f"invalid configuration in {source}:\n{problems}"
        ) from exc
    except ValueError as exc:
        source = _config_path() or "defaults"
        raise ConfigurationError(f"invalid configuration in {source}: {exc}") from exc
    finally:
        _CONFIG_OVERRIDE = None
    source_path = path or _config_path()
    base = source_path.parent.resolve() if source_path else Path.cwd()
    return _with_paths_resolved(settings, base)


def _with_paths_resolved(settings: Settings, base: Path) -> Settings:
    keys = tuple(
        k.model_copy(
            update={"key": _resolve(base, k.key), "cert": _resolve(base, k.cert)}
        )
        for k in settings.signing_keys
    )
    targets = []
    for t in settings.targets:
        update: dict[str, Any] = {
            name: _resolve(base, getattr(t, name))
            for name in ("mapping", "schema_bundle", "webhook_ed25519_key")
            if getattr(t, name) is not None
        }
        auth = {
            name: _resolve(base, getattr(t.auth, name))
            for name in ("client_cert", "client_key")
            if getattr(t.auth, name) is not None
        }
        if auth:
            update["auth"] = t.auth.model_copy(update=auth)
        if t.wsdl is not None and "://" not in t.wsdl:
            update["wsdl"] = str(_resolve(base, Path(t.wsdl)))
        targets.append(t.model_copy(update=update))
    server = settings.server.model_copy(
        update={
            name: _resolve(base, getattr(settings.server, name))
            for name in ("tls_cert", "tls_key", "tls_client_ca")
            if getattr(settings.server, name) is not None
        }
    )
    audit = settings.audit
    if audit.subject_key_file is not None:
        audit = audit.model_copy(
            update={"subject_key_file": _resolve(base, audit.subject_key_file)}
        )
    return settings.model_copy(
        update={
            "audit": audit,
            "server": server,
            "data_dir": _resolve(base, settings.data_dir),
            "signing_keys": keys,
            "targets": tuple(targets),
        }
    )


def new_secret() -> str:
    """A random token, for nonces and ids."""
    return secrets.token_urlsafe(24)
