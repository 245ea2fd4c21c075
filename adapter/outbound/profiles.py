"""What each kind of target expects and answers, beyond its WSDL.

A profile turns a mapped document into call parameters and reads the
partner's answer: success with its document key, or a business error that a
retry would not fix.
"""

from __future__ import annotations

import re
from typing import Protocol

from lxml import etree

from adapter.config import TargetSettings
from adapter.delivery.policy import Outcome, Verdict


class Profile(Protocol):
    def parameters(
        self, target: TargetSettings, mapped: etree._Element
    ) -> dict[str, str]: ...

    def interpret(self, result: object) -> Verdict: ...


# RM answers SaveRecord with the primary key joined by ';' ("1;12345").
_RM_KEY = re.compile(r"[^;\s]{1,60}(;[^;\s]{1,60}){0,5}")


class TotvsRmDataServer:
    """TOTVS RM ``wsDataServer``: ``SaveRecord(DataServerName, XML, Contexto)``.

    RM reports a business failure as HTTP 200 whose result text is an error
    message (often a .NET stack trace) instead of the key: anything that is
    not a key is a refusal, never a success.
    """

    def parameters(
        self, target: TargetSettings, mapped: etree._Element
    ) -> dict[str, str]:
        params = dict(target.params)
        params["XML"] = etree.tostring(mapped, encoding="unicode")
        return params

    def interpret(self, result: object) -> Verdict:
        text = (result if isinstance(result, str) else "").strip()
        if _RM_KEY.fullmatch(text):
            return Verdict(Outcome.DELIVERED, result=text)
        first_line = text.splitlines()[0][:200] if text else "(empty result)"
        return Verdict(Outcome.PARKED, "business_error", f"RM refused: {first_line}")


PROFILES: dict[str, Profile] = {"totvs-rm-dataserver": TotvsRmDataServer()}
