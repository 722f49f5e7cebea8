"""Staff edit benchmark: what one 保存 from Slack costs on the five councils' knowledge.

Steps timed separately (medians of repeats), on a scratch copy so nothing real
is touched: the ruamel.yaml round trip of one service file, `apply` (copy the
folder, check the whole knowledge with the edit, write), the reload that
follows, and the git commit. Also prints `kb check` lines before and after
grouping windows (one warning per service vs one per window).

    .venv/bin/python benchmarks/edit_bench.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bot.cli import main
from bot.knowledge.commit import commit_edit
from bot.knowledge.edit import add_wording, apply
from bot.knowledge.live import LiveKnowledge
from bot.knowledge.loader import check_knowledge, default_root


def _ms(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), out


def main_() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "knowledge"
        shutil.copytree(default_root(), root)
        subprocess.run(["git", "-C", tmp, "init", "-q"], check=True)
        subprocess.run(["git", "-C", tmp, "add", "."], check=True)
        subprocess.run(["git", "-C", tmp, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "s"], check=True)
        k = check_knowledge(root).knowledge
        sid = sorted(k.services)[len(k.services) // 2]
        n = iter(range(1_000_000))
        trip, _ = _ms(lambda: add_wording(root, sid, field="examples", text=f"言い方{next(n)}"), args.repeats)
        check, _ = _ms(lambda: apply(root, [add_wording(root, sid, field="examples", text=f"言い方{next(n)}")]),
                       args.repeats)
        live = LiveKnowledge(root)
        reload, _ = _ms(live.reload, args.repeats)
        rel = f"{sid.replace('/', '/services/')}.yaml"
        commit, _ = _ms(lambda: (apply(root, [add_wording(root, sid, field="aliases", text=f"別名{next(n)}")]),
                                 commit_edit(root, [rel], author="bench", author_id="U0", message="bench")),
                        args.repeats)
        print(f"knowledge: {len(k.councils)} councils, {len(k.services)} services; edited {sid}")
        print(f"{'step':<34}{'median ms':>10}")
        print(f"{'round trip (one file)':<34}{trip:>10.1f}")
        print(f"{'apply (copy + check all + write)':<34}{check:>10.1f}")
        print(f"{'reload':<34}{reload:>10.1f}")
        print(f"{'apply + git commit':<34}{commit:>10.1f}")
        print(f"{'one save, in all (apply+reload+commit)':<34}{commit + reload:>10.1f}")
        out = io.StringIO()
        main(["kb", "check", str(root)], out=out)
        before = sum(len(s.contact.missing) for s in k.services.values() if s.audience == "resident")
        now = len(out.getvalue().splitlines())
        print(f"kb check lines: {now} now vs {before} before (a line per service and missing field), "
              f"{before / now:.1f}x fewer")


if __name__ == "__main__":
    main_()
