"""Every tunable number of matching and deciding, in one place, with defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MatchSettings", "FIELD_WEIGHTS"]

# How much a word found in each field of an entry counts, relative to the title.
FIELD_WEIGHTS: dict[str, float] = {
    "title": 1.0,
    "aliases": 1.0,
    "examples": 0.8,
    "summary": 0.45,
    "who": 0.35,
    "how_to_apply": 0.3,
    "category": 0.3,
}


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Thresholds of the decision, on the 0–1 match score.

    answer: the best service is shown alone when it scores at least `answer`
        and leads the next by `margin`.
    choice: services scoring at least `choice` (and within `choice_window` of
        the best) are offered as choices; below it the bot says it did not
        find a fitting service.
    """

    answer: float = 0.62
    margin: float = 0.2
    # …or by `named_margin` when its name (phrase evidence ≥ `named`) is in the
    # question and no runner-up's is.
    named: float = 0.8
    named_margin: float = 0.1
    # …or, below `answer`, when it scores at least `clear` and leads by `clear_margin`:
    # one service plainly fits a message that mentions things no entry speaks of.
    clear: float = 0.5
    clear_margin: float = 0.3
    choice: float = 0.41
    choice_window: float = 0.22
    max_choices: int = 4
    results: int = 5
    # The two signals combine as 1 − (1 − phrase_weight·phrase)(1 − coverage).
    phrase_weight: float = 0.9
    # A phrase (title/alias) counts as found in the question at this similarity.
    phrase_min: float = 0.8
    # …and a name longer than the whole question must be this close to it.
    whole_min: float = 0.88
    # Names shorter than this (in kana) must appear exactly: fuzzy matches of
    # short names inside long questions are mostly coincidence.
    fuzzy_phrase_len: int = 5
    # A near miss exactly at the cut-off is worth this much (an exact match 1),
    # so barely-similar names weigh little.
    fuzzy_floor_value: float = 0.3
    # Added (× name similarity 0–1) to break near-ties between candidates.
    name_bonus: float = 0.06
    # How much a found name is worth when it is a small part of a long question.
    phrase_base: float = 0.45
    # Typo tolerance: a question word meets a knowledge word at this similarity.
    fuzzy_min: float = 85.0
    fuzzy_limit: int = 3
    # Candidate limits that keep a question's cost flat as the knowledge grows.
    phrase_candidates: int = 48
    # Keys (and sound n-grams) shared by more services than this are not walked in
    # full: they only refine the scores of the best candidates found by rarer keys.
    max_postings: int = 500
    candidate_pool: int = 300
    ended_factor: float = 0.92
    # A service whose name is in the message only to set it aside (〇〇以外で) keeps this share.
    excluded_factor: float = 0.4
    # The final order also weighs BM25 (term frequency, entry length) over the
    # best candidates, scaled 0–1 among them; it reorders, never raises a score.
    bm25_weight: float = 0.2
    # Dense retrieval (when an encoder is available): a cosine of `dense_low` or less
    # counts 0, `dense_high` or more counts 1; the fused score is
    # (1 − dense_weight)·lexical + dense_weight·dense, over both candidate lists.
    dense_weight: float = 0.4
    dense_low: float = 0.82
    dense_high: float = 0.92
    dense_candidates: int = 10
    # A message is encoded up to this many characters (encoding time grows with length).
    dense_max_chars: int = 48
    # When both retrievers put the same service first, it is answered at this fused
    # score with this lead over the next.
    agree_answer: float = 0.48
    agree_margin: float = 0.06
    # The lexical rules alone answer only when no other candidate is closer in
    # meaning (cosine) than theirs by more than this.
    dense_veto: float = 0.05
    # Reorder the first fused candidates by the fitted reranker (`bot/retrieval/rerank.json`,
    # docs/reranker.md). Its probability replaces the agreement rule (`agree_*`): the first
    # is answered at `rerank_answer`; the lexical rules still answer what they find clear.
    rerank: bool = True
    rerank_answer: float = 0.8
    # When the reranker's "none of these" (a question no service here fits) is at least
    # this likely, the bot says it found nothing sure and offers the candidates as
    # "もしかして", unless the lexical rules find a clear winner. Cross-validated by
    # benchmarks/fit_rerank.py, 0.4 declines 68 % of the out-of-scope questions and 0.9 % of
    # the knowledge's examples.
    rerank_decline: float = 0.4
    # Below `choice`, candidates at least this good are still offered as "もしかして".
    maybe: float = 0.25
    # The danger detector: a message read as danger by at least `danger_emergency` is an
    # emergency; down to `danger_concern` it is a worry (the usual answer plus one kind
    # line). The reading adds its meaning (Parzen densities of cosines to danger and to
    # ordinary messages, at temperature `danger_tau`, danger minus ordinary) and its
    # wording (character grams, times `danger_wording`); each density is over the message's
    # `danger_near` nearest on that side, so a side's size moves no margin. Thresholds were set
    # by leave-one-out over the corpus (benchmarks/danger_calibration.py): emergency at about 5 %
    # of look-alikes (4.4 % with stop 26's writers; 4.8 % at stop 25; 0.006 until the sixteenth
    # writer's small talk joined; 0.0055 until stop 37, whose two writers' look-alikes lowered
    # the alarms across writers enough to buy back more recall at 0.0045 than they had cost;
    # 0.0045 until stop 39, whose family-voice writer did the same again at 0.0035; 0.0035
    # until stop 43, whose ten writers cut the alarms across writers by a fifth at equal
    # recall at 0.0025), concern 9 %. Its kind is the one whose messages surround it most densely
    # (temperature `danger_kind_tau` over each kind's `danger_kind_near` nearest), plus its
    # wording (naive Bayes over character grams per kind, times `danger_kind_wording`); a
    # second kind within `danger_kind_margin` rides along. Chosen across writers (each writer's
    # 3,993 danger messages read by a detector built from the others'; benchmarks/
    # danger_calibration.py): the right kind first 0.880 (density alone 0.803), among the
    # kinds shown 0.927 (0.871), two kinds shown 22 % (31 %). With stop 26's eighteenth writer
    # (4,393 danger messages): 0.891, 0.937, 20 %.
    danger_kind_tau: float = 0.02
    danger_kind_near: int = 20
    danger_kind_margin: float = 0.01
    danger_kind_wording: float = 0.005
    danger_tau: float = 0.005
    danger_near: int = 200
    danger_wording: float = 0.004
    danger_min_chars: int = 5
    # …and a message that plainly asks for one service needs this much more margin.
    danger_asking: float = 0.006
    danger_emergency: float = 0.0025
    # A term rule's emergency becomes a worry when the detector reads the message below this.
    # Leave-writer-out over the corpus (benchmarks/danger_calibration.py, stop 29, 21 writers):
    # of the 1,361 danger messages a term fires on, 3 fall below −0.02 (1 below −0.035, the
    # floor until then); of the 433 look-alikes, 350 (286).
    danger_term_floor: float = -0.02
    # …in a message of at least this many characters. A term in a few words (じさつしたい) is a
    # statement: what makes a term harmless (a course, a film, a past) takes words to say. Of the
    # 504 look-alikes in the corpus and held-out sets that the floor softened at stop 27 (−0.035),
    # 2 are shorter.
    danger_term_floor_chars: int = 12
    danger_concern: float = 0.0
    # A message that tells and asks is read again without its asking sentences
    # (`bot.safety.situation`) when read whole it comes this near a worry (stop 34 to 41: at a
    # worry, 0.0). Residents who ask for something plain bury the danger deeper than that: of a
    # writer's 18 misses of this kind (the check alone), 17 read whole between −0.025 and 0.
    # Their harmless twins (the same question, a harmless aside) sit in the same band, so there
    # the situation must read clearly as danger (`danger_situation_clear`, well above the line).
    # Stop 41, without that: held out, 11 more of 2,816 danger messages caught for 19 more
    # alarms of 3,653, not kept. Stop 42, with it at 0.02: held out 2,736 → 2,742 for 118 → 120
    # alarms, worries 68 → 68 of 326; across nine writers (each judged by the bot built without
    # them) 2,141 → 2,155 of 2,463 for 106 → 108 alarms of 2,617, worries 62 → 69 of 720.
    danger_situation_gate: float = -0.01
    danger_situation_clear: float = 0.02
    # The detector's emergency also needs the message nearer danger than the corpus' worries
    # (`Reading.urgency`: densities of danger minus worries, plus the wording of the two
    # times `danger_urgency_wording`) by `danger_urgency`; else it is a worry.
    # Across writers (benchmarks/danger_calibration.py: each writer's messages read by a
    # detector built from the others'), of what the detector alone reads as an emergency this
    # turns 38.8 % of the worries (71 of 183) into worries, and 0.6 % of the danger (21 of 3,540).
    danger_urgency: float = 0.0
    danger_urgency_wording: float = 0.008
    # A message whose meaning lies among the corpus' worries more than among its other ordinary
    # messages and the examples by this much (`Reading.worry`) is a worry too. Across writers,
    # 53 % of the worries against 1.3 % of the look-alikes and 0.4 % of the knowledge's examples
    # (benchmarks/danger_calibration.py).
    danger_worry: float = 0.005
    # The detector's emergency also needs the message nearer danger than the corpus' small talk
    # (`Reading.talk`: densities of danger minus small talk, plus the wording of the two times
    # `danger_talk_wording`) by `danger_talk`, unless its margin is `danger_talk_ceiling` or
    # more; else it is a worry. Across writers (benchmarks/danger_calibration.py, stop 30), of
    # what the detector alone read as an emergency (margin and urgency), this turned 25 of 223
    # small talk messages and 10 of 113 other look-alikes into worries, and 4 of 5,942 danger
    # messages; without the ceiling 44, 17 and 25 (one writer's danger lost 14). A term's
    # emergency in a message of `danger_term_floor_chars` or more is softened the same way: 14
    # look-alikes above the floor of the 433 a term fires on, none of its 1,361 danger messages.
    danger_talk: float = 0.0
    danger_talk_wording: float = 0.008
    danger_talk_ceiling: float = 0.01
    field_weights: dict[str, float] = field(default_factory=lambda: dict(FIELD_WEIGHTS))
