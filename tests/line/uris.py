"""The action URIs inside a LINE message (flex bubbles, quick replies), in document order."""

from __future__ import annotations


def uris(node) -> list[str]:
    if isinstance(node, dict):
        own = [node["uri"]] if node.get("type") == "uri" else []
        return own + [u for v in node.values() for u in uris(v)]
    if isinstance(node, list):
        return [u for v in node for u in uris(v)]
    return []
