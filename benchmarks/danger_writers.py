"""The whole safety check across writers: each corpus writer judged by the bot built without them.

`danger_calibration.py` judges writers with a detector built as the calibration
builds it (one kind, "danger"). This builds what residents meet: for each writer
named in `_common/crisis/` (`writer:`), the `Assistant` on the bundled knowledge
minus that writer's messages, its kinds, wordings and situation reading
included; every message of the writer is then encoded as a resident's message
is and checked at each emergency line given. One build serves every line (the
line moves no reading). Prints, per line, the mean over writers of recall,
look-alike alarms (small talk included), small talk and worries answered as
emergencies, and pooled counts, with recall per kind.

    .venv/bin/python benchmarks/danger_writers.py [--lines 0.0055,0.0045] [--writers a,b]

About 25 minutes on one core for the 31 writers (the messages are encoded as
sent: long ones cut as `Assistant.encode` cuts them, so not from the cache).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.assistant import Assistant  # noqa: E402
from bot.knowledge.loader import default_root, load_knowledge  # noqa: E402
from bot.retrieval.encoder import load_encoder  # noqa: E402
from bot.retrieval.vectors import open_vectors  # noqa: E402
from bot.safety.check import DangerCheck  # noqa: E402
from bot.settings import MatchSettings  # noqa: E402
from danger_calibration import rows_of, small_talk, writers  # noqa: E402  (the corpus read by writer, as there)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", default="", help="emergency lines to judge at, comma-separated (default: configured)")
    ap.add_argument("--writers", default="", help="only these writers, comma-separated")
    args = ap.parse_args()
    knowledge = load_knowledge(default_root())
    status = load_encoder()
    if not status.on:
        print(f"the encoder is off: {status.reason}")
        return 1
    cache = open_vectors(knowledge.root, status.encoder, read_only=True)  # never rewrite the committed cache
    assert cache is not None
    files = writers(sorted((Path(knowledge.root) / "_common" / "crisis").glob("*.yaml")))
    chosen = [w for w in args.writers.split(",") if w] or list(files)
    configured = MatchSettings().danger_emergency  # as the bot is built (Assistant's default settings)
    lines = [float(x) for x in args.lines.split(",") if x] or [configured]
    # hits[line][writer][level] = [emergency?]; kinds[line][kind] = Counter(n, caught)
    hits: dict[float, dict[str, dict[str, list[bool]]]] = {t: defaultdict(lambda: defaultdict(list)) for t in lines}
    kinds: dict[float, dict[str, Counter[str]]] = {t: defaultdict(Counter) for t in lines}
    previous = None
    for writer in chosen:
        rows = rows_of(files[writer])
        own = {r.text for r in rows}
        rest = replace(knowledge, crisis=tuple(e for e in knowledge.crisis if e.text.strip() not in own))
        a = Assistant(rest, vectors=cache, previous=previous)
        previous = a
        checks = {t: DangerCheck(rest, a.language, detector=a._safety.detector,
                                 settings=replace(a.settings, danger_emergency=t), encode=a.encode) for t in lines}
        for r in rows:
            q, vector = a.analyze(r.text), a.encode(r.text)
            for t, check in checks.items():
                verdict = check.check(q, vector)
                emergency = verdict is not None and verdict.level == "emergency"
                hits[t][writer][r.level].append(emergency)  # small talk counts among the look-alikes too
                if small_talk(r):
                    hits[t][writer]["talk"].append(emergency)
                if r.level == "danger":
                    kinds[t][r.kind].update(n=1, caught=emergency)
        print(f"  {writer}: {len(rows)} messages", file=sys.stderr, flush=True)
    for t in lines:
        report(t, hits[t], kinds[t], configured=t == configured)
    return 0


def report(line: float, hits: dict[str, dict[str, list[bool]]], kinds: dict[str, Counter[str]], *,
           configured: bool) -> None:
    both = [w for w, h in hits.items() if h["danger"] and h["calm"]]

    def mean_over(level: str) -> float:
        rates = [sum(hits[w][level]) / len(hits[w][level]) for w in both if hits[w][level]]
        return sum(rates) / len(rates) if rates else float("nan")

    def pooled(level: str) -> str:
        xs = [x for h in hits.values() for x in h[level]]
        return f"{sum(xs)} of {len(xs)}"

    print(f"\nline {line}{' (configured)' if configured else ''}: {len(both)} writers with danger and look-alikes")
    print(f"  mean over writers: recall {mean_over('danger'):.4f}  look-alike alarms {mean_over('calm'):.4f}  "
          f"small talk {mean_over('talk'):.4f}  worries as emergencies {mean_over('concern'):.4f}")
    print(f"  pooled: danger {pooled('danger')}  look-alikes {pooled('calm')}  small talk {pooled('talk')}  "
          f"worries {pooled('concern')}")
    print("  recall by kind (pooled): " + ", ".join(
        f"{k} {c['caught']}/{c['n']}" for k, c in sorted(kinds.items(), key=lambda kc: kc[1]["caught"] / kc[1]["n"])))
    for w in hits:
        h = hits[w]
        cells = [f"{lv} {sum(h[lv])}/{len(h[lv])}" for lv in ("danger", "calm", "talk", "concern") if h[lv]]
        print(f"    {w:<14} " + "  ".join(cells))


if __name__ == "__main__":
    raise SystemExit(main())
