"""``CompiledSoap11`` writes every response exactly as spyne's ``Soap11`` does,
and ``quick_init`` builds every published type exactly as spyne's ``__init__``.

The instances are generated from the type descriptions themselves, so a type
added to the contract is covered without touching this file.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
from typing import Any

import pytest
from lxml import etree
from spyne import Application, ComplexModel
from spyne.model import ComplexModelBase
from spyne.model.binary import ByteArray
from spyne.model.complex import Array
from spyne.model.primitive import (
    Boolean,
    Date,
    DateTime,
    Decimal,
    Double,
    Integer,
    Unicode,
)
from spyne.protocol.soap import Soap11

from adapter.inbound import (
    types,
    types_contracts,
    types_employees,
    types_payment_orders,
    types_provisions,
    types_punches,
)
from adapter.inbound.fastxml import CompiledSoap11, quick_init
from adapter.inbound.service import LegalSoapService

TNS = "urn:ponte:legal:v1"
ROUNDS = 12


def _protocols() -> tuple[Soap11, CompiledSoap11]:
    plain, compiled = Soap11(), CompiledSoap11()
    for protocol in (plain, compiled):
        Application(
            [LegalSoapService],
            tns=TNS,
            in_protocol=Soap11(),
            out_protocol=protocol,
        )
    return plain, compiled


PLAIN, COMPILED = _protocols()
RESPONSES = sorted(
    (d.out_message for d in LegalSoapService.public_methods.values()),
    key=lambda cls: cls.get_type_name(),
)


def _value(cls: type, rng: random.Random, depth: int) -> Any:
    """A value for a member of type ``cls``: sometimes None, odd text on purpose."""
    if rng.random() < 0.25:
        return None
    if issubclass(cls, Array):
        (inner,) = cls._type_info.values()
        return [_value(inner, rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if issubclass(cls, ComplexModelBase):
        return _instance(cls.__orig__ or cls, rng, depth + 1)
    if cls.Attributes.max_occurs > 1:
        return [_scalar(cls, rng) for _ in range(rng.randint(0, 3))]
    return _scalar(cls, rng)


def _scalar(cls: type, rng: random.Random) -> Any:
    if issubclass(cls, Boolean):
        return rng.random() < 0.5
    if issubclass(cls, Integer):
        return rng.randint(-5, 10**6)
    if issubclass(cls, Decimal):
        return decimal.Decimal(rng.randint(0, 10**8)) / 100
    if issubclass(cls, Double):
        return rng.random() * 1000
    if issubclass(cls, DateTime):
        return dt.datetime(2026, 1, 2, 3, 4, 5, rng.randint(0, 999_999), dt.UTC)
    if issubclass(cls, Date):
        return dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 3000))
    if issubclass(cls, ByteArray):
        return [bytes(rng.randint(0, 255) for _ in range(9))]
    if issubclass(cls, Unicode):
        return rng.choice(["Ação & <réu>", "", " espaço ", "0058967-77.2016", "x"])
    raise AssertionError(f"no generator for {cls}")


def _instance(cls: type, rng: random.Random, depth: int = 0) -> Any:
    values = {}
    if depth < 4:
        for key, member in cls.get_flat_type_info(cls).items():
            values[key] = _value(member, rng, depth)
    return cls(**values)


def _written(protocol: Soap11, cls: type, inst: Any) -> bytes:
    body = etree.Element("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    protocol.to_parent(None, cls, inst, body, cls.get_namespace())
    return etree.tostring(body)


@pytest.mark.parametrize("response", RESPONSES, ids=lambda c: c.get_type_name())
def test_every_response_is_written_as_spyne_writes_it(response: type) -> None:
    rng = random.Random(response.get_type_name())
    for _ in range(ROUNDS):
        inst = _instance(response, rng)
        expected = _written(PLAIN, response, inst)
        assert _written(COMPILED, response, inst) == expected


def test_the_compiled_writer_takes_the_records_and_leaves_faults_to_spyne() -> None:
    page = types.LawsuitPage(items=[types.Lawsuit(id="1")], nextCursor=None)
    _written(COMPILED, types.LawsuitPage, page)
    assert COMPILED._plans[types.LawsuitPage] is not None
    from spyne.model.fault import Fault

    assert COMPILED._compile(Fault) is None


def _published_types() -> list[type]:
    found = []
    for module in (
        types,
        types_contracts,
        types_employees,
        types_payment_orders,
        types_provisions,
        types_punches,
    ):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, types._Base)
                and value is not types._Base
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return sorted(found, key=lambda c: c.__qualname__)


@pytest.mark.parametrize("cls", _published_types(), ids=lambda c: c.__name__)
def test_quick_init_builds_what_spynes_init_builds(cls: type) -> None:
    rng = random.Random(cls.__name__)
    for _ in range(4):
        values = {
            key: _value(member, rng, 3)
            for key, member in cls.get_flat_type_info(cls).items()
        }
        quick = cls(**values)
        slow = cls.__new__(cls)
        ComplexModel.__init__(slow, **values)
        assert quick.__dict__ == slow.__dict__
    empty = cls.__new__(cls)
    ComplexModel.__init__(empty)
    assert cls().__dict__ == empty.__dict__


def test_quick_init_refuses_a_member_the_type_does_not_have() -> None:
    with pytest.raises(TypeError, match="has no member clamValue"):
        types.Lawsuit(clamValue=1)


def test_quick_init_leaves_classes_it_cannot_copy_to_spyne() -> None:
    class WithFactory(ComplexModel):
        _type_info = [("tags", Unicode(default_factory=lambda: "made"))]  # noqa: RUF012

    assert quick_init(WithFactory.__new__(WithFactory), {}) is False
