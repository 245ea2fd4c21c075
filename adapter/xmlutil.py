"""The one place where XML parsing is configured: no DTD, no entities, no network."""

from __future__ import annotations

from lxml import etree

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
)
WSU = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
)
WSA = "http://www.w3.org/2005/08/addressing"
DS = "http://www.w3.org/2000/09/xmldsig#"


def safe_parser(*, huge_tree: bool = False) -> etree.XMLParser:
    """Return a parser that refuses DTDs, entities and network access."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge_tree,
        remove_comments=False,
    )


def parse(data: bytes) -> etree._Element:
    """Parse untrusted bytes; a DOCTYPE is refused outright.

    Raises ``etree.XMLSyntaxError`` (also for a DOCTYPE, so callers handle one
    kind of failure).
    """
    parser = safe_parser()
    root = etree.fromstring(data, parser)
    if root.getroottree().docinfo.doctype:
        raise etree.XMLSyntaxError("DOCTYPE is not allowed", 0, 1, 1)
    return root
