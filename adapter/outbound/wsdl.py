"""Load partner WSDLs: the one place where zeep reads a contract.

WCF hosts such as TOTVS RM publish a WSDL whose types are only
``xsd:import`` statements pointing at ``.../mex?xsd=xsd0`` .. ``xsdN``.
``load_wsdl`` serves those imports from a local bundle folder
(``<bundle>/xsd0.xsd`` ..) and refuses every other remote schema, so loading
a contract never reaches the network beyond the WSDL location the caller
named. Local files are read as usual.

Every failure is raised as ``ContractError`` naming the schema URL or the
parse problem, chained to the original error.

Security: DTDs and entities are refused. ``xml_huge_tree`` is on because ERP
answers carry large base64 documents; the DTD and entity bans are what keep
that safe.
"""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests
import zeep
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.transports import Transport
from zeep.wsdl.definitions import Port

from adapter import xmlutil
from adapter.errors import ContractError

logger = logging.getLogger(__name__)

_REMOTE_SCHEMES = frozenset({"http", "https"})
# A bundle name becomes a file name: keep "xsd=../../etc/passwd" out.
_BUNDLE_NAME = re.compile(r"[a-z0-9_-]{1,64}")

# zeep's own errors, lxml's, file and HTTP errors (requests' are OSErrors),
# the LookupError/ValueError zeep raises for dangling references, and the
# warnings _build_client turns into errors.
_LOAD_ERRORS = (
    ZeepError,
    etree.LxmlError,
    OSError,
    LookupError,
    ValueError,
    UserWarning,
)


def bundle_name(url: str) -> str | None:
    """Return ``xsd0`` for ``https://host/svc/mex?xsd=xsd0``, else None.

    The query key and value are matched case-insensitively (WCF answers
    ``MEX?XSD=XSD0`` too). Only http and https URLs have a bundle name.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in _REMOTE_SCHEMES:
        return None
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() == "xsd":
            return value.lower()
    return None


def is_remote(url: str) -> bool:
    """True for http and https URLs."""
    return urlsplit(url).scheme.lower() in _REMOTE_SCHEMES


class BundleTransport(Transport):
    """A zeep transport that serves ``?xsd=<name>`` schemas from a folder.

    ``entry`` is the WSDL location the caller asked for; it is the only remote
    URL fetched over the network. Any other remote URL is refused with
    ``ContractError``. SOAP calls (``post``) are not affected.
    """

    def __init__(
        self,
        entry: str,
        bundle: Path | None,
        *,
        timeout: float,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(
            cache=None, timeout=timeout, operation_timeout=timeout, session=session
        )
        self.entry = entry
        self.bundle = bundle

    def load(self, url: str) -> bytes:
        """Return the document at ``url`` from the bundle, a file or the entry."""
        name = bundle_name(url)
        if name is not None and self.bundle is not None:
            return self._load_bundled(url, name)
        if url == self.entry or not is_remote(url):
            return super().load(url)
        raise ContractError(self._refusal(url, name))

    def _load_bundled(self, url: str, name: str) -> bytes:
        assert self.bundle is not None
        if not _BUNDLE_NAME.fullmatch(name):
            raise ContractError(f"schema {url} names {name!r}, not a bundle file")
        path = self.bundle / f"{name}.xsd"
        try:
            content = path.read_bytes()
        except FileNotFoundError as exc:
            raise ContractError(
                f"schema {url} is not in the bundle {self.bundle} (expected {path})"
            ) from exc
        except OSError as exc:
            raise ContractError(f"schema {url}: cannot read {path}: {exc}") from exc
        _check_well_formed(url, path, content)
        logger.debug("schema served from bundle url=%s path=%s", url, path)
        return content

    def _refusal(self, url: str, name: str | None) -> str:
        if name is not None:
            return (
                f"schema {url} is remote and no bundle was given "
                f"(expected a folder holding {name}.xsd)"
            )
        return f"schema {url} is remote; Ponte fetches no schema over the network"


def _check_well_formed(url: str, path: Path, content: bytes) -> None:
    # zeep's own parse error names neither the URL nor the file.
    try:
        xmlutil.parse(content)
    except etree.XMLSyntaxError as exc:
        raise ContractError(f"schema {url}: {path} is not well-formed: {exc}") from exc


def load_wsdl(
    location: str,
    *,
    bundle: Path | None = None,
    timeout: float = 30.0,
    session: requests.Session | None = None,
) -> zeep.Client:
    """Load the WSDL at ``location`` into a zeep client, offline but for it.

    ``bundle`` is the folder that answers ``mex?xsd=<name>`` imports.
    ``timeout`` (seconds) applies to loading the WSDL and to every SOAP call.
    ``session`` carries the partner's credentials (HTTP Basic, client
    certificate); a fresh one is made when it is None.

    The client is strict, refuses DTDs and entities, and has no cache.
    Raises ``ContractError`` when the WSDL or a schema is missing, refused or
    cannot be parsed, or when a message part or an operation does not resolve.
    Not thread-safe while loading (it changes the process's warning filters);
    load contracts at start-up.
    """
    transport = BundleTransport(location, bundle, timeout=timeout, session=session)
    logger.debug("loading WSDL location=%s bundle=%s", location, bundle)
    try:
        return _build_client(location, transport)
    except ContractError:
        raise
    except _LOAD_ERRORS as exc:
        raise ContractError(f"WSDL {location} cannot be loaded: {exc}") from exc


def _build_client(location: str, transport: BundleTransport) -> zeep.Client:
    with warnings.catch_warnings():
        # zeep only warns when a message part or an operation does not
        # resolve, then drops it; a contract with holes must not load.
        warnings.filterwarnings("error", category=UserWarning, module=r"zeep\.")
        return zeep.Client(location, transport=transport, settings=_settings())


def _settings() -> zeep.Settings:
    # forbid_external stays False on purpose: zeep 4.3.3 refuses http(s)
    # imports before asking the transport, so the bundle could never answer.
    # BundleTransport.load is the stricter gate (an allow-list, not a scheme
    # check).
    return zeep.Settings(
        strict=True,
        xml_huge_tree=True,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=False,
    )


def operation_signature(client: zeep.Client, port: str, operation: str) -> list[str]:
    """Return the input parameter names of ``operation`` on ``port``, in order.

    Raises ``ContractError`` when the port or the operation does not exist.
    """
    binding = _find_port(client, port).binding
    if binding is None:
        raise ContractError(f"port {port} has no binding")
    try:
        found = binding.get(operation)
    except ValueError as exc:
        raise ContractError(f"port {port} has no operation {operation}") from exc
    body = found.input.body
    if body is None:
        return []
    return [name for name, _ in body.type.elements]


def _find_port(client: zeep.Client, name: str) -> Port:
    ports: dict[str, Port] = {}
    for service in client.wsdl.services.values():
        ports.update(service.ports)
    if name not in ports:
        known = ", ".join(sorted(ports)) or "none"
        raise ContractError(f"the WSDL has no port {name} (ports: {known})")
    return ports[name]
