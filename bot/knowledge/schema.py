"""JSON Schemas of the knowledge files, and a small validator for them.

The schemas are the single description of the file formats: the loader checks
files against them and `kb schema` exports them for staff's editors.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.knowledge.problems import Problem
from bot.knowledge.yamlfile import Path_, YamlDoc

__all__ = ["SERVICE", "COUNCIL", "CATEGORIES", "SYNONYMS", "SAFETY", "OTHER_OFFICES", "OUT_OF_SCOPE", "bundle",
           "fingerprint", "validate"]

_TEXT = {"type": ["string", "null"]}
_WORDS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_ID = "^[a-z0-9][a-z0-9-]*$"
_GAP: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["topic", "terms"],
    "properties": {"topic": {"type": "string"}, "terms": _WORDS, "message": _TEXT, "examples": _WORDS},
}

CONTACT_FIELDS: dict[str, Any] = {
    "phone": {**_TEXT, "description": "電話番号。分からなければ空のまま（推測で書かない）"},
    "hours": {**_TEXT, "description": "受付時間"},
    "address": _TEXT,
    "url": _TEXT,
    "note": _TEXT,
}

SERVICE: dict[str, Any] = {
    "$id": "madoguchi:service",
    "title": "Madoguchi service",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "category", "audience", "summary", "contact"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9-]+/[a-z0-9-]+$", "description": "<council-id>/<slug>"},
        "title": {"type": "string", "minLength": 1, "maxLength": 60},
        "aliases": _WORDS,
        "category": {"type": "string", "description": "an id from _common/categories.yaml"},
        "audience": {"enum": ["resident", "staff"]},
        "status": {"enum": ["active", "paused", "ended", "planned", "draft"],
                   "description": "draft: written by staff, not answered until published (active)"},
        "status_note": _TEXT,
        "summary": {"type": "string", "minLength": 1, "maxLength": 600},
        "who": _TEXT,
        "how_to_apply": _TEXT,
        "fee": _TEXT,
        "schedule": _TEXT,
        "contact": {
            "type": "object",
            "additionalProperties": False,
            "required": ["department"],
            "properties": {"department": {"type": "string"}, "name": _TEXT, **CONTACT_FIELDS},
        },
        "examples": _WORDS,
        "related": {"type": "array", "items": {"type": "string"}},
        "staff": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "notes": _TEXT,
                "figures": _TEXT,
                "provider": _TEXT,
                "source": _TEXT,
                "updated": _TEXT,
            },
        },
    },
}

_WINDOW = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "department": _TEXT, **CONTACT_FIELDS},
}

COUNCIL: dict[str, Any] = {
    "$id": "madoguchi:council",
    "title": "Madoguchi council",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "prefecture", "window", "departments"],
    "properties": {
        "id": {"type": "string", "pattern": _ID},
        "name": {"type": "string"},
        "short_name": _TEXT,
        "prefecture": {"type": "string"},
        "aliases": _WORDS,
        "window": _WINDOW,
        "departments": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "string", "pattern": _ID},
                    "name": {"type": "string"},
                    "operator": {"enum": ["council", "city", "other"]},
                    **CONTACT_FIELDS,
                },
            },
        },
        "not_offered": {"type": ["array", "null"], "items": _GAP},
    },
}

# Topics that belong to another office (住民票 → city hall): shared by every council.
OTHER_OFFICES: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["topics"],
    "properties": {"topics": {"type": "array", "items": {**_GAP, "required": ["topic", "terms", "message"]}}},
}

CATEGORIES: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["categories"],
    "properties": {
        "categories": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "label"],
                "properties": {
                    "id": {"type": "string", "pattern": _ID},
                    "label": {"type": "string", "maxLength": 20},
                    "terms": _WORDS,
                    "audience": {"enum": ["resident", "staff"]},
                },
            },
        }
    },
}

SYNONYMS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["groups"],
    "properties": {
        "groups": {"type": "array", "items": {**_WORDS, "minItems": 2}},
        "ignore": _WORDS,
        "excluding": _WORDS,
    },
}

SAFETY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["hotlines", "rules"],
    "properties": {
        "hotlines": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "name", "number", "source"],
                "properties": {
                    "id": {"type": "string", "pattern": _ID},
                    "name": {"type": "string"},
                    "number": {"type": "string"},
                    "hours": _TEXT,
                    "note": _TEXT,
                    "source": {"type": "string"},
                },
            },
        },
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "terms"],
                "properties": {
                    "id": {"type": "string", "pattern": _ID},
                    "terms": _WORDS,
                    "hotlines": _WORDS,  # default: its kind's
                    "message": {"type": "string"},  # default: its kind's
                    "context": _WORDS,
                    "unless": _WORDS,
                    "kind": {"type": "string", "pattern": _ID},
                },
            },
        },
        "kinds": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "message", "note", "hotlines"],
                "properties": {
                    "id": {"type": "string", "pattern": _ID},
                    "message": {"type": "string"},
                    "note": {"type": "string"},
                    "hotlines": _WORDS,
                    "search": _TEXT,
                },
            },
        },
        "calm": _WORDS,
        "asking": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"ends": _WORDS, "words": _WORDS},
        },
    },
}

def _message(text: dict[str, Any], **labels: dict[str, Any]) -> dict[str, Any]:
    """One hand-written message of a corpus: its text, and labels (its kind, who wrote it how)."""
    return {"type": "object", "additionalProperties": False, "required": ["text"],
            "properties": {"text": text, **labels}}


_LABEL = {"type": "string"}
_CRISIS_ITEM = _message(_LABEL, kind={"type": "string", "pattern": _ID}, topic=_LABEL, voice=_LABEL, style=_LABEL)

CRISIS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "writer": {"type": "string"},  # who wrote the file (benchmarks/danger_calibration.py leaves one out)
        "danger": {"type": "array", "items": _CRISIS_ITEM},
        "concern": {"type": "array", "items": _CRISIS_ITEM},
        "lookalike": {"type": "array", "items": _CRISIS_ITEM},
    },
}


OUT_OF_SCOPE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["questions"],
    "properties": {
        "writer": {"type": "string"},
        "questions": {"type": "array", "items": _message({"type": "string", "minLength": 1}, topic=_LABEL, style=_LABEL)},
    },
}


def bundle() -> dict[str, Any]:
    """All schemas in one document, as `kb schema` prints it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Madoguchi knowledge files",
        "$defs": {
            "service": SERVICE,
            "council": COUNCIL,
            "categories": CATEGORIES,
            "synonyms": SYNONYMS,
            "safety": SAFETY,
            "crisis": CRISIS,
            "other_offices": OTHER_OFFICES,
            "out_of_scope": OUT_OF_SCOPE,
        },
        "oneOf": [{"$ref": f"#/$defs/{k}"} for k in ("service", "council")],
    }


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
    "integer": (int,),
    "boolean": (bool,),
}
_TYPE_WORDS = {"string": "text", "array": "a list", "object": "a mapping", "null": "empty", "integer": "a number"}


def validate(doc: YamlDoc, schema: dict[str, Any]) -> list[Problem]:
    """Check `doc.data` against the subset of JSON Schema used above."""
    problems: list[Problem] = []
    _check(doc, doc.data, schema, (), problems)
    return problems


def fingerprint(schema: dict[str, Any]) -> str:
    """What `validate`'s verdict depends on besides the document: `schema` and this code,
    hashed (once per schema). A file's verdict is kept under it (`yamlfile.ParsedStore`)."""
    return _once(_PRINTS, schema, lambda s: hashlib.blake2b(
        Path(__file__).read_bytes() + json.dumps(s, sort_keys=True, ensure_ascii=False).encode(),
        digest_size=12).hexdigest())


_T = TypeVar("_T")
_PRINTS: dict[int, tuple[dict[str, Any], str]] = {}


def _once(memo: dict[int, tuple[dict[str, Any], _T]], schema: dict[str, Any],
          make: Callable[[dict[str, Any]], _T]) -> _T:
    """`make(schema)`, worked out once per schema (a dict, so remembered by identity)."""
    hit = memo.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    value = make(schema)
    memo[id(schema)] = (schema, value)
    return value


def _problem(doc: YamlDoc, path: Path_, message: str) -> Problem:
    name = ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")
    return Problem(doc.file, doc.line(path), name, message)


def _flat_ok(value: Any, schema: dict[str, Any]) -> bool:
    """A fast yes for the corpus' many small records ({text: …, kind: …}) and lists of
    text: True only where `_check` would find nothing (else it runs and says what)."""
    test = _fast(schema)
    return test is not None and test(value)


_FAST: dict[int, tuple[dict[str, Any], Callable[[Any], bool] | None]] = {}


def _fast(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """`schema` as one predicate, for the strings, lists and closed records the corpus is
    made of (None for any other schema), made once per schema: a start checks 20,000
    corpus messages, and walking each through `_check` took most of the knowledge's load."""
    return _once(_FAST, schema, _compile)


def _compile(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    kind, keys = schema.get("type"), schema.keys() - {"description"}
    if kind == "string" and keys <= {"type", "minLength", "maxLength", "pattern"}:
        low, high = schema.get("minLength", 0), schema.get("maxLength", 1 << 30)
        pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
        return lambda v: (type(v) is str and len(v.strip()) >= low and len(v) <= high
                          and (pattern is None or pattern.fullmatch(v) is not None))
    if kind == "array" and keys <= {"type", "items", "minItems"}:
        item, least = _fast(schema.get("items", {})), schema.get("minItems", 0)
        return None if item is None else (lambda v: type(v) is list and len(v) >= least and all(map(item, v)))
    if kind == "object" and schema.get("additionalProperties") is False and keys <= {
            "type", "additionalProperties", "required", "properties"}:
        props: dict[str, Callable[[Any], bool]] = {}
        for key, sub in schema.get("properties", {}).items():
            test = _fast(sub)
            if test is None:
                return None
            props[key] = test
        required = tuple(schema.get("required", ()))
        return lambda v: (type(v) is dict and all(k in props and props[k](x) for k, x in v.items())
                          and all(v.get(r) not in (None, "") for r in required))
    return None


def _check(doc: YamlDoc, value: Any, schema: dict[str, Any], path: Path_, out: list[Problem]) -> None:
    if _flat_ok(value, schema):
        return
    if "enum" in schema:
        if value not in schema["enum"]:
            out.append(_problem(doc, path, f"must be one of {', '.join(map(str, schema['enum']))} (got {value!r})"))
        return
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        if not any(isinstance(value, _PY_TYPES[t]) and not (t == "integer" and isinstance(value, bool)) for t in names):
            wanted = " or ".join(_TYPE_WORDS.get(t, t) for t in names)
            hint = " (put quotes around it)" if "string" in names and isinstance(value, (int, float)) else ""
            out.append(_problem(doc, path, f"must be {wanted}, not {type(value).__name__}{hint}"))
            return
    if isinstance(value, str):
        if len(value.strip()) < schema.get("minLength", 0):
            out.append(_problem(doc, path, "must not be empty"))
        if len(value) > schema.get("maxLength", 1 << 30):
            out.append(_problem(doc, path, f"is too long ({len(value)} > {schema['maxLength']} characters)"))
        if "pattern" in schema and not re.fullmatch(schema["pattern"], value):
            out.append(_problem(doc, path, f"{value!r} does not match {schema['pattern']}"))
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append(_problem(doc, path, f"needs at least {schema['minItems']} items"))
        for i, item in enumerate(value):
            _check(doc, item, schema.get("items", {}), path + (i,), out)
    elif isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if value.get(key) in (None, ""):
                out.append(_problem(doc, path, f"missing required field '{key}'"))
        for key, item in value.items():
            if key in props:
                _check(doc, item, props[key], path + (str(key),), out)
            elif schema.get("additionalProperties") is False:
                known = ", ".join(props)
                out.append(_problem(doc, path + (str(key),), f"unknown field (known: {known})"))
