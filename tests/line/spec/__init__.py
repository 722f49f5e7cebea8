"""LINE's official Messaging API schema, vendored, and a validator that honours its discriminators.

`messaging-api.yml` is copied unchanged from github.com/line/line-openapi
(Apache-2.0), commit 6e4c2a2a1b7b059ea3920456d4f88d03fd8ef0bb of 2026-07-01
("Remove null from `AudienceGroupFailedType` emum (#124)"); the file's own
`info.version` is "0.0.1". Update it by copying a newer `messaging-api.yml`
over it and noting the commit here.

OpenAPI's `discriminator` (message, action, Flex component, rich-menu area
types …) is not JSON Schema: a generic validator ignores it, so a Flex
button whose action lacks its `uri` would pass. `SpecValidator` rewrites each
discriminated schema into an explicit dispatch on its `type` (an unknown type
is an error) and validates the chosen subtype strictly: a property the spec
does not name is an error too.
"""

from __future__ import annotations

import copy
import re
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["SpecValidator", "SPEC_PATH", "SPEC_COMMIT"]

SPEC_PATH = Path(__file__).with_name("messaging-api.yml")
SPEC_COMMIT = "6e4c2a2a1b7b059ea3920456d4f88d03fd8ef0bb"
_PREFIX = "#/components/schemas/"
_URI = "urn:line:messaging-api"


def _rewrite(schemas: dict[str, Any]) -> dict[str, Any]:
    """Discriminated bases become dispatchers; their subtypes extend a plain copy of the base."""
    out = copy.deepcopy(schemas)
    for name, schema in schemas.items():
        disc = schema.get("discriminator")
        if not disc:
            continue
        prop, mapping = disc["propertyName"], disc.get("mapping") or {}
        base = {k: v for k, v in schema.items() if k != "discriminator"}
        out[f"{name}__base"] = base
        for target in mapping.values():
            sub = out[target.removeprefix(_PREFIX)]
            for part in sub.get("allOf", []):
                if part.get("$ref") == _PREFIX + name:
                    part["$ref"] = _PREFIX + f"{name}__base"
            sub["unevaluatedProperties"] = False  # every key must be one the spec names
        out[name] = {
            "type": "object",
            "required": [prop],
            "properties": {prop: {"enum": sorted(mapping)}},
            "allOf": [
                {"if": {"properties": {prop: {"const": value}}, "required": [prop]}, "then": {"$ref": target}}
                for value, target in sorted(mapping.items())
            ],
        }
    return out


def _clean(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema 2020-12: drop keywords that mean something else or nothing here."""
    if isinstance(node, dict):
        return {k: _clean(v) for k, v in node.items()
                if k not in ("nullable", "format", "example", "externalDocs", "discriminator")}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


class SpecValidator:
    """Validates request bodies against the operation LINE's spec defines for a method and path."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        self.doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        schemas = _clean(_rewrite(self.doc["components"]["schemas"]))
        self.root = {"components": {"schemas": schemas}}
        resource = Resource.from_contents(self.root, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(_URI, resource)

    @cached_property
    def _operations(self) -> list[tuple[str, re.Pattern[str], dict]]:
        ops = []
        for template, item in self.doc["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            for method, op in item.items():
                if isinstance(op, dict) and "operationId" in op:
                    ops.append((method.upper(), pattern, op))
        return ops

    def operation(self, method: str, path: str) -> dict | None:
        for m, pattern, op in self._operations:
            if m == method.upper() and pattern.match(path):
                return op
        return None

    def schema_for(self, name: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": f"{_URI}{_PREFIX}{name}"}, registry=self.registry)

    def errors(self, method: str, path: str, body: Any) -> list[str]:
        """Why `body` is not a valid request for `method path` (empty when it is)."""
        op = self.operation(method, path)
        if op is None:
            return [f"{method} {path}: not an operation of the Messaging API"]
        content = (op.get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        if schema is None:
            return []  # no JSON body (an image upload, a bodiless POST)
        ref = schema.get("$ref", "")
        if not ref.startswith(_PREFIX):
            return [f"{method} {path}: unexpected schema {schema}"]
        validator = self.schema_for(ref.removeprefix(_PREFIX))
        return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
                for e in validator.iter_errors(body)]
