"""What remembering the conversation costs per message, beside answering it.

Every one-to-one LINE message is first read as a possible follow-up
(`Assistant.follow_up`); only short messages holding a follow-up word go
further. Prints medians of repeats for a question that is not a follow-up,
a follow-up, and a plain `ask`, and their ratio to `ask`; also the rich-menu
build time and image size per council.

    .venv/bin/python benchmarks/followup_bench.py [--repeats 7] [--n 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bot.assistant import Assistant
from bot.knowledge.loader import load_knowledge

QUESTIONS = ["一人暮らしの母の家の合鍵を預かってほしい", "給食サビース", "お金を借りたい", "くるまいす かりたい",
             "ボランティアをしてみたい", "認知症の父のお金の管理が心配です"]
FOLLOW_UPS = ["費用は？", "どこに申し込むの？", "電話番号は？", "ありがとうございました"]
SERVICE = "tomakomai/kyushoku-service"


def per_call(fn, items, n: int, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        for i in range(n):
            fn(items[i % len(items)])
        runs.append((time.perf_counter() - started) / n)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    a = Assistant(load_knowledge(None))
    ask = per_call(lambda q: a.ask("tomakomai", q), QUESTIONS, args.n // 10, args.repeats)
    miss = per_call(lambda q: a.follow_up("tomakomai", q, last_service=SERVICE), QUESTIONS, args.n, args.repeats)
    hit = per_call(lambda q: a.follow_up("tomakomai", q, last_service=SERVICE), FOLLOW_UPS, args.n, args.repeats)
    print(f"{'':28}{'median µs':>12}{'× ask':>8}")
    for name, t in (("ask (a new question)", ask), ("follow_up, not one", miss), ("follow_up, answered", hit)):
        print(f"{name:28}{t * 1e6:12.1f}{t / ask:8.3f}")
    try:
        from adapters.line.richmenu import build_menu

        for council in sorted(a.knowledge.councils):
            started = time.perf_counter()
            menu = build_menu(a.knowledge, council)
            took = time.perf_counter() - started
            print(f"rich menu {council:11} {took:6.2f} s  {len(menu.image) / 1024:6.0f} KB of 1024 KB  "
                  f"{len(menu.cells):2d} areas of 20")
    except Exception as e:  # no font or no Pillow: the core figures still stand
        print(f"rich menu: not built ({e})")


if __name__ == "__main__":
    main()
