"""Access control: person flags for a plain-HTTP gate system.

A gate (turnstiles, reception desk) needs to know whom to stop, until when,
and what to do; nothing about why. So the mappings in
``mappings/access-control/`` send, in the ``urn:ponte:access:v1`` document
of ``contract/access-flags-v1.xsd``:

- for ``person.flagged``: the flag id, the CPF, the name, an ``action``
  (``deny_entry`` or ``refer_to_reception``) and the last valid day;
- for ``person.unflagged``: the flag id and the CPF.

Left out on purpose (LGPD art. 6 III, data minimisation): the purpose code
(``court_order``, ``security_threat``, ``contract_pending``: it says there
is a lawsuit or a threat), the justifying record and its id, the reason of an
unflag (``lawsuit_closed``), Ponte's party id and the event's business key.
The schema has no place for them, so a mapping that adds one fails at
start-up.

The gate answers 2xx to acknowledge; a JSON answer's ``"ref"`` (the gate's
own id of the flag) is kept as the delivery's key. It cannot be asked
whether it holds a flag, so an unsure attempt is sent again: a gate keeps one
flag per CPF, and a repeated flag replaces itself.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lxml import etree

from adapter.config import TargetSettings
from adapter.delivery.policy import Outcome, Verdict
from adapter.errors import MappingError

if TYPE_CHECKING:
    from adapter.outbound.profiles import Reader, Reconciliation

# adapter.outbound.profiles lists this profile in PROFILES: its helpers are
# imported where they are used, not when this module loads, so that either
# module may be imported first.

NAME = "access-control"
ACCESS_NS = "urn:ponte:access:v1"
DOCUMENTS = frozenset({f"{{{ACCESS_NS}}}flag", f"{{{ACCESS_NS}}}unflag"})


class AccessControlGate:
    """An http receiver: the body is the mapped document, as XML."""

    def parameters(
        self, target: TargetSettings, mapped: etree._Element
    ) -> dict[str, Any]:
        if mapped.tag not in DOCUMENTS:
            raise MappingError(
                f"target {target.name}: an access-control gate takes acc:flag or "
                f"acc:unflag, not <{etree.QName(mapped).localname}>"
            )
        body = etree.tostring(mapped, xml_declaration=True, encoding="UTF-8")
        return {"body": body.decode("utf-8")}

    def interpret(self, result: object) -> Verdict:
        return Verdict(Outcome.DELIVERED, result=_gate_ref(result))

    def reconcile(
        self, target: TargetSettings, mapped: etree._Element, read: Reader
    ) -> Reconciliation:
        from adapter.outbound.profiles import unknown

        return unknown("an access-control gate cannot be asked; the flag is sent again")


def _gate_ref(answer: object) -> str | None:
    """The gate's ``ref`` from a JSON answer; None for any other answer."""
    if not isinstance(answer, str) or not answer.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(answer)
    except ValueError:
        return None
    ref = data.get("ref") if isinstance(data, dict) else None
    return str(ref)[:100] if isinstance(ref, str | int) and str(ref) else None
