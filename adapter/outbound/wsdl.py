"""Load partner WSDLs: the one place where a contract is read.

``read_contract`` reads the WSDL and every schema it imports, following
``xsd:import``, ``xsd:include``, ``xsd:redefine`` and ``wsdl:import``, before
anything is built from them. So a failure is reported once, whole:

- every schema that cannot be had is named, with where it was looked for
  (the CNJ MNI WSDL imports four ``../xsd/*.xsd`` files; all four are named);
- a WSDL saved together with its HTTP response headers (``HTTP/1.1 200 OK``
  before the XML) is said to be that, not "Start tag expected";
- a document that is not well-formed names its URL or file, line and column.

Two things are built from what was read: a zeep client (``load_wsdl``, for
calls) and an lxml ``XMLSchema`` of the WSDL's types (``contract_schema``,
for checking mapped documents). Neither reads anything again.

WCF hosts such as TOTVS RM publish a WSDL whose types are only ``xsd:import``
statements pointing at ``.../mex?xsd=xsd0`` .. ``xsdN``. Those imports are
served from a local bundle folder (``<bundle>/xsd0.xsd`` ..); every other
remote schema is refused, so loading a contract never reaches the network
beyond the WSDL location the caller named. Local files are read as usual.

Every failure is raised as ``ContractError``, chained to the original error.

Security: DTDs and entities are refused. ``xml_huge_tree`` is on because ERP
answers carry large base64 documents; the DTD and entity bans are what keep
that safe.
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests
import zeep
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.loader import normalize_location
from zeep.transports import Transport
from zeep.wsdl.definitions import Port

from adapter import xmlutil
from adapter.errors import ContractError

logger = logging.getLogger(__name__)

XSD = "http://www.w3.org/2001/XMLSchema"
WSDL11 = "http://schemas.xmlsoap.org/wsdl/"

_REMOTE_SCHEMES = frozenset({"http", "https"})
# A bundle name becomes a file name: keep "xsd=../../etc/passwd" out.
_BUNDLE_NAME = re.compile(r"[a-z0-9_-]{1,64}")
# "HTTP/1.1 200 OK" at the start of a line: a response saved with its headers.
_HTTP_STATUS_LINE = re.compile(rb"^HTTP/\d(?:\.\d)? \d{3}[^\r\n]*", re.MULTILINE)
# The references that make a contract span several documents.
_REFERENCES = (
    (f"{{{XSD}}}import", "schemaLocation"),
    (f"{{{XSD}}}include", "schemaLocation"),
    (f"{{{XSD}}}redefine", "schemaLocation"),
    (f"{{{WSDL11}}}import", "location"),
)

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
    ``ContractError``. Documents already read (``preloaded``, by URL or path)
    are answered from memory. SOAP calls (``post``) are not affected.
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
        self.preloaded: dict[str, bytes] = {}

    def load(self, url: str) -> bytes:
        """Return the document at ``url`` from memory, the bundle, a file or
        the entry."""
        if url in self.preloaded:
            return self.preloaded[url]
        name = bundle_name(url)
        if name is not None and self.bundle is not None:
            return self._load_bundled(url, name)
        if url == self.entry and is_remote(url):
            return self._fetch(url)
        if not is_remote(url):
            return bytes(super().load(url))
        raise ContractError(self._refusal(url, name))

    def _fetch(self, url: str) -> bytes:
        started = time.perf_counter()
        outcome = "failed"
        try:
            content = bytes(super().load(url))
            outcome = "ok"
            return content
        finally:
            ms = int((time.perf_counter() - started) * 1000)
            logger.info("GET wsdl=%s outcome=%s ms=%d", _for_log(url), outcome, ms)

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


def _for_log(url: str) -> str:
    """``url`` without user, password or query (a token may hide there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# Reading a contract whole


@dataclass
class Contract:
    """A WSDL and every document it reaches, read and parsed once.

    ``documents`` maps each location, as zeep resolves it (URL or absolute
    path), to its bytes; ``roots`` to its parsed root. ``entry`` is the
    WSDL's own location.
    """

    entry: str
    transport: BundleTransport
    documents: dict[str, bytes] = field(default_factory=dict)
    roots: dict[str, etree._Element] = field(default_factory=dict)

    @property
    def wsdl(self) -> etree._Element:
        return self.roots[self.entry]


@dataclass(frozen=True)
class _Missing:
    reference: str  # as written in the document
    location: str  # resolved
    referrer: str
    error: ContractError


def read_contract(
    location: str,
    *,
    bundle: Path | None = None,
    timeout: float = 30.0,
    session: requests.Session | None = None,
    what: str = "WSDL",
) -> Contract:
    """Read the WSDL at ``location`` and every schema it imports.

    ``bundle`` answers ``mex?xsd=<name>`` imports; ``what`` names the entry
    document in messages ("WSDL", "schema"). Raises ``ContractError`` naming
    every schema that is missing or refused, or the first document that is
    not well-formed XML (with its line).
    """
    transport = BundleTransport(location, bundle, timeout=timeout, session=session)
    contract = Contract(location, transport)
    missing: list[_Missing] = []
    queue: list[tuple[str, str, str | None]] = [(location, location, None)]
    while queue:
        reference, url, referrer = queue.pop(0)
        if url in contract.documents:
            continue
        try:
            content = _read(transport, url, what if referrer is None else "schema")
        except ContractError as exc:
            if referrer is None:
                raise
            missing.append(_Missing(reference, url, referrer, exc))
            contract.documents[url] = b""  # looked for once
            continue
        root = _parse_document(url, content, what if referrer is None else "schema")
        contract.documents[url] = content
        contract.roots[url] = root
        queue.extend((ref, _resolve(ref, url), url) for ref in _references(root))
    if missing:
        raise _missing_error(what, location, missing)
    transport.preloaded = dict(contract.documents)
    return contract


def _read(transport: BundleTransport, url: str, what: str) -> bytes:
    try:
        return transport.load(url)
    except ContractError:
        raise
    except FileNotFoundError as exc:
        raise ContractError(f"{what} {url} does not exist") from exc
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise ContractError(f"{what} {url}: HTTP {status}") from exc
    except (OSError, ZeepError) as exc:
        raise ContractError(f"{what} {url} cannot be read: {exc}") from exc


def _parse_document(url: str, content: bytes, what: str) -> etree._Element:
    headers = _http_status_line(content)
    if headers is not None:
        raise ContractError(
            f"{what} {url} is not XML: it holds an HTTP response with its headers "
            f"('{headers}' at line {_line_of(content, headers)}) before the "
            "document; it was saved with its headers (curl -i?). Save the body "
            "alone, or delete everything up to the blank line after the headers."
        )
    try:
        root = etree.fromstring(content, _contract_parser(), base_url=url)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise ContractError(
            f"{what} {url} is not well-formed XML: line {line}, column {column}: "
            f"{exc.msg}"
        ) from exc
    if root.getroottree().docinfo.doctype:
        raise ContractError(f"{what} {url} has a DOCTYPE; Ponte refuses DTDs")
    return root


def _contract_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
        remove_comments=True,
    )


def _http_status_line(content: bytes) -> str | None:
    """The status line when HTTP headers precede the XML, else None."""
    head = content[:4096]
    found = _HTTP_STATUS_LINE.search(head)
    if found is None:
        return None
    first_tag = re.search(rb"<(?![?!])", head)
    if first_tag is not None and first_tag.start() < found.start():
        return None
    return found.group(0).decode("latin-1").strip()


def _line_of(content: bytes, text: str) -> int:
    index = content.find(text.encode("latin-1"))
    return content.count(b"\n", 0, max(index, 0)) + 1


def _references(root: etree._Element) -> Iterator[str]:
    for tag, attribute in _REFERENCES:
        for element in root.iter(tag):
            value = element.get(attribute)
            if value:
                yield value


def _resolve(reference: str, base: str) -> str:
    # zeep's own resolution, so that the keys match what zeep asks for.
    return str(normalize_location(_settings(), reference, base))


def _missing_error(what: str, location: str, missing: list[_Missing]) -> ContractError:
    entry = f"{what} {location}"
    if len(missing) == 1:
        only = missing[0]
        error = ContractError(f"{entry} cannot be loaded: {only.error}")
        error.__cause__ = only.error.__cause__ or only.error
        return error
    lines = [
        f"{entry} cannot be loaded: {len(missing)} schemas it imports cannot be read:"
    ]
    for item in missing:
        notes = []
        if item.reference != item.location:
            notes.append(f"written {item.reference}")
        if item.referrer != location:
            notes.append(f"imported by {item.referrer}")
        lines.append(f"  - {item.error}" + (f" ({'; '.join(notes)})" if notes else ""))
    lines.append(
        "Put each schema where it is looked for (or give the bundle folder), "
        "then load the WSDL again."
    )
    error = ContractError("\n".join(lines))
    error.__cause__ = missing[0].error
    return error


# A zeep client


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
    Raises ``ContractError`` as ``read_contract`` does, and when a message
    part or an operation does not resolve. Not thread-safe while loading (it
    changes the process's warning filters); load contracts at start-up.
    """
    logger.debug("loading WSDL location=%s bundle=%s", location, bundle)
    contract = read_contract(location, bundle=bundle, timeout=timeout, session=session)
    return client_of(contract)


def client_of(contract: Contract) -> zeep.Client:
    """A zeep client built from ``contract`` (nothing is read again)."""
    try:
        return _build_client(contract.entry, contract.transport)
    except ContractError:
        raise
    except _LOAD_ERRORS as exc:
        raise ContractError(f"WSDL {contract.entry} cannot be loaded: {exc}") from exc


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
    body = input_element(client, port, operation)
    if body is None:
        return []
    return [name for name, _ in body.type.elements]


def input_element(client: zeep.Client, port: str, operation: str) -> Any:
    """The zeep element of ``operation``'s input body (None for an empty body).

    Its ``qname`` is the element the SOAP Body carries. Raises
    ``ContractError`` when the port or the operation does not exist.
    """
    binding = _find_port(client, port).binding
    if binding is None:
        raise ContractError(f"port {port} has no binding")
    try:
        found = binding.get(operation)
    except ValueError as exc:
        raise ContractError(f"port {port} has no operation {operation}") from exc
    return found.input.body


def _find_port(client: zeep.Client, name: str) -> Port:
    ports: dict[str, Port] = {}
    for service in client.wsdl.services.values():
        ports.update(service.ports)
    if name not in ports:
        known = ", ".join(sorted(ports)) or "none"
        raise ContractError(f"the WSDL has no port {name} (ports: {known})")
    return ports[name]


# An lxml schema of the WSDL's types

_INLINE = "ponte-contract:"


def contract_schema(contract: Contract) -> etree.XMLSchema:
    """An ``XMLSchema`` of the WSDL's ``wsdl:types``, to validate documents.

    Every schema location is answered from ``contract`` (nothing is read
    again, nothing from the network). Raises ``ContractError`` when the
    WSDL has no inline schema or libxml2 refuses the schemas, naming why.

    Limitation: libxml2 takes one schema per namespace; a second inline
    schema for a namespace already imported is skipped.
    """
    inline = list(contract.wsdl.iterfind(f"{{{WSDL11}}}types/{{{XSD}}}schema"))
    if not inline:
        raise ContractError(f"WSDL {contract.entry} has no inline xsd:schema")
    names: dict[str, str] = {}
    served: dict[str, bytes] = {}
    for location in contract.roots:
        if location != contract.entry:
            names[location] = f"{_INLINE}{len(names)}"
    for location, root in contract.roots.items():
        if location != contract.entry:
            served[names[location]] = _relocated(root, location, names)
    wrapper = _wrapper()
    for number, schema in enumerate(inline):
        name = f"{_INLINE}inline-{number}"
        served[name] = _relocated(schema, contract.entry, names)
        _import(wrapper, schema.get("targetNamespace"), name)
    return _compile(contract.entry, wrapper, served)


def schema_from_file(path: Path) -> etree.XMLSchema:
    """An ``XMLSchema`` from an ``.xsd`` file and the files it imports.

    Raises ``ContractError`` naming the file (and a missing import) when it
    cannot be read or compiled.
    """
    contract = read_contract(str(path.resolve()), what="schema")
    entry = contract.entry
    names = {loc: f"{_INLINE}{n}" for n, loc in enumerate(contract.roots)}
    served = {
        names[loc]: _relocated(root, loc, names) for loc, root in contract.roots.items()
    }
    return _compile(entry, etree.fromstring(served[names[entry]]), served)


def _wrapper() -> etree._Element:
    # A namespace of its own: a schema without one may not import one
    # without a namespace (the usual case of RM's DataSet schemas).
    wrapper = etree.Element(f"{{{XSD}}}schema", nsmap={"xs": XSD})
    wrapper.set("targetNamespace", "urn:ponte:contract-schemas")
    return wrapper


def _import(wrapper: etree._Element, namespace: str | None, location: str) -> None:
    element = etree.SubElement(wrapper, f"{{{XSD}}}import")
    if namespace:
        element.set("namespace", namespace)
    element.set("schemaLocation", location)


def _relocated(schema: etree._Element, location: str, names: dict[str, str]) -> bytes:
    """``schema`` as a document of its own, its references renamed to
    ``names`` (the in-scope namespaces of a WSDL travel with the copy)."""
    copy = etree.fromstring(etree.tostring(schema))
    for tag, attribute in _REFERENCES:
        for element in copy.iter(tag):
            reference = element.get(attribute)
            if reference:
                element.set(attribute, names.get(_resolve(reference, location), ""))
    return etree.tostring(copy)


class _Served(etree.Resolver):
    def __init__(self, documents: dict[str, bytes]) -> None:
        super().__init__()
        self.documents = documents

    def resolve(self, url: str, pubid: object, context: object) -> object:
        if url in self.documents:
            return self.resolve_string(self.documents[url], context)
        return self.resolve_string(b"<refused/>", context)


def _compile(
    entry: str, wrapper: etree._Element, served: dict[str, bytes]
) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.resolvers.add(_Served(served))
    document = etree.fromstring(etree.tostring(wrapper), parser)
    try:
        return etree.XMLSchema(document)
    except etree.XMLSchemaParseError as exc:
        first = exc.error_log[0].message if len(exc.error_log) else str(exc)
        raise ContractError(f"the schemas of {entry} do not compile: {first}") from exc
