"""XML-DSig: signing keys and their rotation, outbound signing, verification.

Keys are loaded once (``load_signing_key``) and passed as objects; the
``Keyring`` holds several keys per signing name and answers
``signing_key_for(name)``, re-reading its table when ``ponte keys rotate``
changed it. ``sign_envelope`` adds WS-Addressing, a wsu:Timestamp and a
detached exclusive c14n signature to a SOAP 1.1 envelope; ``verify_envelope``
checks one against pinned certificates and returns only what was signed.
``sign_document`` and ``verify_document`` do the same for an enveloped
signature over a whole business document.
"""

from adapter.signing.document import (
    VerifiedDocument,
    sign_document,
    verify_document,
)
from adapter.signing.keyring import (
    DEFAULT_GRACE,
    KeyRecord,
    Keyring,
    KeyringAdmin,
    KeyState,
    Rotation,
    parse_duration,
    shared_keyring,
)
from adapter.signing.keys import (
    SigningKey,
    fingerprint,
    generate_signing_key,
    load_certificate,
    load_signing_key,
    new_signing_key,
)
from adapter.signing.verify import (
    VerifiedEnvelope,
    signer_certificates,
    verify_envelope,
    xmlsec1_command,
)
from adapter.signing.wsse import sign_envelope

__all__ = [
    "DEFAULT_GRACE",
    "KeyRecord",
    "KeyState",
    "Keyring",
    "KeyringAdmin",
    "Rotation",
    "SigningKey",
    "VerifiedDocument",
    "VerifiedEnvelope",
    "fingerprint",
    "generate_signing_key",
    "load_certificate",
    "load_signing_key",
    "new_signing_key",
    "parse_duration",
    "shared_keyring",
    "sign_document",
    "sign_envelope",
    "signer_certificates",
    "verify_document",
    "verify_envelope",
    "xmlsec1_command",
]
