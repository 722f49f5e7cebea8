"""The detector's densities: over a message's nearest on each side, so a side's size moves no margin."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge.model import CrisisExample
from bot.safety.detector import DangerDetector, _density
from bot.safety.kind_wording import KindWording
from bot.safety.wording import gram_counts


def _reference(sims: list[float], tau: float, near: int) -> float:
    """τ·log of the mean of exp(cos/τ) over the `near` largest cosines, written out."""
    top = sorted(sims, reverse=True)[:near]
    return tau * math.log(sum(math.exp(s / tau) for s in top) / len(top))


@settings(max_examples=200, deadline=None)
@given(sims=st.lists(st.floats(min_value=-1.0, max_value=1.0), min_size=1, max_size=120),
       near=st.integers(min_value=1, max_value=60), tau=st.sampled_from([0.005, 0.02, 0.1]))
def test_density_is_the_log_mean_exp_of_the_nearest(sims: list[float], near: int, tau: float) -> None:
    got = _density(np.asarray(sims, dtype=np.float64), tau, near)
    assert math.isclose(got, _reference(sims, tau, near), rel_tol=1e-9, abs_tol=1e-9)


def _unit(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    v = rng.normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_ordinary_messages_far_from_the_message_move_no_margin() -> None:
    """More knowledge examples elsewhere (a council's new services) must not tip a message
    towards an alarm: with a mean over the whole side, every margin rose by τ·log N."""
    rng = np.random.default_rng(7)
    danger, ordinary = _unit(rng, 80), _unit(rng, 120)
    examples = [CrisisExample(f"d{i}", "danger", kind="suicide") for i in range(80)]
    message = _unit(rng, 1)[0]
    far = -np.tile(message, (5000, 1)) + 0.01 * _unit(rng, 5000)  # nowhere near the message
    far /= np.linalg.norm(far, axis=1, keepdims=True)
    small = DangerDetector(examples, danger, ordinary, near=50)
    large = DangerDetector(examples, danger, np.concatenate([ordinary, far.astype(np.float32)]), near=50)
    assert small.read(message).margin == large.read(message).margin


def _towards(rng: np.random.Generator, target: np.ndarray, n: int, closeness: float) -> np.ndarray:
    """n unit vectors at about `closeness` cosine from `target`."""
    noise = _unit(rng, n, dim=target.size)
    v = closeness * target + math.sqrt(1 - closeness**2) * noise
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_a_kind_whose_messages_surround_the_message_outweighs_one_nearer_message() -> None:
    """Many messages of one kind a little farther off say more than one of another kind
    nearby; a vote of the nearest few was carried by the one."""
    rng = np.random.default_rng(3)
    message = _unit(rng, 1, dim=64)[0]
    lone = _towards(rng, message, 1, 0.96)  # one fraud message close by, its others far off
    crowd = _towards(rng, message, 30, 0.92)
    far = _towards(rng, -message, 29, 0.9)
    danger = np.concatenate([lone, far, crowd])
    examples = ([CrisisExample("lone", "danger", kind="fraud")]
                + [CrisisExample(f"f{i}", "danger", kind="fraud") for i in range(29)]
                + [CrisisExample(f"c{i}", "danger", kind="dv") for i in range(30)])
    detector = DangerDetector(examples, danger, _unit(rng, 10, dim=64), kind_margin=0.0)
    reading = detector.read(message)
    assert reading.kinds == ("dv",)
    assert reading.nearest == "lone"  # staff still see the single closest message


def test_a_second_kind_rides_along_within_the_margin_and_not_beyond() -> None:
    rng = np.random.default_rng(5)
    message = _unit(rng, 1, dim=64)[0]
    a, b = _towards(rng, message, 20, 0.9), _towards(rng, message, 20, 0.89)
    examples = ([CrisisExample(f"a{i}", "danger", kind="dv") for i in range(20)]
                + [CrisisExample(f"b{i}", "danger", kind="stalking") for i in range(20)])
    danger = np.concatenate([a, b])
    ordinary = _unit(rng, 10, dim=64)
    close = DangerDetector(examples, danger, ordinary, kind_margin=0.05).read(message).kinds
    apart = DangerDetector(examples, danger, ordinary, kind_margin=0.0).read(message).kinds
    assert len(close) == 2 and set(close) == {"dv", "stalking"}
    assert len(apart) == 1


def test_a_left_out_message_does_not_vote_for_its_own_kind() -> None:
    rng = np.random.default_rng(9)
    message = _unit(rng, 1, dim=64)[0]
    danger = np.concatenate([message[None, :], _towards(rng, message, 20, 0.8)])
    examples = [CrisisExample("self", "danger", kind="fraud")] + [
        CrisisExample(f"m{i}", "danger", kind="missing") for i in range(20)]
    detector = DangerDetector(examples, danger, _unit(rng, 10, dim=64), kind_margin=0.0)
    assert detector.read(message).kinds == ("fraud",)
    assert detector.read(message, skip_danger=0).kinds == ("missing",)


def test_a_kind_with_few_messages_is_not_favoured_for_having_no_others() -> None:
    rng = np.random.default_rng(11)
    message = _unit(rng, 1, dim=64)[0]
    few = _towards(rng, message, 1, 0.95)
    many = _towards(rng, message, 30, 0.93)
    examples = ([CrisisExample("few", "danger", kind="fraud")]
                + [CrisisExample(f"m{i}", "danger", kind="dv") for i in range(30)])
    detector = DangerDetector(examples, np.concatenate([few, many]), _unit(rng, 10, dim=64), kind_margin=0.0)
    assert detector.read(message).kinds == ("dv",)


def test_the_kinds_wording_decides_between_kinds_equally_near_in_meaning() -> None:
    """Two kinds whose messages surround the message alike: the one its words belong to
    comes first, and alone once the wording sets it apart by more than the margin."""
    rng = np.random.default_rng(13)
    message = _unit(rng, 1, dim=64)[0]
    near = _towards(rng, message, 40, 0.9)
    texts = {"dv": ["おっとがさいふをとりあげる", "おっとにそとにだしてもらえない"],
             "stalking": ["だれかがいえのまえでまっている", "あとをつけられている"]}
    examples = [CrisisExample(texts[kind][i % 2], "danger", kind=kind) for kind in ("dv", "stalking") for i in range(20)]
    worded = KindWording.from_counts({kind: gram_counts(ts * 10) for kind, ts in texts.items()}, min_count=1)
    plain = DangerDetector(examples, near, _unit(rng, 10, dim=64), kind_margin=0.01)
    by_words = DangerDetector(examples, near, _unit(rng, 10, dim=64), kind_margin=0.01, kind_wording=worded,
                              kind_wording_weight=0.005)
    assert len(plain.read(message, "あとをつけられているきがする").kinds) == 2  # meaning alone cannot tell
    assert by_words.read(message, "あとをつけられているきがする").kinds == ("stalking",)
    assert by_words.read(message, "おっとがさいふをとりあげる").kinds == ("dv",)


def test_a_message_nearer_the_worries_than_the_danger_is_not_urgent() -> None:
    """Urgency is the danger density minus the worries' (the first `worries` ordinary rows),
    inf without worries; worry is the worries' density minus the other ordinary rows'; a
    left-out worry is out of the worries' density, as if never written."""
    rng = np.random.default_rng(17)
    message = _unit(rng, 1, dim=64)[0]
    danger = _towards(rng, message, 30, 0.8)
    worries = _towards(rng, message, 30, 0.9)
    others = _unit(rng, 50, dim=64)
    examples = [CrisisExample(f"d{i}", "danger", kind="dv") for i in range(30)]
    ordinary = np.concatenate([worries, others])
    none = DangerDetector(examples, danger, ordinary, near=10)
    with_worries = DangerDetector(examples, danger, ordinary, near=10, worries=30)
    reading = with_worries.read(message)
    assert none.read(message).urgency == math.inf and none.read(message).worry == -math.inf
    assert reading.worry == round(_density(worries @ message, 0.005, 10) - _density(others @ message, 0.005, 10), 4)
    assert reading.worry > 0  # among the worries more than among the others
    assert reading.urgency == round(_density(danger @ message, 0.005, 10) - _density(worries @ message, 0.005, 10), 4)
    assert reading.urgency < 0 and reading.margin == none.read(message).margin  # the margin does not move
    without = DangerDetector(examples, danger, np.delete(ordinary, 4, axis=0), near=10, worries=29)
    assert with_worries.read(message, skip_ordinary=4) == without.read(message)
    beyond = DangerDetector(examples, danger, np.delete(ordinary, 40, axis=0), near=10, worries=30)
    assert with_worries.read(message, skip_ordinary=40) == beyond.read(message)  # a look-alike left out


def test_a_message_nearer_the_small_talk_than_the_danger_reads_as_talk() -> None:
    """Talk is the danger density minus the small talk's (the `talk` ordinary rows after the
    worries), inf without small talk; a left-out small talk row is out of it, as if never
    written, and a left-out worry or look-alike leaves it as it was."""
    rng = np.random.default_rng(23)
    message = _unit(rng, 1, dim=64)[0]
    danger = _towards(rng, message, 30, 0.8)
    worries, talk, others = _unit(rng, 20, dim=64), _towards(rng, message, 30, 0.9), _unit(rng, 50, dim=64)
    examples = [CrisisExample(f"d{i}", "danger", kind="dv") for i in range(30)]
    ordinary = np.concatenate([worries, talk, others])
    none = DangerDetector(examples, danger, ordinary, near=10, worries=20)
    chatty = DangerDetector(examples, danger, ordinary, near=10, worries=20, talk=30)
    reading = chatty.read(message)
    assert none.read(message).talk == math.inf
    assert reading.talk == round(_density(danger @ message, 0.005, 10) - _density(talk @ message, 0.005, 10), 4)
    assert reading.talk < 0 and reading.margin == none.read(message).margin  # the margin does not move
    assert reading.urgency == none.read(message).urgency and reading.worry == none.read(message).worry
    for left_out, worries_left, talk_left in [(3, 19, 30), (25, 20, 29), (70, 20, 30)]:  # a worry, talk, another
        without = DangerDetector(examples, danger, np.delete(ordinary, left_out, axis=0), near=10,
                                 worries=worries_left, talk=talk_left)
        assert chatty.read(message, skip_ordinary=left_out) == without.read(message), left_out


@pytest.mark.parametrize(("group", "reading_of", "words", "probes"), [
    ("worries", "urgency", {"danger": ["いまなぐられている", "たすけていますぐ"],
                            "concern": ["さいきんきになっている", "しんぱいです"]}, ("いまなぐられている", "さいきんしんぱいです")),
    ("talk", "talk", {"danger": ["へやからでてこない", "なにもたべていない"],
                      "talk": ["ひるまでねている", "きょうはいいてんき"]}, ("へやからでてこない", "ひるまでねている")),
])
def test_the_wording_against_a_group_tells_danger_from_it(group: str, reading_of: str, words: dict[str, list[str]],
                                                          probes: tuple[str, str]) -> None:
    """The worries' wording tells danger now from a worry, the small talk's danger from small
    talk; a left-out danger message takes its own grams out of the danger side."""
    rng = np.random.default_rng(19)
    message = _unit(rng, 1, dim=64)[0]
    near = _towards(rng, message, 40, 0.9)
    examples = [CrisisExample(f"d{i}", "danger", kind="dv") for i in range(20)]
    worded = KindWording.from_counts({cls: gram_counts(texts * 10) for cls, texts in words.items()}, min_count=1)
    wording = {"worries": "urgency_wording", "talk": "talk_wording"}[group]
    detector = DangerDetector(examples, near[:20], near[20:], near=10,
                              **{group: 20, wording: worded, f"{wording}_weight": 0.01})
    plain = DangerDetector(examples, near[:20], near[20:], near=10, **{group: 20})

    def read(d: DangerDetector, text: str = "", **skip: int) -> float:
        return getattr(d.read(message, text, **skip), reading_of)

    danger, other = probes
    assert read(detector, danger) > read(plain) > read(detector, other)
    assert read(detector, danger, skip_danger=0) < read(detector, danger)
