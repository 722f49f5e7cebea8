"""Problems in the staff's language: Japanese by default, English on request.

The loader and the schema word every problem once, in English (logs, tests and
tools read that). Staff read `kb check`, the Slack modals and the App Home in
Japanese: each English form is matched here and said again in plain Japanese.
A message without a translation is shown in English rather than hidden.
"""

from __future__ import annotations

import re
from typing import Literal

from bot.knowledge.problems import Problem

__all__ = ["Lang", "say", "line", "SEVERITY", "FIELDS"]

Lang = Literal["ja", "en"]
SEVERITY = {"ja": {"error": "エラー", "warning": "警告"}, "en": {"error": "error", "warning": "warning"}}
FIELDS = {"phone": "電話番号", "hours": "受付時間", "aliases": "言い換え（aliases）", "examples": "質問の例（examples）"}


def _fields(text: str) -> str:
    return "と".join(FIELDS.get(w, w) for w in text.split(" and "))


_JA: tuple[tuple[re.Pattern[str], object], ...] = tuple((re.compile(p), t) for p, t in (
    (r"^window '(.+)' has no (.+) \((\d+) services refer to it\)$",
     lambda m: f"{m[1]}の窓口：{_fields(m[2])}が未設定です（{m[3]}件のサービスが参照）"),
    (r"^the general window '(.+)' has no (.+)$", lambda m: f"総合窓口（{m[1]}）：{_fields(m[2])}が未設定です"),
    (r"^phone '(.*)' is not a Japanese phone number .*$",
     lambda m: f"電話番号「{m[1]}」の形が正しくありません（例：042-495-5510、090-1234-5678、0120-123-456、#7119、内線 123）"),
    (r"^phone '(.*)' must start with 0 .*$", lambda m: f"電話番号「{m[1]}」は 0（市外局番）か #、内線で始めてください"),
    (r"^phone '(.*)' has (\d+) digits; a .* number has (\d+)$",
     lambda m: f"電話番号「{m[1]}」の桁数が {m[2]} 桁です（この種類の番号は {m[3]} 桁）"),
    (r"^url is too long \((\d+) > (\d+) characters\)$", lambda m: f"URL が長すぎます（{m[1]} 文字、上限 {m[2]}）"),
    (r"^url '(.*)' must start with https://.*$",
     lambda m: f"URL「{m[1]}」は https:// で始めてください（javascript: や http: は使えません）"),
    (r"^url '(.*)' has characters that must be percent-encoded.*$",
     lambda m: f"URL「{m[1]}」に、そのままでは使えない文字（空白・日本語・% など）があります。ブラウザのアドレス欄からコピーしてください"),
    (r"^url '(.*)' must not carry a user name or password$", lambda m: f"URL「{m[1]}」にユーザー名やパスワードを入れないでください"),
    (r"^url '(.*)' has no valid host name$", lambda m: f"URL「{m[1]}」の形が正しくありません"),
    (r"^fewer than (\d+) (\w+): residents will miss this service$",
     lambda m: f"{FIELDS.get(m[2], m[2])}が {m[1]} 個未満です：利用者がこのサービスにたどり着けないことがあります"),
    (r"^unknown department '(.+?)'(?: of (.+))?$", lambda m: f"部署 id「{m[1]}」が council.yaml にありません"),
    (r"^unknown category '(.+)'$", lambda m: f"カテゴリ「{m[1]}」が _common/categories.yaml にありません"),
    (r"^unknown hotline '(.+)'$", lambda m: f"相談先「{m[1]}」が safety.yaml の hotlines にありません"),
    (r"^unknown id: '(.+)'$", lambda m: f"関連サービス「{m[1]}」が見つかりません"),
    (r"^belongs to another council: '(.+)'$", lambda m: f"関連サービス「{m[1]}」は別の社協のものです"),
    (r"^duplicate (?:category |department )?id '(.+?)'(?: \(also in (.+)\))?$",
     lambda m: f"id「{m[1]}」が重複しています" + (f"（{m[2]} にもあります）" if m[2] else "")),
    (r"^council id '(.+)' must equal its folder name '(.+)'$", lambda m: f"社協の id「{m[1]}」はフォルダ名「{m[2]}」と同じにしてください"),
    (r"^id must start with '(.+)' \(this file is in (.+)\)$", lambda m: f"id は「{m[1]}」で始めてください（このファイルは {m[2]} にあります）"),
    (r"^id slug '(.+)' must equal the file name '(.+)'$", lambda m: f"id の後半「{m[1]}」はファイル名「{m[2]}」と同じにしてください"),
    (r"^'(.+)' is also a name of (.+): offered or not\?.*$",
     lambda m: f"「{m[1]}」は {m[2]} の名前でもあります。行っているのか、いないのか、どちらかが古くなっています"),
    (r"^missing required field '(.+)'$", lambda m: f"必須の項目「{m[1]}」がありません"),
    (r"^unknown field \(known: (.+)\)$", lambda m: f"知らない項目です（使える項目：{m[1]}）"),
    (r"^must be one of (.+) \(got (.+)\)$", lambda m: f"{m[1]} のどれかにしてください（いまは {m[2]}）"),
    (r"^must be (.+), not (\w+)(?: \(put quotes around it\))?$",
     lambda m: "文字として書いてください（数字だけなら \" で囲む）" if "text" in m[1] else f"形が違います（{m[1]} が必要）"),
    (r"^must not be empty$", lambda m: "空にできません"),
    (r"^is too long \((\d+) > (\d+) characters\)$", lambda m: f"長すぎます（{m[1]} 文字、上限 {m[2]}）"),
    (r"^'(.+)' does not match .+$", lambda m: f"「{m[1]}」は使えない形です（半角の小文字・数字・ハイフン）"),
    (r"^needs at least (\d+) items$", lambda m: f"{m[1]} 個以上必要です"),
    (r"^duplicate key$", lambda m: "同じ項目が二度書かれています"),
    (r"^file is empty$", lambda m: "ファイルが空です"),
    (r"^YAML syntax error: (.+)$", lambda m: f"YAML の書き方の誤り（{m[1]}）。字下げ・コロン・引用符を確かめてください"),
    (r"^cannot read file: (.+)$", lambda m: f"ファイルを読めません（{m[1]}）"),
    (r"^knowledge folder not found$", lambda m: "knowledge フォルダが見つかりません"),
    (r"^no council folder found$", lambda m: "社協のフォルダが一つもありません"),
))


def say(problem: Problem, *, lang: Lang = "ja") -> str:
    """The problem's message in `lang` (English when no translation fits)."""
    if lang == "en":
        return problem.message
    for pattern, render in _JA:
        m = pattern.match(problem.message)
        if m:
            return render(m)  # type: ignore[operator]
    return problem.message


def line(problem: Problem, *, lang: Lang = "ja") -> str:
    """`severity: file:line: field: message`, the message in `lang` (a window's line names no field)."""
    if lang == "en":
        return f"{SEVERITY[lang][problem.severity]}: {problem}"
    window = problem.message.startswith(("window '", "the general window '"))
    field = f"{problem.field}: " if problem.field and not window else ""
    return f"{SEVERITY[lang][problem.severity]}: {problem.file}:{problem.line}: {field}{say(problem, lang=lang)}"
