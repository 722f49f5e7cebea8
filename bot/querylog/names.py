"""Personal names in free text, found by Sudachi's part of speech (名詞,固有名詞,人名).

山田太郎, ヤマダタロウ and 佐藤さん are tagged 人名 (姓 or 名) by the core
dictionary. Only runs of Japanese script are analysed, so a long English log
line or a traceback costs nothing. One Sudachi tokenizer per thread (it is
not thread-safe), from the core's own Sudachi dictionary: a second one maps the
file again, 77 MB more resident memory to count, though the pages are shared.
"""

from __future__ import annotations

import re
import threading

__all__ = ["mask_names", "NAME_MASK"]

NAME_MASK = "〈氏名〉"
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f々〆ヵヶー]{2,}")
_MAX_RUN = 2_000  # Sudachi's input is bounded; longer runs are analysed in pieces
_local = threading.local()


def _tokenizer():
    tok = getattr(_local, "tok", None)
    if tok is None:
        from sudachipy import SplitMode

        from bot.language.tokens import default_tokenizer

        tok = _local.tok = default_tokenizer().dictionary.tokenizer(mode=SplitMode.C)
    return tok


def _mask_run(run: str) -> str:
    out, masked = [], False
    for m in _tokenizer().tokenize(run):
        pos = m.part_of_speech()
        if pos[1] == "固有名詞" and pos[2] == "人名":
            if not masked:  # 山田|太郎 → one mask
                out.append(NAME_MASK)
            masked = True
            continue
        masked = False
        out.append(m.surface())
    return "".join(out)


def mask_names(text: str) -> str:
    """`text` with every personal name replaced by 〈氏名〉."""
    def one(match: re.Match[str]) -> str:
        run = match.group()
        return "".join(_mask_run(run[i:i + _MAX_RUN]) for i in range(0, len(run), _MAX_RUN))

    return _JAPANESE.sub(one, text)
