"""line-bot-sdk's message models as the JSON LINE reads, without the SDK's serialisation round trip.

The SDK's `to_dict()` serialises each model with pydantic v1's `dict()` —
which walks the whole subtree — and then replaces every child with the
child's own `to_dict()`, which walks its subtree again; its API client then
walks the result once more to "sanitise" it. For one answer's Flex bubble
that was about 0.7 ms of CPU per reply, more than answering the question.
The models are validated when they are built (`adapters.line.flex`); this
reads each one once: every field that is not None, under its JSON name,
and list items that are not None, exactly as `to_dict()` does
(`tests/line/test_limits.py` compares the two on every reply the knowledge
can produce; the fake API checks every body against LINE's OpenAPI spec).
"""

from __future__ import annotations

from typing import Any

from pydantic.v1 import BaseModel

__all__ = ["plain"]

_ALIASES: dict[type, tuple[tuple[str, str], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, str], ...]:
    fields = _ALIASES.get(cls)
    if fields is None:
        fields = _ALIASES[cls] = tuple((name, f.alias) for name, f in cls.__fields__.items())
    return fields


def plain(value: Any) -> Any:
    """`value` (a model, a list of them, or a plain value) as JSON-ready dicts, lists and scalars."""
    if isinstance(value, BaseModel):
        values = value.__dict__
        return {alias: plain(v) for name, alias in _fields(type(value)) if (v := values.get(name)) is not None}
    if isinstance(value, list):
        return [plain(v) for v in value if v is not None]
    return value
