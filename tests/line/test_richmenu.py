"""The rich menu: drawn with a Japanese font, uploaded to the fake API, made the default, idempotently."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qsl

import pytest
from PIL import Image

from adapters.line.postback import decode, encode
from adapters.line.richmenu import HEIGHT, IMAGE_MAX, WIDTH, FontMissing, build_menu, find_font
from bot.cli import main
from tests.line import webhook as wh
from tests.line.conftest import CHANNELS
from tests.line.fake_api import FakeLineAPI, image_errors

try:
    FONT = find_font()
except FontMissing as e:  # scripts/ci-services installs fonts-noto-cjk
    pytest.skip(str(e), allow_module_level=True)


@pytest.fixture()
def env(monkeypatch, fake_line: FakeLineAPI) -> FakeLineAPI:
    fake_line.clear()
    fake_line.menus.clear()
    fake_line.images.clear()
    fake_line.default_menu = None
    secret, token = CHANNELS["tomakomai"]
    monkeypatch.setenv("LINE_API_ENDPOINT", fake_line.url)
    monkeypatch.delenv("LINE_API_DATA_ENDPOINT", raising=False)  # api-data falls back to the same fake
    monkeypatch.setenv("LINE_CHANNEL_SECRET__TOMAKOMAI", secret)
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN__TOMAKOMAI", token)
    return fake_line


def run(*args: str) -> str:
    out = io.StringIO()
    assert main(["line", "richmenu", "--council", "tomakomai", *args], out=out) == 0
    return out.getvalue()


def test_every_councils_menu_fits_lines_limits_and_reaches_every_category(live):
    k = live.assistant.knowledge
    for council in sorted(k.councils):
        menu = build_menu(k, council)
        assert image_errors(menu.image, menu.content_type, {"width": WIDTH, "height": HEIGHT}) == []
        assert len(menu.image) <= IMAGE_MAX and len(menu.cells) <= 20
        used = {s.category for s in k.services_of(council) if s.audience == "resident" and s.status != "ended"}
        offered = {c.postback.id for c in menu.cells if c.postback.action == "cat"}
        has_more = any(c.postback.action == "menu" for c in menu.cells)
        assert offered == used or (has_more and offered < used), council
        assert [c.postback.action for c in menu.cells[:3]] == ["ho", "call", "sos"]
        covered = sum(c.width * c.height for c in menu.cells)
        assert all(0 <= c.x and c.x + c.width <= WIDTH and 0 <= c.y and c.y + c.height <= HEIGHT for c in menu.cells)
        boxes = [(c.x, c.y, c.x + c.width, c.y + c.height) for c in menu.cells]
        assert not any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
                       for i, a in enumerate(boxes) for b in boxes[i + 1:])  # no two areas overlap
        assert covered <= WIDTH * HEIGHT
    assert build_menu(k, "tomakomai").name == build_menu(k, "tomakomai").name  # deterministic


def test_the_menu_is_created_uploaded_and_made_default_once(env: FakeLineAPI):
    assert "created, now the default; 0 old menu(s) deleted" in run()
    [create] = env.on("/v2/bot/richmenu")
    assert create.authorization == f"Bearer {CHANNELS['tomakomai'][1]}" and create.spec_errors == []
    body = create.body
    assert body["size"] == {"width": WIDTH, "height": HEIGHT} and body["selected"] is True
    assert len(body["chatBarText"]) <= 14 and body["name"].startswith("madoguchi tomakomai ")
    for area in body["areas"]:
        pb = decode(area["action"]["data"])
        assert pb is not None and len(area["action"]["label"]) <= 20, area
    [menu_id] = env.menus
    [upload] = env.on(f"/v2/bot/richmenu/{menu_id}/content")
    assert upload.content_type == "image/png" and upload.errors == [] and env.images[menu_id] == upload.raw
    assert Image.open(io.BytesIO(upload.raw)).size == (WIDTH, HEIGHT)
    assert env.default_menu == menu_id

    env.clear()
    assert "unchanged, already the default; 0 old menu(s) deleted" in run()  # idempotent
    assert [r.method for r in env.requests] == ["GET", "GET"]  # the list and the default: nothing written
    assert list(env.menus) == [menu_id] and env.default_menu == menu_id


def test_a_changed_menu_replaces_and_deletes_the_old_one(env: FakeLineAPI):
    old = {"size": {"width": WIDTH, "height": HEIGHT}, "selected": True, "chatBarText": "メニュー",
           "name": "madoguchi tomakomai 0000000000000000", "areas": []}
    other = {**old, "name": "campaign 2026"}  # someone else's menu is left alone
    env.menus.update({"richmenu-old": {"richMenuId": "richmenu-old", **old},
                      "richmenu-other": {"richMenuId": "richmenu-other", **other}})
    env.images["richmenu-old"] = b"x"
    env.default_menu = "richmenu-old"
    assert "created, now the default; 1 old menu(s) deleted" in run()
    assert set(env.menus) - {"richmenu-other"} == {env.default_menu} and env.default_menu != "richmenu-old"
    assert [r.path for r in env.requests if r.method == "DELETE"] == ["/v2/bot/richmenu/richmenu-old"]


def test_the_menu_s_buttons_answer_over_the_webhook(line, fake_line, live):
    """Each area's postback, sent back as LINE would, gets a reply (category list, window, lines, consent)."""
    menu = build_menu(live.assistant.knowledge, "tomakomai")
    for cell in (*menu.cells[:3], menu.cells[3]):
        data = encode(cell.postback)
        fake_line.clear()
        line.send("tomakomai", event := wh.postback(data))
        fake_line.wait_for(1)
        line.settle()
        [rec] = fake_line.replies()
        assert rec.body["replyToken"] == event["replyToken"] and rec.errors == [], cell.text
        sent = json.dumps(rec.messages, ensure_ascii=False)
        if cell.postback.action == "sos":
            assert "tel:119" in sent and "tel:110" in sent
        if cell.postback.action == "cat":
            assert dict(parse_qsl(rec.messages[0]["quickReply"]["items"][0]["action"]["data"]))["a"] == "svc"
