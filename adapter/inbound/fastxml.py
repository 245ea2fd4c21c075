"""spyne's SOAP 1.1 output, with complex types written by compiled plans.

spyne serialises a record by walking its type description member by member
on every call: about 20 µs of attribute lookups per field, so a page of
1,000 lawsuits costs ~190 ms before a byte is sent. ``CompiledSoap11`` works
that description out once per class (tag names, which members repeat, which
may be omitted, how each value becomes text) and then only builds elements.

The output is meant to be spyne's, byte for byte: text comes from spyne's own
converters (``to_unicode``), except plain ``str`` and ``int`` values of
unformatted ``Unicode`` and ``Integer`` members, which spyne passes through
and ``str()``s too. Anything a plan does not cover (faults, attributes,
polymorphism, sub-protocols, binary types...) goes to spyne unchanged, per
class or per member. ``tests/unit/test_fast_serialiser.py`` compares both
outputs over every response type of the published contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree
from spyne.model import ComplexModelBase, ModelBase
from spyne.model.binary import ByteArray
from spyne.model.complex import Array, XmlAttribute, XmlData
from spyne.model.enum import EnumBase
from spyne.model.primitive import Integer, Unicode
from spyne.protocol.soap import Soap11

# Writes one member of ``inst`` under ``parent``.
_Step = Callable[[Any, Any, etree._Element], None]
_Plan = Callable[[Any, Any, etree._Element, str], None]
_NOT_COMPILED: Any = object()


class CompiledSoap11(Soap11):
    """``Soap11`` whose plain complex types are written by a plan per class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[type, Any] = {}

    def to_parent(
        self,
        ctx: Any,
        cls: Any,
        inst: Any,
        parent: Any,
        ns: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        plan = self._plans.get(cls)
        if plan is None:
            plan = self._plans[cls] = self._compile(cls) or _NOT_COMPILED
        if (
            plan is _NOT_COMPILED
            or inst is None
            or type(inst) in (list, tuple, dict)
            or kwargs.get("add_type")
            or not isinstance(parent, etree._Element)
        ):
            return super().to_parent(ctx, cls, inst, parent, ns, *args, **kwargs)
        name = args[0] if args else kwargs.get("name")
        plan(ctx, inst, parent, self._tag(cls, ns, name))
        return None

    # Compiling

    def _tag(self, cls: type, ns: str | None, name: str | None) -> str:
        attrs = self.get_cls_attrs(cls)
        if attrs.sub_name is not None:
            name = attrs.sub_name
        if name is None:
            name = cls.get_type_name()  # type: ignore[attr-defined]
        if attrs.sub_ns not in (None, "__default__"):
            ns = attrs.sub_ns
        return name if ns is None else f"{{{ns}}}{name}"

    def _compile(self, cls: type) -> _Plan | None:
        """A plan for ``cls``, or None when spyne must write it itself."""
        if not _plain_complex(self, cls):
            return None
        steps = self._steps(cls)
        if steps is None:
            return None

        def plan(ctx: Any, inst: Any, parent: etree._Element, tag: str) -> None:
            element = etree.SubElement(parent, tag)
            for step in steps:
                step(ctx, inst, element)

        return plan

    def _steps(self, cls: type) -> list[_Step] | None:
        steps: list[_Step] = []
        base = getattr(cls, "__extends__", None)
        if base is not None:
            inherited = self._steps(base)
            if inherited is None:
                return None
            steps.extend(inherited)
        namespace = cls.get_namespace()  # type: ignore[attr-defined]
        for key, member in cls._type_info.items():  # type: ignore[attr-defined]
            attrs = self.get_cls_attrs(member)
            if attrs.exc:
                continue
            if issubclass(member, (XmlAttribute, XmlData)):
                return None
            sub_ns = member.Attributes.sub_ns
            if sub_ns is None:
                sub_ns = namespace
            sub_name = member.Attributes.sub_name or key
            steps.append(self._step(key, member, sub_ns, sub_name))
        return steps

    def _step(self, key: str, member: Any, ns: str, name: str) -> _Step:
        attrs = self.get_cls_attrs(member)
        repeated = member.Attributes.max_occurs > 1
        required = member.Attributes.min_occurs > 0
        default = attrs.default
        write = self._writer(member, ns, name)

        def one(ctx: Any, value: Any, parent: etree._Element) -> None:
            if value is None:
                value = default
            if value is None:
                self.null_to_parent(ctx, member, None, parent, ns, name)
            else:
                write(ctx, value, parent)

        if repeated:

            def many(ctx: Any, inst: Any, parent: etree._Element) -> None:
                values = getattr(inst, key, None)
                if values is None:
                    if required:
                        one(ctx, None, parent)
                    return
                for value in values:
                    one(ctx, value, parent)

            return many

        def single(ctx: Any, inst: Any, parent: etree._Element) -> None:
            value = getattr(inst, key, None)
            if value is not None or required:
                one(ctx, value, parent)

        return single

    def _writer(
        self, member: type, ns: str, name: str
    ) -> Callable[[Any, Any, etree._Element], None]:
        """How a non-null value of ``member`` is written."""
        tag = f"{{{ns}}}{name}"
        if not _plain_simple(self, member):

            def by_spyne(ctx: Any, value: Any, parent: etree._Element) -> None:
                self.to_parent(ctx, member, value, parent, ns, name)

            return by_spyne
        to_unicode = self.to_unicode
        unformatted = not (
            self.get_cls_attrs(member).str_format or self.get_cls_attrs(member).format
        )
        passes_str = unformatted and issubclass(member, Unicode)
        passes_int = unformatted and issubclass(member, Integer)

        def simple(ctx: Any, value: Any, parent: etree._Element) -> None:
            kind = type(value)
            if kind is str and passes_str:
                text = value
            elif kind is int and passes_int:
                text = str(value)
            else:
                text = to_unicode(member, value)
            etree.SubElement(parent, tag).text = text

        return simple


def _plain_complex(protocol: Soap11, cls: type) -> bool:
    if not (isinstance(cls, type) and issubclass(cls, ComplexModelBase)):
        return False
    handler = protocol.serialization_handlers[cls]
    if getattr(handler, "__func__", None) is not Soap11.complex_to_parent:
        return False  # faults and other types with a handler of their own
    attrs = protocol.get_cls_attrs(cls)
    if attrs.prot is not None or attrs.polymorphic or protocol.polymorphic:
        return False
    # spyne wraps a bare list in an Array itself: arrays stay with it.
    return not issubclass(cls, Array)


def _plain_simple(protocol: Soap11, cls: type) -> bool:
    if not issubclass(cls, ModelBase) or issubclass(cls, ComplexModelBase):
        return False
    if issubclass(cls, (ByteArray, EnumBase, XmlAttribute, XmlData)):
        return False
    handler = protocol.serialization_handlers[cls]
    if getattr(handler, "__func__", None) is not Soap11.modelbase_to_parent:
        return False
    attrs = protocol.get_cls_attrs(cls)
    return attrs.prot is None and not attrs.polymorphic


# Building instances

_NO_QUICK_INIT: Any = object()
_member_defaults: dict[type, Any] = {}


def quick_init(inst: Any, values: dict[str, Any]) -> bool:
    """Fill ``inst`` as ``ComplexModelBase.__init__(**values)`` would; False if
    its class needs spyne's own (defaults from factories, read-only members,
    XmlData bodies, SQLAlchemy classes).

    spyne's ``__init__`` works out each member's default from its attributes on
    every call (~4 µs a member); here that is done once per class.
    """
    cls = type(inst)
    defaults = _member_defaults.get(cls)
    if defaults is None:
        defaults = _member_defaults[cls] = _defaults_of(cls) or _NO_QUICK_INIT
    if defaults is _NO_QUICK_INIT:
        return False
    unknown = values.keys() - defaults.keys()
    if unknown:
        # spyne would ignore them silently; a typo in a mapping should not.
        raise TypeError(f"{cls.__name__} has no member {', '.join(sorted(unknown))}")
    state = inst.__dict__
    state.update(defaults)
    state.update(values)
    return True


def _defaults_of(cls: type) -> dict[str, Any] | None:
    if cls.__orig__ is not None or hasattr(cls, "_sa_class_manager"):  # type: ignore[attr-defined]
        return None
    if cls.Attributes._xml_tag_body_as is not None:  # type: ignore[attr-defined]
        return None
    defaults: dict[str, Any] = {}
    for key, member in cls.get_flat_type_info(cls).items():  # type: ignore[attr-defined]
        attrs = member.Attributes
        if attrs.default_factory is not None or attrs.read_only:
            return None
        if isinstance(getattr(cls, key, None), property):
            return None
        defaults[key] = attrs.default
    return defaults
