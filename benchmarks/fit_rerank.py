"""Fit the reranker (`bot/retrieval/rerank.json`) on the knowledge's own examples.

Each entry's `examples` are labelled questions for their own service. They are
split into K folds; for each fold, both indexes are built without that fold's
examples and each of its examples is asked as an unseen question would be
(its text out of the lexical index, its passage out of the dense one). The
first fused candidates of each are described by `bot.retrieval.rerank.features`
and a softmax over them (a conditional logit, L2, Newton steps, numpy only)
learns which one is the service meant. The questions no council handles
(`_common/out_of_scope.yaml`, split into the same folds) are asked too, each
of one council, and teach the "none of these" row. No evaluation question is read.

Prints, for the chosen L2 and its neighbours, top-1 over the examples by the
fused order and by the model (grouped cross-validation over the examples),
then writes the model stamped with the knowledge's hash.

    .venv/bin/python benchmarks/fit_rerank.py [--folds 10] [--l2 1.0] [--dry-run]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.assistant import Assistant  # noqa: E402
from bot.knowledge.loader import load_knowledge  # noqa: E402
from bot.knowledge.model import Knowledge  # noqa: E402
from bot.language.normalize import normalize  # noqa: E402
from bot.retrieval.encoder import load_encoder  # noqa: E402
from bot.retrieval.rerank import (  # noqa: E402
    FEATURES, WEIGHTS_PATH, Reranker, candidates_of, features, knowledge_stamp, none_row, with_none,
)
from bot.retrieval.vectors import VectorCache, open_vectors  # noqa: E402
from bot.settings import MatchSettings  # noqa: E402


def fold_of(service_id: str, example: str, folds: int) -> int:
    """A stable fold per (service, example): the same split on every run."""
    digest = hashlib.blake2b(f"{service_id}\x00{example}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % folds


NONE = ""  # the service id of a question no council handles


def without_fold(k: Knowledge, fold: int, folds: int) -> Knowledge:
    services = {sid: replace(s, examples=tuple(e for e in s.examples if fold_of(sid, e, folds) != fold))
                for sid, s in k.services.items()}
    out_of_scope = tuple(q for q in k.out_of_scope if fold_of(NONE, q, folds) != fold)
    return replace(k, services=services, out_of_scope=out_of_scope)


def examples(k: Knowledge, folds: int) -> list[tuple[int, str, str, str]]:
    """(fold, council, service id, text) of every resident example, once each, and of
    each question no council handles (service id `NONE`), asked of one council."""
    out = []
    for sid, s in k.services.items():
        if s.audience != "resident" or not s.offered:
            continue
        for e in dict.fromkeys(e for e in s.examples if e.strip()):
            out.append((fold_of(sid, e, folds), s.council_id, sid, e))
    councils = sorted(k.councils)
    for q in k.out_of_scope:
        out.append((fold_of(NONE, q, folds), councils[fold_of("council", q, len(councils))], NONE, q))
    return out


def collect(k: Knowledge, vectors: VectorCache, *, folds: int, candidates: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and question number of every candidate of every example."""
    settings = replace(MatchSettings(), rerank=False)
    xs, ys, gs = [], [], []
    asked = examples(k, folds)
    for f in range(folds):
        t0 = time.perf_counter()
        a = Assistant(without_fold(k, f, folds), vectors=vectors, settings=settings)
        for g, (fold, council, sid, text) in enumerate(asked):
            if fold != f:
                continue
            vector = vectors.queries([a._excerpt(normalize(text))])[0]
            ranking, lexical, rows = a.fused(council, a.analyze(text), vector, "resident")
            picked = candidates_of(ranking, limit=candidates)
            if not picked:
                continue
            x = features(picked, lexical_order={m.doc: m.order for m in lexical}, rows=rows,
                         start=a.dense[council].start)
            xs.append(with_none(x, none_row(x, out_of_scope=a.out_of_scope(vector))))
            ys.append(np.array([m.service.id == sid for m in picked] + [sid == NONE], dtype=np.float64))
            gs.append(np.full(len(picked) + 1, g))
        print(f"fold {f}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)


def last_rows(g: np.ndarray) -> np.ndarray:
    """Whether each row is its question's last one: the "none of these" row."""
    return np.r_[g[1:] != g[:-1], True]


def _loss(z: np.ndarray, w: np.ndarray, y: np.ndarray, gid: np.ndarray, groups: int, l2: float,
          offset: np.ndarray | float = 0.0) -> tuple[np.ndarray, float]:
    """Each candidate's softmax probability within its question, and the penalised log loss."""
    s = z @ w + offset
    top = np.full(groups, -np.inf)
    np.maximum.at(top, gid, s)
    e = np.exp(s - top[gid])
    total = np.bincount(gid, e, groups)
    p = e / total[gid]
    return p, float(-np.sum(y * (s - top[gid] - np.log(total[gid]))) + l2 / 2 * w @ w)


def fit(x: np.ndarray, y: np.ndarray, g: np.ndarray, *, l2: float, steps: int = 50,
        offset: np.ndarray | None = None) -> np.ndarray:
    """A conditional logit (softmax over each question's candidates), L2-penalised, by
    Newton steps with step halving, on standardised features; weights on the raw ones.
    `offset` is a fixed part of each row's score. Questions whose service is not among
    their candidates teach nothing and are left out."""
    keep = np.bincount(g, y)[g] > 0
    x, y = x[keep], y[keep]
    off = 0.0 if offset is None else offset[keep]
    gid = np.unique(g[keep], return_inverse=True)[1]
    groups = int(gid.max()) + 1
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-9] = 1.0
    z = (x - mean) / std
    w = np.zeros(z.shape[1])
    p, loss = _loss(z, w, y, gid, groups, l2, off)
    for _ in range(steps):
        grad = z.T @ (p - y) + l2 * w
        mean_z = np.zeros((groups, z.shape[1]))
        np.add.at(mean_z, gid, p[:, None] * z)
        hess = (z * p[:, None]).T @ z - mean_z.T @ mean_z + l2 * np.eye(len(w))
        step, t = np.linalg.solve(hess, grad), 1.0
        while True:
            p_next, next_loss = _loss(z, w - t * step, y, gid, groups, l2, off)
            if next_loss <= loss or t < 1e-4:
                break
            t /= 2
        w, p, gain, loss = w - t * step, p_next, loss - next_loss, next_loss
        if gain < 1e-7:
            break
    return w / std


def top1(scores: np.ndarray, y: np.ndarray, g: np.ndarray) -> float:
    """Share of the knowledge's examples whose best-scored candidate (the "none of
    these" row aside) is the right one; a service not among the candidates is a miss."""
    none = last_rows(g)
    hits = total = 0
    for q in np.unique(g):
        at = g == q
        if y[at & none].any():
            continue
        total += 1
        cand = at & ~none
        hits += bool(y[cand][np.argmax(scores[cand])])
    return hits / max(1, total)


def fit_both(x: np.ndarray, y: np.ndarray, g: np.ndarray, *, l2: float) -> np.ndarray:
    """The candidates' weights, fitted on the knowledge's examples alone (so the order
    they give does not depend on the out-of-scope questions), then the "none of these"
    weights against those fixed candidate scores, on every question."""
    none, width = last_rows(g), len(FEATURES)
    in_scope = np.bincount(g, y * none)[g] == 0
    rows = ~none & in_scope
    w_cand = fit(x[rows, :width], y[rows], g[rows], l2=l2)
    w_none = fit(x[:, width:], y, g, l2=l2, offset=x[:, :width] @ w_cand)
    return np.r_[w_cand, w_none]


def cross_validate(x: np.ndarray, y: np.ndarray, g: np.ndarray, *, l2: float, folds: int = 5) -> np.ndarray:
    """Each candidate's score by the model fitted on the other questions' candidates."""
    part = g % folds
    scores = np.empty(len(y))
    for f in range(folds):
        w = fit_both(x[part != f], y[part != f], g[part != f], l2=l2)
        scores[part == f] = x[part == f] @ w
    return scores


def calibration(scores: np.ndarray, y: np.ndarray, g: np.ndarray, cuts: tuple[float, ...],
                declines: tuple[float, ...]) -> list[str]:
    """On the examples: share answered and precision if the first candidate were answered
    at p ≥ each cut; on both kinds: share declined at p(none) ≥ each decline cut (the
    probability is a softmax within each question, as `Reranker.probabilities`)."""
    top, right, p_none, is_none = [], [], [], []
    none = last_rows(g)
    for q in np.unique(g):
        at = g == q
        s = scores[at]
        p = np.exp(s - s.max())
        p /= p.sum()
        cand = ~none[at]
        top.append(p[cand].max())
        right.append(bool(y[at][cand][np.argmax(p[cand])]))
        p_none.append(p[~cand][0])
        is_none.append(bool(y[at][~cand][0]))
    top_p, ok, p_none_, oos = np.array(top), np.array(right), np.array(p_none), np.array(is_none)
    lines = [f"p ≥ {c:.2f}: examples answered {(top_p[~oos] >= c).mean():.3f}, "
             f"precision {ok[~oos][top_p[~oos] >= c].mean():.3f}; out of scope answered {(top_p[oos] >= c).mean():.3f}"
             for c in cuts]
    lines += [f"p(none) ≥ {c:.2f}: out of scope declined {(p_none_[oos] >= c).mean():.3f}, "
              f"examples declined {(p_none_[~oos] >= c).mean():.3f}" for c in declines]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--l2", type=float, default=100.0)
    parser.add_argument("--knowledge", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = parser.parse_args()
    k = load_knowledge(args.knowledge)
    status = load_encoder()
    if status.encoder is None:
        print(f"no encoder: {status.reason}", file=sys.stderr)
        return 1
    vectors = open_vectors(k.root, status.encoder)
    x, y, g = collect(k, vectors, folds=args.folds, candidates=args.candidates)
    questions = len(np.unique(g))
    starts = np.r_[True, g[1:] != g[:-1]]  # each question's candidates are together, fused order
    fused_order = -(np.arange(len(g)) - np.maximum.accumulate(np.where(starts, np.arange(len(g)), 0)))
    print(f"{questions} examples asked as unseen, {len(y)} candidates, right one among them: "
          f"{y.sum() / questions:.3f}")
    figures = {"top1_fused": round(top1(fused_order.astype(float), y, g), 4)}
    print(f"top-1 by the fused order: {figures['top1_fused']:.3f}")
    for l2 in sorted({args.l2 / 100, args.l2, args.l2 * 10}):
        scores = cross_validate(x, y, g, l2=l2)
        print(f"top-1 by the reranker, L2 {l2:g} (5-fold over examples): {top1(scores, y, g):.3f}")
        if l2 == args.l2:
            figures["top1_reranked"] = round(top1(scores, y, g), 4)
            print("  " + "\n  ".join(calibration(scores, y, g, (0.6, 0.7, 0.8, 0.9), (0.3, 0.4, 0.5, 0.6))))
    weights = fit_both(x, y, g, l2=args.l2)
    model = Reranker(tuple(float(w) for w in weights), candidates=args.candidates,
                     stamp=knowledge_stamp(k))
    for name, w in zip(model.features, weights):
        print(f"  {name:<14}{w:+.3f}")
    if not args.dry_run:
        model.save(args.out, l2=args.l2, folds=args.folds, examples=questions, **figures)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
