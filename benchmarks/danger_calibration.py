"""Calibrate and check the danger detector: leave-one-out over its corpus, and across writers.

The detector's thresholds (`MatchSettings.danger_emergency`, `danger_concern`) are
set here, never on the held-out sets. For the detector as configured, and side by
side for its meaning alone (sentence vectors, no wording), this prints:

- leave-one-out over the whole corpus: how far danger and ordinary messages read
  as danger, and the thresholds that give 3 % and 15 % false alarms on look-alikes;
- leave-writer-out: for each writer, a detector built from every other writer's
  files (plus the knowledge's examples, always on the ordinary side) judges that
  writer's files, with its emergency threshold set by leave-one-out on its own
  training side (3 % and 4 % of look-alikes) — the nearest thing to messages nobody wrote
  the corpus for. Each row gives danger recall and look-alike false alarms of the
  whole check (term rules and detector, as `DangerCheck` decides), the share of
  those false alarms the term rules raised, the detector alone, and false alarms
  on small talk (look-alikes of topic everyday, counted apart) and worries answered
  as emergencies; then the mean over writers who wrote both danger and look-alikes,
  and the same with messages read whole only (without the situation's reading,
  `bot.safety.situation`);
- the whole check as configured on tests/eval/crisis and crisis2 (held out from
  the corpus, but already used in tuning: an extra check, not the measure);
- urgency across writers: of each writer's danger messages and worries that the
  detector built from the others reads as an emergency, how many fall below
  `danger_urgency` (and so become worries) for a few urgency wordings and
  thresholds (`MatchSettings.danger_urgency*` were chosen here); and how many
  of each writer's worries, look-alikes and danger messages, and of the
  knowledge's examples, read as worries (`Reading.worry`, `danger_worry`);
- small talk across writers: of each writer's messages that the detector built
  from the others reads as an emergency, how many read nearer the corpus' small
  talk than its danger (`Reading.talk` below `danger_talk`) with a margin below
  `danger_talk_ceiling`, and so become worries, by level, for a few small talk
  wordings, thresholds and ceilings (`MatchSettings.danger_talk*` were chosen here);
- the term floor across writers: of each writer's messages a term rule fires on,
  read by a detector built from the others', how many danger messages, look-alikes
  and worries fall below each floor (`MatchSettings.danger_term_floor` was chosen
  here), and how many more read as small talk, and so become worries;
- which kind a danger message is read as: the right kind first, the right kind
  among those shown, and how often two kinds are shown, as configured and for
  neighbouring settings, leave-one-out over the corpus's danger messages and
  across writers (each writer's danger messages read by a detector built from
  the other writers'; `MatchSettings.danger_kind_*` were chosen here), and, where
  a term rule fires and names another kind than the detector, which is right
  (why `DangerCheck` puts a sure detector's kind first).

    .venv/bin/python benchmarks/danger_calibration.py [--quick]

Each file of `_common/crisis/` names its writer (`writer:`); a file that names
none is a writer of its own.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.knowledge.loader import default_root, load_knowledge  # noqa: E402
from bot.knowledge.model import SMALL_TALK, CrisisExample, Knowledge  # noqa: E402
from bot.knowledge.yamlfile import read_yaml  # noqa: E402
from bot.language.analysis import Language  # noqa: E402
from bot.language.normalize import fold  # noqa: E402
from bot.retrieval.encoder import load_encoder  # noqa: E402
from bot.retrieval.vectors import VectorCache, open_vectors  # noqa: E402
from bot.safety.check import DangerCheck  # noqa: E402
from bot.safety.detector import DangerDetector  # noqa: E402
from bot.safety.kind_wording import KindWording  # noqa: E402
from bot.safety.terms import SafetyCheck  # noqa: E402
from bot.safety.wording import Wording, gram_counts  # noqa: E402
from bot.settings import MatchSettings  # noqa: E402

EVAL = Path(__file__).resolve().parents[1] / "tests" / "eval"
RATES = (0.03, 0.04)  # look-alike false alarms on the training side that set a left-out writer's threshold
HELD_OUT = ("crisis", "crisis2")  # held out from the corpus, yet used in tuning: extra checks only


@dataclass(frozen=True)
class Row:
    text: str
    level: str  # danger | concern | calm | example
    topic: str = ""  # of a look-alike: training, campaign … or everyday (small talk)
    kind: str = ""  # of a danger message or a worry: suicide, dv …


def rows_of(files: list[Path]) -> list[Row]:
    out = []
    for path in files:
        doc, _ = read_yaml(path)
        data = (doc.data if doc else None) or {}
        for section, level in (("danger", "danger"), ("concern", "concern"), ("lookalike", "calm")):
            out += [Row(item["text"].strip(), level, item.get("topic") or "", item.get("kind") or "")
                    for item in data.get(section) or ()]
    return out


def small_talk(r: Row) -> bool:
    return r.level == "calm" and r.topic == SMALL_TALK


def sides(rows: list[Row]) -> tuple[list[Row], list[Row]]:
    """(danger, ordinary) in the detector's row order: worries, then small talk, first on the ordinary side."""
    return ([r for r in rows if r.level == "danger"],
            [r for r in rows if r.level == "concern"] + [r for r in rows if small_talk(r)]
            + [r for r in rows if r.level not in ("danger", "concern") and not small_talk(r)])


def detector(rows: list[Row], cache: VectorCache, settings: MatchSettings) -> DangerDetector:
    """As the assistant builds it (`Assistant._detector`), without the kinds."""
    danger, ordinary = sides(rows)
    worries = [r for r in ordinary if r.level == "concern"]
    talk = [r for r in ordinary if small_talk(r)]
    in_danger = gram_counts(fold(r.text) for r in danger)
    wording = Wording.from_counts(in_danger, gram_counts(fold(r.text) for r in ordinary))
    pair = {"concern": worries, "talk": talk}
    against = {name: KindWording.from_counts({"danger": in_danger, name: gram_counts(fold(r.text) for r in group)})
               for name, group in pair.items() if group}
    return DangerDetector.configured([CrisisExample(r.text, "danger") for r in danger],
                                     cache.queries([r.text for r in danger]), cache.queries([r.text for r in ordinary]),
                                     settings=settings, wording=wording, worries=len(worries),
                                     urgency_wording=against.get("concern"), talk=len(talk),
                                     talk_wording=against.get("talk"))


def leave_one_out(rows: list[Row], det: DangerDetector, cache: VectorCache,
                  *, levels: tuple[str, ...] = ("danger", "concern", "calm", "example")) -> dict[str, np.ndarray]:
    """Each corpus message's margin with itself left out, by level (only `levels`)."""
    danger, ordinary = sides(rows)
    out: dict[str, list[float]] = {}
    if "danger" in levels:
        for i, (r, v) in enumerate(zip(danger, cache.queries([r.text for r in danger]))):
            out.setdefault("danger", []).append(det.read(v, fold(r.text), skip_danger=i).margin)
    for i, (r, v) in enumerate(zip(ordinary, cache.queries([r.text for r in ordinary]))):
        if r.level in levels:
            out.setdefault(r.level, []).append(det.read(v, fold(r.text), skip_ordinary=i).margin)
    return {k: np.asarray(v) for k, v in out.items()}


def danger_of(files: list[Path]) -> list[CrisisExample]:
    """The danger messages of corpus files, with their kinds."""
    out = []
    for path in files:
        doc, _ = read_yaml(path)
        data = (doc.data if doc else None) or {}
        out += [CrisisExample(item["text"].strip(), "danger", kind=item["kind"]) for item in data.get("danger") or ()]
    return out


def kinds_detector(danger: list[CrisisExample], cache: VectorCache, settings: MatchSettings) -> DangerDetector:
    """A detector that only names kinds (no ordinary side), from these danger messages."""
    by_kind = {kind: gram_counts(fold(e.text) for e in danger if e.kind == kind)
               for kind in dict.fromkeys(e.kind for e in danger)}
    vectors = cache.queries([e.text for e in danger])
    return DangerDetector.configured(danger, vectors, vectors[:0], settings=settings, kind_wording=KindWording.from_counts(by_kind))


@dataclass(frozen=True)
class Kinds:
    first: float  # the right kind first
    shown: float  # the right kind among those shown
    two: float  # two kinds shown


def kinds_judged(det: DangerDetector, danger: list[CrisisExample], cache: VectorCache,
                 *, left_out: bool) -> tuple[int, int, int]:
    """(right first, right shown, two shown) over `danger`, each left out of `det` if it is in it."""
    first = shown = two = 0
    for i, (e, v) in enumerate(zip(danger, cache.queries([e.text for e in danger]))):
        kinds = det.read(v, fold(e.text), skip_danger=i if left_out else None).kinds
        first += bool(kinds) and kinds[0] == e.kind
        shown += e.kind in kinds
        two += len(kinds) > 1
    return first, shown, two


def kinds_leave_one_out(danger: list[CrisisExample], cache: VectorCache, settings: MatchSettings) -> Kinds:
    """Each danger message of the corpus read with itself (vector and grams) left out."""
    counts = kinds_judged(kinds_detector(danger, cache, settings), danger, cache, left_out=True)
    return Kinds(*(n / len(danger) for n in counts))


def writers_left_out(by_writer: dict[str, list[Path]], cache: VectorCache,
                     settings: MatchSettings) -> Iterator[tuple[list[CrisisExample], DangerDetector]]:
    """For each writer with danger messages: those messages, and a kinds detector built from
    the other writers'."""
    files = [f for held in by_writer.values() for f in held]
    for held in by_writer.values():
        judged = danger_of(held)
        if judged:
            yield judged, kinds_detector(danger_of([f for f in files if f not in held]), cache, settings)


def kinds_leave_writer_out(by_writer: dict[str, list[Path]], cache: VectorCache, settings: MatchSettings) -> Kinds:
    """Each writer's danger messages read by a detector built from the other writers'."""
    totals, n = np.zeros(3), 0
    for judged, det in writers_left_out(by_writer, cache, settings):
        totals += kinds_judged(det, judged, cache, left_out=False)
        n += len(judged)
    return Kinds(*(float(x) / n for x in totals))


def terms_against_detector(by_writer: dict[str, list[Path]], cache: VectorCache, settings: MatchSettings,
                           terms: SafetyCheck, language: Language) -> tuple[int, int, int, int]:
    """Over the danger messages a term rule fires on, each writer's read by a detector built
    from the other writers': (messages, the rule and the detector name different kinds first,
    of those the detector right, the rule right). Why the detector's kind leads when it is sure."""
    n = differ = detector_right = term_right = 0
    for judged, det in writers_left_out(by_writer, cache, settings):
        for e, v in zip(judged, cache.queries([e.text for e in judged])):
            alert = terms.check(language.analyze(e.text))
            if alert is None:
                continue
            term, kinds = alert.rules[0].kind or alert.rules[0].id, det.read(v, fold(e.text)).kinds
            n += 1
            if kinds and kinds[0] != term:
                differ += 1
                detector_right += kinds[0] == e.kind
                term_right += term == e.kind
    return n, differ, detector_right, term_right


def urgency_leave_writer_out(by_writer: dict[str, list[Path]], files: list[Path], examples: list[Row],
                             cache: VectorCache, settings: MatchSettings,
                             ) -> dict[tuple[float, float], list[int]]:
    """Each writer with worries left out, their danger messages and worries the detector (built
    from the others) reads as an emergency: for each urgency wording × threshold, [danger turned
    into worries, danger read as emergencies, worries turned into worries, worries read as emergencies]."""
    weights = sorted({0.0, 0.004, 0.008, 0.016, settings.danger_urgency_wording})
    thresholds = sorted({-0.005, 0.0, 0.005, settings.danger_urgency})
    out = {(w, t): [0, 0, 0, 0] for w in weights for t in thresholds}
    for held in by_writer.values():
        judged = [r for r in rows_of(held) if r.level in ("danger", "concern")]
        if not any(r.level == "concern" for r in judged):
            continue
        det = detector(rows_of([f for f in files if f not in held]) + examples, cache, settings)
        vectors = cache.queries([r.text for r in judged])
        for w in weights:
            det.urgency_wording_weight = w
            for r, v in zip(judged, vectors):
                reading = det.read(v, fold(r.text))
                if reading.margin < settings.danger_emergency:
                    continue
                at = 0 if r.level == "danger" else 2
                for t in thresholds:
                    out[w, t][at] += reading.urgency < t
                    out[w, t][at + 1] += 1
    return out


def talk_leave_writer_out(by_writer: dict[str, list[Path]], left_out: dict[str, DangerDetector], cache: VectorCache,
                          settings: MatchSettings, weights: tuple[float, ...]) -> dict[str, list[tuple[float, dict]]]:
    """Of each writer's messages that `left_out[writer]` (the detector built from the others')
    reads as an emergency before the small talk is weighed (margin and urgency): by level
    (small talk apart), the margin and `Reading.talk` at each small talk wording of `weights`.
    Where `danger_talk*` were chosen."""
    out: dict[str, list[tuple[float, dict]]] = {}
    for writer, held in by_writer.items():
        rows, det = rows_of(held), left_out[writer]
        kept = det.talk_wording_weight
        try:
            for r, v in zip(rows, cache.queries([r.text for r in rows])):
                reading = det.read(v, fold(r.text))
                if reading.margin < settings.danger_emergency or reading.urgency < settings.danger_urgency:
                    continue
                talk = {}
                for w in weights:
                    det.talk_wording_weight = w
                    talk[w] = det.read(v, fold(r.text)).talk
                out.setdefault("everyday" if small_talk(r) else r.level, []).append((reading.margin, talk))
        finally:
            det.talk_wording_weight = kept
    return out


def term_floor_leave_writer_out(by_writer: dict[str, list[Path]], left_out: dict[str, DangerDetector],
                                cache: VectorCache, terms: SafetyCheck,
                                language: Language) -> dict[str, list[tuple[float, int, float]]]:
    """Of each writer's messages a term rule fires on, read by `left_out[writer]` (the detector
    built from the other writers'): (margin, characters, `Reading.talk`) by level. Where
    `danger_term_floor` was set: below it, in a message of `danger_term_floor_chars` or more, the
    term's emergency is a worry; and so it is when the message reads as small talk."""
    out: dict[str, list[tuple[float, int, float]]] = {}
    for writer, held in by_writer.items():
        rows, det = rows_of(held), left_out[writer]
        for r, v in zip(rows, cache.queries([r.text for r in rows])):
            q = language.analyze(r.text)
            if terms.check(q) is not None:
                chars = sum(ch.isalnum() for ch in q.folded)
                reading = det.read(v, q.folded)
                out.setdefault(r.level, []).append((reading.margin, chars, reading.talk))
    return out


def worry_leave_writer_out(by_writer: dict[str, list[Path]], left_out: dict[str, DangerDetector],
                           files: list[Path], examples: list[Row], cache: VectorCache,
                           settings: MatchSettings) -> dict[str, np.ndarray]:
    """`Reading.worry` of each writer's messages read by `left_out[writer]` (the detector built
    from the others'), by level; of the knowledge's examples, each left out of the whole corpus's
    detector."""
    out: dict[str, list[float]] = {}
    for writer, held in by_writer.items():
        rows, det = rows_of(held), left_out[writer]
        for r, v in zip(rows, cache.queries([r.text for r in rows])):
            out.setdefault(r.level, []).append(det.read(v, fold(r.text)).worry)
    everything = rows_of(files) + examples
    det = detector(everything, cache, settings)
    _, ordinary = sides(everything)
    for i, (r, v) in enumerate(zip(ordinary, cache.queries([r.text for r in ordinary]))):
        if r.level == "example":
            out.setdefault("example", []).append(det.read(v, fold(r.text), skip_ordinary=i).worry)
    return {k: np.asarray(v) for k, v in out.items()}


def writers(files: list[Path]) -> dict[str, list[Path]]:
    """The corpus files by the writer each names (`writer:`), else by their own name."""
    out: dict[str, list[Path]] = {}
    for path in files:
        doc, _ = read_yaml(path)
        data = (doc.data if doc else None) or {}
        out.setdefault(str(data.get("writer") or path.stem), []).append(path)
    return out


@dataclass(frozen=True)
class Judged:
    recall: float  # danger messages answered as an emergency (terms and detector)
    alarms: float  # look-alikes answered as an emergency
    by_terms: float  # the share of those alarms a term rule raised
    detector_recall: float  # the detector alone, at the same threshold
    detector_alarms: float
    ordinary: int  # look-alikes judged
    everyday: float  # small talk answered as an emergency
    worries: float  # worries answered as an emergency


def mean(xs: list[bool]) -> float:
    return float(np.mean(xs)) if xs else float("nan")


def judge_writer(rows: list[Row], det: DangerDetector, threshold: float, *, knowledge: Knowledge,
                 language: Language, cache: VectorCache, settings: MatchSettings, situation: bool = True) -> Judged:
    """One left-out writer's messages through the whole check, as `DangerCheck` decides (with
    `situation`, reading a message that asks without its asking sentences too)."""
    encode = (lambda text: cache.queries([text])[0]) if situation else None
    check = DangerCheck(knowledge, language, detector=det, settings=replace(settings, danger_emergency=threshold),
                        encode=encode)
    hit: dict[str, list[bool]] = {}
    alone: dict[str, list[bool]] = {}
    terms = 0
    for r, v in zip(rows, cache.queries([r.text for r in rows])):
        verdict = check.check(language.analyze(r.text), v)
        emergency = verdict is not None and verdict.level == "emergency"
        level = "everyday" if r.level == "calm" and r.topic == "everyday" else r.level
        hit.setdefault(level, []).append(emergency)
        reading = verdict.reading if verdict is not None else None
        alone.setdefault(level, []).append(reading is not None and reading.margin >= threshold and bool(reading.kinds))
        terms += level == "calm" and emergency and verdict is not None and verdict.by_terms
    calm = hit.get("calm", [])
    return Judged(mean(hit.get("danger", [])), mean(calm), terms / max(sum(calm), 1),
                  mean(alone.get("danger", [])), mean(alone.get("calm", [])), len(calm), mean(hit.get("everyday", [])),
                  mean(hit.get("concern", [])))


def judged(rows: list[Row], det: DangerDetector, cache: VectorCache) -> dict[str, np.ndarray]:
    out: dict[str, list[float]] = {}
    for r, v in zip(rows, cache.queries([r.text for r in rows])):
        out.setdefault(r.level, []).append(det.read(v, fold(r.text)).margin)
    return {k: np.asarray(v) for k, v in out.items()}


def rate(values: np.ndarray | None, threshold: float) -> str:
    return "  –  " if values is None or not len(values) else f"{float(np.mean(values >= threshold)):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="only leave-one-out, leave-writer-out and the held-out checks (not the settings' grids)")
    args = parser.parse_args()
    knowledge = load_knowledge(default_root())
    encoder = load_encoder()
    if not encoder.on:
        sys.exit(f"the encoder is off: {encoder.reason}")
    cache = open_vectors(knowledge.root, encoder.encoder, read_only=True)  # never rewrite the committed cache
    assert cache is not None
    folder = Path(knowledge.root) / "_common" / "crisis"
    files = sorted(folder.glob("*.yaml"))
    by_writer = writers(files)
    language = Language(synonyms=knowledge.synonyms, ignore=knowledge.ignore_words, excluding=knowledge.excluding)
    examples = [Row(e, "example") for e in dict.fromkeys(
        e for s in knowledge.services.values() if s.audience == "resident" for e in s.examples)]
    configured = MatchSettings()
    left_out: dict[str, DangerDetector] = {}  # each writer: the configured detector built from the others
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
        built = {}  # each writer left out: the detector from the others, and their look-alikes left one out
        for writer, held in by_writer.items():
            rows = rows_of([f for f in files if f not in held]) + examples
            det = detector(rows, cache, settings)
            built[writer] = det, leave_one_out(rows, det, cache, levels=("calm",))["calm"]
        if settings is configured:  # the worry and term-floor readings below use the same detectors
            left_out = {writer: det for writer, (det, _) in built.items()}
        for share in RATES:
            print(f"  leave-writer-out (whole check; detector alone), threshold by leave-one-out at {share:.0%}"
                  " of look-alikes:")
            both, whole = [], []  # the configured check, and the same without the situation's reading
            for writer, held in by_writer.items():
                det, calm = built[writer]
                t = float(np.quantile(calm, 1 - share))
                j, j0 = (judge_writer(rows_of(held), det, t, knowledge=knowledge, language=language, cache=cache,
                                      settings=settings, situation=situation) for situation in (True, False))
                if j.recall == j.recall and j.ordinary:  # wrote both danger and look-alikes
                    both.append(j)
                    whole.append(j0)
                print(f"    {writer:8s} ({len(held)} files) t {t:+.4f}  recall {j.recall:.3f}"
                      f"  look-alike alarms {j.alarms:.3f} ({j.by_terms:.0%} by terms)"
                      f"  detector alone {j.detector_recall:.3f} / {j.detector_alarms:.3f}  small talk {j.everyday:.3f}"
                      f"  worries {j.worries:.3f}")
            if both:
                print(f"    mean of {len(both)} writers              recall {np.mean([j.recall for j in both]):.3f}"
                      f"  look-alike alarms {np.mean([j.alarms for j in both]):.3f}"
                      f"        detector alone {np.mean([j.detector_recall for j in both]):.3f}"
                      f" / {np.mean([j.detector_alarms for j in both]):.3f}", flush=True)
                print(f"    the same, messages read whole only   recall {np.mean([j.recall for j in whole]):.3f}"
                      f"  look-alike alarms {np.mean([j.alarms for j in whole]):.3f}"
                      f"  small talk {np.nanmean([j.everyday for j in whole]):.3f}"
                      f"  worries {np.nanmean([j.worries for j in whole]):.3f}; with the situation: small talk"
                      f" {np.nanmean([j.everyday for j in both]):.3f}  worries {np.nanmean([j.worries for j in both]):.3f}",
                      flush=True)
        full = detector(everything, cache, settings)
        for held_out in HELD_OUT:  # by name: the lead's unseen sets lie beside these
            j = judge_writer(rows_of(sorted((EVAL / held_out).glob("*.yaml"))), full, settings.danger_emergency,
                             knowledge=knowledge, language=language, cache=cache, settings=settings)
            print(f"  tests/eval/{held_out} at danger_emergency: recall {j.recall:.3f}  look-alike alarms {j.alarms:.3f}"
                  f" ({j.by_terms:.0%} by terms)  detector alone {j.detector_recall:.3f} / {j.detector_alarms:.3f}")
    if args.quick:
        return
    print("\n== urgency across writers: of the messages the detector alone reads as an emergency (danger_emergency),"
          " those below danger_urgency, which become worries; danger lost / worries softened")
    for (w, t), (lost, danger, softened, worried) in urgency_leave_writer_out(by_writer, files, examples, cache,
                                                                               configured).items():
        label = " (configured)" if (w, t) == (configured.danger_urgency_wording, configured.danger_urgency) else ""
        print(f"  wording ×{w}, at {t:+.3f}: danger {lost}/{danger} = {lost / max(danger, 1):.3f}"
              f"  worries {softened}/{worried} = {softened / max(worried, 1):.3f}{label}")
    print("\n== small talk across writers: of the messages the detector alone reads as an emergency"
          " (danger_emergency, danger_urgency), those below danger_talk with a margin below"
          " danger_talk_ceiling, which become worries, by level")
    weights = tuple(sorted({0.004, 0.008, 0.016, configured.danger_talk_wording}))
    read = talk_leave_writer_out(by_writer, left_out, cache, configured, weights)
    for w in weights:
        for t in sorted({-0.005, 0.0, configured.danger_talk}):
            for ceiling in sorted({0.01, 0.015, 0.02, math.inf, configured.danger_talk_ceiling}):
                label = " (configured)" if (w, t, ceiling) == (configured.danger_talk_wording, configured.danger_talk,
                                                               configured.danger_talk_ceiling) else ""
                print(f"  wording ×{w}, at {t:+.3f}, below {ceiling}: " + "  ".join(
                    f"{level} {sum(m < ceiling and talk[w] < t for m, talk in xs)}/{len(xs)}"
                    for level, xs in sorted(read.items())) + label)
    print("\n== worries across writers: read as a worry (Reading.worry at least the threshold), by level;"
          " the knowledge's examples left out one at a time")
    worry = worry_leave_writer_out(by_writer, left_out, files, examples, cache, configured)
    for t in sorted({0.0, 0.005, 0.01, configured.danger_worry}):
        label = " (danger_worry)" if t == configured.danger_worry else ""
        print(f"  at {t:+.3f}: worries {rate(worry.get('concern'), t)}  look-alikes {rate(worry.get('calm'), t)}"
              f"  examples {rate(worry.get('example'), t)}  danger {rate(worry.get('danger'), t)}{label}")
    print("\n== term floor across writers: of the messages a term rule fires on, those the detector (built"
          " from the other writers) reads below the floor, in danger_term_floor_chars characters or more,"
          " whose emergency becomes a worry")
    fired = term_floor_leave_writer_out(by_writer, left_out, cache, SafetyCheck(knowledge, language), language)
    long_enough = configured.danger_term_floor_chars
    for floor in sorted({-0.035, -0.03, -0.025, -0.02, -0.015, -0.01, configured.danger_term_floor}):
        soft = {level: sum(m < min(floor, configured.danger_emergency) and n >= long_enough for m, n, _ in xs)
                for level, xs in fired.items()}
        label = " (danger_term_floor)" if floor == configured.danger_term_floor else ""
        print(f"  at {floor:+.3f}: danger {soft.get('danger', 0)}/{len(fired.get('danger', []))}"
              f"  look-alikes {soft.get('calm', 0)}/{len(fired.get('calm', []))}"
              f"  worries {soft.get('concern', 0)}/{len(fired.get('concern', []))}{label}")
    c = configured
    chat = {level: sum(n >= long_enough and m >= c.danger_term_floor and t < c.danger_talk and m < c.danger_talk_ceiling
                       for m, n, t in xs) for level, xs in fired.items()}
    print(f"  above the floor, read as small talk (danger_talk, below danger_talk_ceiling): danger"
          f" {chat.get('danger', 0)}  look-alikes {chat.get('calm', 0)}  worries {chat.get('concern', 0)}")
    print("\n== kinds: right kind first / among those shown / two kinds shown; leave-one-out over the"
          " corpus's danger messages, and leave-writer-out")
    c = configured
    grid = [(c.danger_kind_tau, c.danger_kind_near, c.danger_kind_margin, c.danger_kind_wording, " (configured)")]
    grid += [(c.danger_kind_tau, c.danger_kind_near, m, w, "") for w in (0.0, 0.003, 0.005, 0.007)
             for m in (0.005, 0.01, 0.02)
             if (m, w) != (c.danger_kind_margin, c.danger_kind_wording)]
    grid += [(t, n, c.danger_kind_margin, c.danger_kind_wording, "") for t in (0.01, 0.02) for n in (10, 20)
             if (t, n) != grid[0][:2]]
    danger = danger_of(files)
    for tau, near, margin, weight, label in grid:
        settings = replace(c, danger_kind_tau=tau, danger_kind_near=near, danger_kind_margin=margin,
                           danger_kind_wording=weight)
        loo, lwo = kinds_leave_one_out(danger, cache, settings), kinds_leave_writer_out(by_writer, cache, settings)
        print(f"  τ {tau}, {near} nearest, margin {margin}, wording ×{weight}: {loo.first:.3f} / {loo.shown:.3f}"
              f" / {loo.two:.3f};  across writers {lwo.first:.3f} / {lwo.shown:.3f} / {lwo.two:.3f}{label}")
    n, differ, detector_right, term_right = terms_against_detector(by_writer, cache, configured,
                                                                  SafetyCheck(knowledge, language), language)
    print(f"  across writers, of {n} danger messages a term fires on, the term's kind and the detector's differ"
          f" for {differ}: the detector right for {detector_right}, the term for {term_right}")


if __name__ == "__main__":
    main()
