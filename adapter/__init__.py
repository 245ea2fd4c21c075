"""Ponte: SOAP/XML integration adapter for corporate legal departments.

Layers, each a subpackage; data flows downward only:

    inbound/      SOAP server (spyne): WSGI app, auth, faults
    app/          use cases: one transaction per call, audit and outbox inside it
    domain/       business rules: identifiers, parties, payment orders, events
    storage/      SQLAlchemy tables, repositories, migrations
    audit/        audit writer and queries
    delivery/     outbox worker, retry policy, outcome classification
    outbound/     zeep client seam, WSDL loading with local schema bundles
    signing/      XML-DSig for WS-Security, signing keys
    credentials/  integration users, password storage, WS-Security UsernameToken
    mappings/     XSLT mappings from canonical events to ERP formats
"""

__version__ = "0.1.0"
