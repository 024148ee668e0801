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
