"""`python -m bot line richmenu --council X`: build the rich menu and make it the channel's default.

Registered as a `madoguchi.commands` entry point (the core never imports
adapters). Credentials come from the environment as for `serve`
(LINE_CHANNEL_ACCESS_TOKEN__<COUNCIL>, LINE_API_ENDPOINT,
LINE_API_DATA_ENDPOINT). Safe to run again: an unchanged menu is left as it
is; a changed one replaces the old, which is deleted.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

__all__ = ["register", "install", "Installed"]


@dataclass
class Installed:
    menu_id: str
    created: bool
    default_changed: bool
    deleted: list[str] = field(default_factory=list)


def install(menu, *, token: str, endpoint: str, data_endpoint: str) -> Installed:
    """Create (or find) `menu`, upload its image, set it as default, delete our older menus."""
    from linebot.v3.messaging import (
        ApiClient,
        Configuration,
        MessagingApi,
        MessagingApiBlob,
        RichMenuRequest,
    )
    from linebot.v3.messaging.exceptions import ApiException

    from adapters.line.richmenu import NAME_PREFIX

    ours = f"{NAME_PREFIX} {menu.council} "
    with ApiClient(Configuration(host=endpoint.rstrip("/"), access_token=token)) as api_client, \
            ApiClient(Configuration(host=data_endpoint.rstrip("/"), access_token=token)) as data_client:
        api, blob = MessagingApi(api_client), MessagingApiBlob(data_client)
        menus = api.get_rich_menu_list().richmenus or []
        existing = next((m.rich_menu_id for m in menus if m.name == menu.name), None)
        created = existing is None
        menu_id = existing
        if menu_id is None:
            request = RichMenuRequest.from_dict({**menu.body, "name": menu.name})
            menu_id = api.create_rich_menu(request).rich_menu_id
            blob.set_rich_menu_image(menu_id, body=menu.image, _headers={"Content-Type": menu.content_type})
        try:
            current = api.get_default_rich_menu_id().rich_menu_id
        except ApiException as e:
            if e.status != 404:  # 404: no default yet
                raise
            current = None
        if current != menu_id:
            api.set_default_rich_menu(menu_id)
        deleted = []
        for m in menus:
            if m.name and m.name.startswith(ours) and m.rich_menu_id != menu_id:
                api.delete_rich_menu(m.rich_menu_id)
                deleted.append(m.rich_menu_id)
    return Installed(menu_id, created, current != menu_id, deleted)


def _richmenu(args: argparse.Namespace, out: TextIO) -> int:
    import sys

    from adapters.config import Config
    from adapters.line.richmenu import FontMissing, build_menu
    from bot.knowledge.loader import load_knowledge

    knowledge = load_knowledge(args.knowledge)
    if args.council not in knowledge.councils:
        sys.stderr.write(f"unknown council {args.council!r} (known: {', '.join(sorted(knowledge.councils))})\n")
        return 2
    try:
        menu = build_menu(knowledge, args.council, font=args.font)
    except FontMissing as e:
        sys.stderr.write(f"{e}\n")
        return 2
    if args.image:
        args.image.write_bytes(menu.image)
        out.write(f"wrote {args.image} ({len(menu.image)} bytes, {menu.content_type})\n")
    if args.dry_run:
        out.write(f"{menu.name}: {len(menu.cells)} areas; not uploaded (--dry-run)\n")
        return 0
    config = Config.from_env(sorted(knowledge.councils), os.environ)
    channel = config.line.get(args.council)
    if channel is None:
        sys.stderr.write(f"no LINE channel for {args.council}: set LINE_CHANNEL_SECRET__{args.council.upper()} "
                         f"and LINE_CHANNEL_ACCESS_TOKEN__{args.council.upper()}\n")
        return 2
    from linebot.v3.messaging.exceptions import ApiException

    try:
        done = install(menu, token=channel.token, endpoint=config.line_api, data_endpoint=config.line_api_data)
    except ApiException as e:
        sys.stderr.write(f"LINE refused the rich menu: {e.status} {str(e.body or e.reason)[:300]}\n")
        return 1
    what = "created" if done.created else "unchanged"
    out.write(f"{args.council}: rich menu {done.menu_id} {what}, "
              f"{'now the default' if done.default_changed else 'already the default'}; "
              f"{len(done.deleted)} old menu(s) deleted\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    line = sub.add_parser("line", help="LINE channel tools").add_subparsers(dest="line_command", required=True)
    p = line.add_parser("richmenu", help="build the council's rich menu, upload it and make it the default")
    p.add_argument("--council", required=True, help="council id (folder name in knowledge/)")
    p.add_argument("--font", type=Path, help="a font with Japanese glyphs (default: MADOGUCHI_FONT, then "
                                             "Debian's fonts-noto-cjk)")
    p.add_argument("--image", type=Path, help="also write the image to this file")
    p.add_argument("--dry-run", action="store_true", help="build only; upload nothing")
    p.set_defaults(func=_richmenu)
