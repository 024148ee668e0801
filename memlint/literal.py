"""A JSON encoding for project facts that round-trips tuples, sets and memlint's dataclasses.

Facts are cached on disk; pickle would run arbitrary code from a planted cache file, so facts are
stored as tagged JSON instead. Only dataclasses and enums defined in memlint's own modules can be
rebuilt, by their fields: decoding never calls anything else.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
from typing import Any

_ALLOWED_PREFIX = "memlint."


class Unencodable(TypeError):
    pass


def encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {"t": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        items = sorted((encode(v) for v in value), key=repr)
        return {"s" if isinstance(value, set) else "f": items}
    if isinstance(value, dict):
        return {"d": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, enum.Enum):
        return {"e": _qualname(type(value)), "v": encode(value.value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return {"c": _qualname(type(value)), "v": fields}
    raise Unencodable(f"cannot encode {type(value).__name__}")


def decode(data: Any) -> Any:
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict) or len(data) not in (1, 2):
        raise ValueError("malformed facts entry")
    if "t" in data:
        return tuple(decode(v) for v in data["t"])
    if "s" in data:
        return {decode(v) for v in data["s"]}
    if "f" in data:
        return frozenset(decode(v) for v in data["f"])
    if "d" in data:
        return {decode(k): decode(v) for k, v in data["d"]}
    if "e" in data:
        return _resolve(data["e"], enum.Enum)(decode(data["v"]))
    if "c" in data:
        cls = _resolve(data["c"], None)
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"{data['c']} is not a dataclass")
        factory: Any = cls
        return factory(**{name: decode(v) for name, v in data["v"].items()})
    raise ValueError("malformed facts entry")


def _qualname(cls: type) -> str:
    if not cls.__module__.startswith(_ALLOWED_PREFIX) or "<locals>" in cls.__qualname__:
        raise Unencodable(f"{cls.__module__}.{cls.__qualname__} is not one of memlint's types")
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(name: str, base: type | None) -> Any:
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith(_ALLOWED_PREFIX):
        raise ValueError(f"refusing to load {name}")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type) or (base is not None and not issubclass(obj, base)):
        raise ValueError(f"{name} is not a type")
    return obj


class NeedsFullDecode(ValueError):
    """``object_hook`` met a shape it cannot decode bottom-up: use ``decode`` on the plain JSON."""


class _Fields(dict[str, Any]):
    """An untagged JSON object: a dataclass's fields (the only untagged objects ``encode`` makes)."""

    __slots__ = ()


def object_hook(data: dict[str, Any]) -> Any:
    """``json.load(..., object_hook=object_hook)`` gives what ``decode`` gives of the plain JSON,
    about three times faster: the C parser builds the lists and calls this once per object,
    innermost first, instead of a Python call per value.

    Bottom-up, a dataclass's fields object is seen before its tag and could read as a tag itself
    (a dataclass whose only field is ``t``); such a value raises ``NeedsFullDecode``.
    """
    size = len(data)
    if size == 1:
        if "t" in data:
            return tuple(data["t"])
        if "d" in data:
            return {key: value for key, value in data["d"]}
        if "s" in data:
            return set(data["s"])
        if "f" in data:
            return frozenset(data["f"])
    elif size == 2 and "v" in data:
        if "c" in data:
            fields = data["v"]
            if type(fields) is not _Fields:
                raise NeedsFullDecode(f"{data['c']}: fields read as a tagged value")
            factory: Any = _DATACLASSES.get(data["c"])
            if factory is None:
                resolved = _resolve(data["c"], None)
                if not dataclasses.is_dataclass(resolved):
                    raise ValueError(f"{data['c']} is not a dataclass")
                factory = _DATACLASSES[data["c"]] = resolved
            return factory(**fields)
        if "e" in data:
            return _resolve(data["e"], enum.Enum)(data["v"])
    return _Fields(data)


#: Dataclasses already resolved by ``object_hook`` (an import lookup per object is a third of it).
_DATACLASSES: dict[str, Any] = {}
