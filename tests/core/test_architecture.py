"""`bot/` imports no adapter and no network library: checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
FORBIDDEN = {
    "adapters", "starlette", "uvicorn", "httpx", "aiohttp", "requests", "urllib3", "linebot",
    "slack_bolt", "slack_sdk", "socket", "http", "urllib", "redis", "psycopg", "asyncio",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_adapter_or_network_library() -> None:
    files = sorted(BOT.rglob("*.py"))
    assert len(files) > 10
    offenders = {str(f.relative_to(BOT)): sorted(_imports(f) & FORBIDDEN) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_modules_stay_small() -> None:
    sizes = {f.name: len(f.read_text(encoding="utf-8").splitlines()) for f in BOT.rglob("*.py")}
    assert max(sizes.values()) <= 400, sizes
