"""Phone numbers and web addresses: what staff may write, and what renderers may link."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from bot.knowledge.contacts import phone_problem, safe_url, url_problem
from bot.knowledge.loader import check_knowledge

FIXTURE = Path(__file__).parents[1] / "fixtures" / "knowledge"

GOOD_PHONES = ["042-495-5510", "0144-32-7111", "03-1234-5678", "0144(32)7111", "090-1234-5678", "0120-123-456",
               "0570-000-123", "0800-123-4567", "#7119", "#8008", "内線 123", "042-495-5510（内線 12）",
               "042-495-5510 内線123", "042-495-5510（代表）", "０４２－４９５－５５１０", "0424955510"]
BAD_PHONES = ["12345", "042-495-551", "090-1234-567", "0120-123-4567", "電話してください", "042-495-5510 または 5511",
              "#71190", "tel:0424955510", "42-495-5510", "javascript:alert(1)"]
GOOD_URLS = ["https://www.example.jp/", "https://example.jp/a/b?x=1&y=%E3%81%82#top", "https://shakyo.example.jp:8443/p"]
BAD_URLS = ["javascript:alert(1)", "JavaScript:alert(1)", "http://example.jp/", "https://example.jp/窓口",
            "https://example.jp/a b", "https://example.jp/%zz", "https://user:pw@example.jp/", "https:///path",
            "https://-bad-.jp/", "example.jp", "https://example.jp/\"onmouseover", "https://example.jp/" + "a" * 1000,
            "data:text/html,<script>", "https://exa mple.jp/"]


@pytest.mark.parametrize("phone", GOOD_PHONES)
def test_phone_formats_staff_write_are_accepted(phone: str) -> None:
    assert phone_problem(phone) is None


@pytest.mark.parametrize("phone", BAD_PHONES)
def test_phone_that_cannot_be_dialled_is_refused(phone: str) -> None:
    assert phone_problem(phone)


@pytest.mark.parametrize("url", GOOD_URLS)
def test_https_urls_properly_encoded_are_accepted(url: str) -> None:
    assert url_problem(url) is None and safe_url(url) == url


@pytest.mark.parametrize("url", BAD_URLS)
def test_unsafe_or_unencoded_urls_are_refused(url: str) -> None:
    assert url_problem(url) and safe_url(url) is None


_LINE_URI = re.compile(r"^https://[A-Za-z0-9.\-]+(?::\d+)?(?:[/?#][\x21-\x7e]*)?$")


@given(st.text(max_size=60) | st.builds(lambda s: "https://" + s, st.text(max_size=60)))
def test_a_safe_url_is_always_an_ascii_https_uri_line_accepts(text: str) -> None:
    url = safe_url(text)
    assert url is None or (_LINE_URI.match(url) and len(url) <= 1000 and not set(url) & set(" <>\"\\^`{|}"))


def test_kb_check_rejects_javascript_and_bad_phone_with_file_and_line(tmp_path: Path) -> None:
    kb = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, kb)
    council = kb / "minato/council.yaml"
    text = council.read_text(encoding="utf-8")
    council.write_text(text.replace("  - id: chiiki\n", "  - id: chiiki\n    url: javascript:alert(1)\n    phone: \"123\"\n"),
                       encoding="utf-8")
    service = kb / "minato/services/salon.yaml"
    service.write_text(service.read_text(encoding="utf-8").replace(
        "contact:\n", "contact:\n  url: https://example.jp/サロン\n"), encoding="utf-8")
    result = check_knowledge(kb)
    assert result.knowledge is None
    lines = {(p.file, p.line, p.field): p.message for p in result.errors}
    line = text.splitlines().index("  - id: chiiki") + 2  # the url line inserted under it
    assert "javascript:" in lines[("knowledge/minato/council.yaml", line, "departments.1.url")]
    assert "not a Japanese phone number" in lines[("knowledge/minato/council.yaml", line + 1, "departments.1.phone")]
    assert any(f == "knowledge/minato/services/salon.yaml" and fld == "contact.url" and "percent-encoded" in m
               for (f, _, fld), m in lines.items())
