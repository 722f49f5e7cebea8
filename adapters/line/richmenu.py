"""The rich menu: a menu that stays below the chat, built from the council's categories.

`python -m bot line richmenu --council X` draws the image with Pillow and a
Japanese font, uploads it through the Messaging API (the image to the
api-data host) and makes it the channel's default. It is idempotent: the
menu's name carries a digest of its layout and image, so a second run finds
the same menu and changes nothing, and a changed menu replaces the old one
(which is then deleted).

Layout (2500×1686, LINE's large size): a top row of 相談したい, 電話 and
緊急のとき; below, up to 16 category buttons in four columns (with more
categories, the last button opens the full menu). LINE's limits: JPEG or
PNG, at most 1 MB, at most 20 areas, chat-bar text at most 14 characters.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from adapters.line.postback import Postback, encode
from adapters.line.texts import T
from bot.answer import label
from bot.knowledge.model import Knowledge

__all__ = ["Cell", "RichMenu", "build_menu", "find_font", "FontMissing", "WIDTH", "HEIGHT", "IMAGE_MAX"]

WIDTH, HEIGHT = 2500, 1686
TOP = 520  # height of the row of the three fixed buttons
COLUMNS, ROWS = 4, 4
IMAGE_MAX = 1024 * 1024
NAME_PREFIX = "madoguchi"
FONT_CANDIDATES = (  # Debian's fonts-noto-cjk (JP is face 0 of the collection)
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc",
)
_FIXED = (  # (text, postback, background)
    (T.menu_person, Postback("ho"), "#06C755"),
    (T.menu_call, Postback("call"), "#2F6DB5"),
    (T.menu_sos, Postback("sos"), "#C0392B"),
)


class FontMissing(RuntimeError):
    """No font that can draw Japanese."""


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    postback: Postback
    x: int
    y: int
    width: int
    height: int
    background: str = "#F4F6F8"
    color: str = "#1F2A37"


@dataclass(frozen=True, slots=True)
class RichMenu:
    council: str
    cells: tuple[Cell, ...]
    image: bytes
    content_type: str

    @property
    def body(self) -> dict:
        """The create-rich-menu request (without its name)."""
        return {
            "size": {"width": WIDTH, "height": HEIGHT},
            "selected": True,
            "chatBarText": T.menu_bar,
            "areas": [{"bounds": {"x": c.x, "y": c.y, "width": c.width, "height": c.height},
                       "action": {"type": "postback", "label": label(c.text), "data": encode(c.postback),
                                  "displayText": c.text}} for c in self.cells],
        }

    @property
    def name(self) -> str:
        """`madoguchi <council> <digest>`: equal menus have equal names (≤300 characters)."""
        digest = hashlib.sha256(json.dumps(self.body, sort_keys=True).encode() + self.image).hexdigest()[:16]
        return f"{NAME_PREFIX} {self.council} {digest}"


def find_font(explicit: str | None = None) -> Path:
    """MADOGUCHI_FONT, else Debian's Noto Sans CJK; `FontMissing` says how to install one."""
    for candidate in (explicit, os.environ.get("MADOGUCHI_FONT"), *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing("no Japanese font found: install Debian's fonts-noto-cjk "
                      "(apt-get install fonts-noto-cjk) or set MADOGUCHI_FONT to a .ttf/.otf/.ttc file")


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(str(path), size=size, index=0)
    if font.getmask("相").getbbox() == font.getmask("\ue000").getbbox():  # 相 drawn as the missing-glyph box
        raise FontMissing(f"{path} has no Japanese glyphs")
    return font


def _layout(knowledge: Knowledge, council: str) -> tuple[Cell, ...]:
    used = {s.category for s in knowledge.services_of(council) if s.audience == "resident" and s.status != "ended"}
    categories = [c for c in knowledge.categories.values() if c.id in used and c.audience == "resident"]
    slots = COLUMNS * ROWS
    if len(categories) > slots:
        shown = [(c.label, Postback("cat", id=c.id)) for c in categories[: slots - 1]] + [(T.menu, Postback("menu"))]
    else:
        shown = [(c.label, Postback("cat", id=c.id)) for c in categories]
    third = WIDTH // 3
    cells = [Cell(text, pb, i * third, 0, (WIDTH - 2 * third) if i == 2 else third, TOP, bg, "#FFFFFF")
             for i, (text, pb, bg) in enumerate(_FIXED)]
    rows = max(1, -(-len(shown) // COLUMNS))
    cell_w, cell_h = WIDTH // COLUMNS, (HEIGHT - TOP) // rows
    for i, (text, pb) in enumerate(shown):
        r, c = divmod(i, COLUMNS)
        w = WIDTH - c * cell_w if c == COLUMNS - 1 else cell_w
        h = HEIGHT - TOP - r * cell_h if r == rows - 1 else cell_h
        cells.append(Cell(text, pb, c * cell_w, TOP + r * cell_h, w, h))
    return tuple(cells)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, *, by_char: bool) -> list[str]:
    """Lines within `width`: one if it fits, else split after a 「・」 or 「の」; by character only if `by_char`."""
    if font.getlength(text) <= width:
        return [text]
    splits = [i + 1 for i, ch in enumerate(text[:-1]) if ch in "・の"]
    fitting = [(max(font.getlength(text[:i]), font.getlength(text[i:])), i) for i in splits
               if font.getlength(text[:i]) <= width and font.getlength(text[i:]) <= width]
    if fitting:
        i = min(fitting)[1]
        return [text[:i], text[i:]]
    if not by_char:
        return []
    lines, line = [], ""
    for ch in text:
        if line and font.getlength(line + ch) > width:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def _draw(cells: tuple[Cell, ...], font_path: Path) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), "#FFFFFF")
    draw = ImageDraw.Draw(image)
    for cell in cells:
        draw.rectangle([cell.x, cell.y, cell.x + cell.width - 1, cell.y + cell.height - 1], fill=cell.background,
                       outline="#D0D5DB", width=4)
        pad = 40
        sizes = (120 if cell.y == 0 else 84, 72, 64, 56, 48, 40)
        # the largest size that fits in two lines split between words, else split anywhere
        for size, by_char in [(s, False) for s in sizes] + [(s, True) for s in sizes]:
            font = _font(font_path, size)
            lines = _wrap(cell.text, font, cell.width - 2 * pad, by_char=by_char)
            if 0 < len(lines) <= 2 and len(lines) * size * 1.3 <= cell.height - pad:
                break
        total = len(lines) * size * 1.3
        y = cell.y + (cell.height - total) / 2
        for line in lines:
            draw.text((cell.x + cell.width / 2, y + size * 0.65), line, font=font, fill=cell.color, anchor="mm")
            y += size * 1.3
    return image


def _encode(image: Image.Image) -> tuple[bytes, str]:
    """PNG (flat colours compress well); JPEG if a PNG would be over LINE's 1 MB."""
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    if out.tell() <= IMAGE_MAX:
        return out.getvalue(), "image/png"
    for quality in (90, 80, 70, 60):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality)
        if out.tell() <= IMAGE_MAX:
            return out.getvalue(), "image/jpeg"
    raise ValueError("rich-menu image over 1 MB even as JPEG")


def build_menu(knowledge: Knowledge, council: str, *, font: Path | None = None) -> RichMenu:
    """The council's menu: areas and image, deterministic for the same knowledge and font."""
    knowledge.councils[council]  # KeyError for an unknown council, before any drawing
    cells = _layout(knowledge, council)
    image, content_type = _encode(_draw(cells, find_font(str(font) if font else None)))
    return RichMenu(council, cells, image, content_type)
