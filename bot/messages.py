"""The bot's own sentences (not facts about any service), in plain Japanese."""

from __future__ import annotations

__all__ = ["M"]


class M:
    choices = "いくつか当てはまりそうなサービスがあります。近いものを選んでください。"
    no_match = "ごめんなさい。お問い合わせに合うサービスが見つかりませんでした。"
    not_offered = "「{topic}」は、{council}では行っていないようです。"
    not_offered_generic = "お探しのサービスは、{council}では行っていないようです。"
    maybe = "もしかして、次のどれかでしょうか。"
    ask_window = "{council}の相談窓口にお気軽にお問い合わせください。"
    empty = "こんにちは。{council}のサービスについて、知りたいことを短い言葉で送ってください。"
    menu = "知りたいことに近いものを選んでください。"
    category_menu = "「{category}」のサービスです。近いものを選んでください。"
    picked_unknown = "そのサービスは見つかりませんでした。"
    emergency_window = "落ち着いたら、{council}にもご相談ください。"
    status = {
        "ended": "このサービスは終了しています。",
        "paused": "このサービスは今お休みしています。",
        "planned": "このサービスは準備中です。",
    }
    no_phone = "お問い合わせは社協の窓口へ。"  # no number known: never a dead 「準備中」 line
    see_web = "詳しくは：{url}"
