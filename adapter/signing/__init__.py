"""XML-DSig for WS-Security: signing keys, outbound signing, inbound verification.

Keys are loaded once (``load_signing_key``) and passed as objects;
``sign_envelope`` adds WS-Addressing, a wsu:Timestamp and a detached exclusive
c14n signature to a SOAP 1.1 envelope; ``verify_envelope`` checks one against
pinned certificates and returns only what was signed.
"""

from adapter.signing.keys import SigningKey, generate_signing_key, load_signing_key
from adapter.signing.verify import (
    VerifiedEnvelope,
    signer_certificates,
    verify_envelope,
    xmlsec1_command,
)
from adapter.signing.wsse import sign_envelope

__all__ = [
    "SigningKey",
    "VerifiedEnvelope",
    "generate_signing_key",
    "load_signing_key",
    "sign_envelope",
    "signer_certificates",
    "verify_envelope",
    "xmlsec1_command",
]
