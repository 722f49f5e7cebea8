"""Calibrate and check the danger detector: leave-one-out over its corpus, and across writers.

The detector's thresholds (`MatchSettings.danger_emergency`, `danger_concern`) are
set here, never on the held-out sets. For the detector as configured, and side by
side for its meaning alone (sentence vectors, no wording), this prints:

- leave-one-out over the whole corpus: how far danger and ordinary messages read
  as danger, and the thresholds that give 3 % and 15 % false alarms on look-alikes;
- across writers: a detector built from one writer's files (plus the knowledge's
  examples) judging another writer's, at its own leave-one-out threshold — the
  nearest thing to messages nobody wrote the corpus for.

    .venv/bin/python benchmarks/danger_calibration.py [--writer danger_e.yaml,lookalike_b.yaml]

`--writer` names the files of one writer in `_common/crisis/`; the others are the rest.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.knowledge.loader import default_root, load_knowledge  # noqa: E402
from bot.knowledge.model import CrisisExample  # noqa: E402
from bot.knowledge.yamlfile import read_yaml  # noqa: E402
from bot.language.normalize import fold  # noqa: E402
from bot.retrieval.encoder import load_encoder  # noqa: E402
from bot.retrieval.vectors import VectorCache, open_vectors  # noqa: E402
from bot.safety.detector import DangerDetector  # noqa: E402
from bot.safety.wording import Wording  # noqa: E402
from bot.settings import MatchSettings  # noqa: E402


@dataclass(frozen=True)
class Row:
    text: str
    level: str  # danger | concern | calm | example


def rows_of(files: list[Path]) -> list[Row]:
    out = []
    for path in files:
        doc, _ = read_yaml(path)
        data = (doc.data if doc else None) or {}
        for section, level in (("danger", "danger"), ("concern", "concern"), ("lookalike", "calm")):
            out += [Row(item["text"].strip(), level) for item in data.get(section) or ()]
    return out


def detector(rows: list[Row], cache: VectorCache, settings: MatchSettings) -> DangerDetector:
    danger = [r for r in rows if r.level == "danger"]
    ordinary = [r for r in rows if r.level != "danger"]
    wording = Wording([fold(r.text) for r in danger], [fold(r.text) for r in ordinary])
    return DangerDetector([CrisisExample(r.text, "danger") for r in danger], cache.queries([r.text for r in danger]),
                          cache.queries([r.text for r in ordinary]), wording=wording,
                          wording_weight=settings.danger_wording, k=settings.danger_k, tau=settings.danger_tau)


def leave_one_out(rows: list[Row], det: DangerDetector, cache: VectorCache) -> dict[str, np.ndarray]:
    """Each corpus message's margin with itself left out, by level."""
    danger = [r for r in rows if r.level == "danger"]
    ordinary = [r for r in rows if r.level != "danger"]
    out: dict[str, list[float]] = {}
    for i, (r, v) in enumerate(zip(danger, cache.queries([r.text for r in danger]))):
        out.setdefault("danger", []).append(det.read(v, fold(r.text), skip_danger=i).margin)
    for i, (r, v) in enumerate(zip(ordinary, cache.queries([r.text for r in ordinary]))):
        out.setdefault(r.level, []).append(det.read(v, fold(r.text), skip_ordinary=i).margin)
    return {k: np.asarray(v) for k, v in out.items()}


def judged(rows: list[Row], det: DangerDetector, cache: VectorCache) -> dict[str, np.ndarray]:
    out: dict[str, list[float]] = {}
    for r, v in zip(rows, cache.queries([r.text for r in rows])):
        out.setdefault(r.level, []).append(det.read(v, fold(r.text)).margin)
    return {k: np.asarray(v) for k, v in out.items()}


def rate(values: np.ndarray | None, threshold: float) -> str:
    return "  –  " if values is None or not len(values) else f"{float(np.mean(values >= threshold)):.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--writer", default="danger_e.yaml,lookalike_b.yaml")
    args = ap.parse_args()
    knowledge = load_knowledge(default_root())
    encoder = load_encoder()
    if not encoder.on:
        sys.exit(f"the encoder is off: {encoder.reason}")
    cache = open_vectors(knowledge.root, encoder.encoder)
    assert cache is not None
    cache.path = None  # never rewrite the committed cache from here
    folder = Path(knowledge.root) / "_common" / "crisis"
    files = sorted(folder.glob("*.yaml"))
    one = [f for f in files if f.name in args.writer.split(",")]
    rest = [f for f in files if f not in one]
    examples = [Row(e, "example") for e in dict.fromkeys(
        e for s in knowledge.services.values() if s.audience == "resident" for e in s.examples)]
    configured = MatchSettings()
    systems = {"meaning + wording (configured)": configured,
               "meaning alone": replace(configured, danger_wording=0.0)}
    everything = rows_of(files) + examples
    for name, settings in systems.items():
        print(f"\n== {name}: τ {settings.danger_tau}, wording ×{settings.danger_wording}")
        loo = leave_one_out(everything, detector(everything, cache, settings), cache)
        t3, t15 = (float(np.quantile(loo["calm"], q)) for q in (0.97, 0.85))
        print(f"leave-one-out over {len(everything)} messages: look-alikes 3 % above {t3:+.4f}, 15 % above {t15:+.4f}")
        for t, label in ((settings.danger_emergency, "danger_emergency"), (settings.danger_concern, "danger_concern"),
                         (t3, "3 % threshold")):
            print(f"  at {t:+.4f} ({label}): danger {rate(loo['danger'], t)}  look-alikes {rate(loo['calm'], t)}"
                  f"  concern {rate(loo.get('concern'), t)}  examples {rate(loo['example'], t)}")
        for train, held, label in ((rest, one, "others → writer"), (one, rest, "writer → others")):
            rows = rows_of(train) + examples
            det = detector(rows, cache, settings)
            t = float(np.quantile(leave_one_out(rows, det, cache)["calm"], 0.97))
            got = judged(rows_of(held), det, cache)
            print(f"  across writers, {label}: threshold {t:+.4f}: danger recall {rate(got.get('danger'), t)}"
                  f"  look-alike false alarms {rate(got.get('calm'), t)}  concern {rate(got.get('concern'), t)}")


if __name__ == "__main__":
    main()
