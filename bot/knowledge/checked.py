"""Each knowledge file's schema check, run once per file: not again in a reload for a file
that did not change, nor at a start for one an earlier run checked (its verdict is kept with
the parsed file, `yamlfile.ParsedStore`): checking the corpus' 20,000 messages took 0.08 s
of every start."""

from __future__ import annotations

from typing import Any

from bot.knowledge import schema
from bot.knowledge.problems import Problem
from bot.knowledge.yamlfile import ParsedStore, YamlDoc

__all__ = ["validated"]

_valid: dict[int, tuple[YamlDoc, dict[str, Any], list[Problem]]] = {}


def validated(doc: YamlDoc, shape: dict[str, Any], *, store: ParsedStore | None = None) -> list[Problem]:
    """`schema.validate`, once per parsed document: a reload shares every unchanged file's
    document (`read_yaml`), so only the edited one is checked again; and with `store`, once
    per file's bytes, so a start checks only files no earlier run kept a verdict of."""
    check = "" if store is None or not doc.key else schema.fingerprint(shape)
    hit = _valid.get(id(doc))
    if hit is not None and hit[0] is doc and hit[1] is shape:
        found = hit[2]
    else:
        kept = store.verdict(doc, check) if check and store is not None else None
        found = schema.validate(doc, shape) if kept is None else kept
        if len(_valid) >= 8192:
            _valid.clear()
        _valid[id(doc)] = (doc, shape, found)
    if check and store is not None:
        store.put_verdict(doc, check, found)  # also for a reload's unchanged files: the next save keeps it
    return list(found)
