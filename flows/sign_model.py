"""The learned layer of the warning-sign detector: how likely a message reports a sign now.

Patterns and the safety net (flows/redflags.py) miss wordings nobody wrote down ("I flaked out in
the shower", "everything went black and I woke up on the floor"). This layer learns from the
locale's example messages (content/<locale>/warning_examples.yaml: signs reported now, and
ordinary messages that use the same words) which letter sequences tell the two apart; a message
the other layers let through that it finds at least `threshold` likely to report a sign gets the
one-tap question about every sign. It never gives the urgent guidance itself; a sign the patterns
read as reported in a message it finds very unlikely (under `doubt_below`) to report one is asked
about with one tap (the patterns missed a denial, a question, something over), not alarmed at once;
a sign in a message that says, in the part naming it, that it is over now, which it finds unlikely
(under `settle_below`) to report one, is answered calmly rather than asked about ("had 38 the first
night. The fever went, 36.6 since").

A logistic regression over letter sequences of two to five letters and over words and pairs of
words (TF-IDF, scikit-learn), trained once per set of examples (on first use) and shared by every
engine in the process. The words tell apart what the letters blur ("no" beside a sign word, "was"
against "is"): leaving each blind table out of training in turn and reading it, they asked fewer
ordinary messages with no alarm lost (the session note of 2026-12-05 has the figures).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from flows.reading_models import WarningExamples

# How hard the model fits its examples (scikit-learn's C): higher follows them more closely.
FIT = 30.0


def training_rows(examples: WarningExamples) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """Every example message, and whether it reports a sign (vague complaints do: they ask)."""
    rows = [(row.text, True) for row in examples.alarms]
    rows += [(row.text, False) for row in examples.ordinary if not row.ambiguous]
    rows += [(row.text, True) for row in examples.confirm]
    rows += [(row.text, False) for row in examples.calm]
    return tuple(text for text, _ in rows), tuple(sign for _, sign in rows)


# The two ways a message is cut into features: letter sequences within words, words and pairs of words.
_VECTORISERS = {
    "letters": {"analyzer": "char_wb", "ngram_range": (2, 5)},
    "words": {"analyzer": "word", "ngram_range": (1, 2)},
}


def _vectoriser(name: str) -> TfidfVectorizer:
    """A new, unfitted vectoriser of this name."""
    return TfidfVectorizer(sublinear_tf=True, **_VECTORISERS[name])


@dataclass(frozen=True)
class _Scorer:
    """One vectoriser's part of the fitted model: how it cuts a message, and for each feature its
    inverse document frequency and its weight toward "reports a sign"."""

    analyse: Callable[[str], list[str]]
    table: dict[str, tuple[float, float]]

    def odds(self, text: str) -> float:
        """This part's share of the log-odds: TF-IDF (log-scaled counts, unit length) times the weights."""
        total = square = 0.0
        for feature, count in Counter(self.analyse(text)).items():
            if (entry := self.table.get(feature)) is None:
                continue
            idf, weight = entry
            value = (1 + math.log(count)) * idf
            total += value * weight
            square += value * value
        return total / math.sqrt(square) if square else 0.0


def fit(texts: Sequence[str], signs: Sequence[bool]) -> Pipeline:
    """The model fitted on these messages: TF-IDF of each vectoriser side by side, then the odds."""
    features = FeatureUnion([(name, _vectoriser(name)) for name in _VECTORISERS])
    model = Pipeline(
        [("features", features), ("odds", LogisticRegression(C=FIT, max_iter=3000, class_weight="balanced"))]
    )
    model.fit(list(texts), list(signs))
    return model


@functools.cache
def _fitted(texts: tuple[str, ...], signs: tuple[bool, ...]) -> tuple[tuple[_Scorer, ...], float]:
    """Each vectoriser's scorer, and the bias of "reports a sign". Scoring a message reads these
    tables directly: scikit-learn's transform costs about a millisecond a call in checks alone."""
    model = fit(texts, signs)
    odds: LogisticRegression = model.named_steps["odds"]
    assert list(odds.classes_) == [False, True]  # the weights are those of True
    weights = odds.coef_.ravel()
    scorers, offset = [], 0
    for name, vectoriser in model.named_steps["features"].transformer_list:
        names = vectoriser.get_feature_names_out()
        table = {
            str(feature): (float(idf), float(weights[offset + i]))
            for i, (feature, idf) in enumerate(zip(names, vectoriser.idf_, strict=True))
        }
        # cut by an unfitted twin: the fitted vectoriser, and its vocabulary, need not stay in memory
        scorers.append(_Scorer(_vectoriser(name).build_analyzer(), table))
        offset += len(names)
    assert offset == len(weights)
    return tuple(scorers), float(odds.intercept_[0])


class SignModel:
    """How likely a normalised message reports a warning sign (0-1), learned from examples."""

    def __init__(self, examples: WarningExamples, normalise: Callable[[str], str]) -> None:
        texts, signs = training_rows(examples)
        self._texts = tuple(normalise(text) for text in texts)
        self._signs = signs
        self.threshold = examples.threshold
        self.doubt_below = examples.doubt_below
        self.settle_below = examples.settle_below
        # the fitted tables, kept here once fitted: looking them up in `_fitted`'s cache hashes
        # every example message again (about half a millisecond a message)
        self._scorers: tuple[tuple[_Scorer, ...], float] | None = None

    @property
    def rows(self) -> int:
        """How many example messages it learns from."""
        return len(self._texts)

    def train(self) -> None:
        """Learn from the examples now rather than on the first message (a few seconds each)."""
        self._fitted()

    def _fitted(self) -> tuple[tuple[_Scorer, ...], float]:
        """The fitted tables: trained on first use, once per process for the same examples."""
        if self._scorers is None:
            self._scorers = _fitted(self._texts, self._signs)
        return self._scorers

    def likelihood(self, *normalised: str) -> float:
        """The highest likelihood among these readings of one message (as typed, in script)."""
        scorers, bias = self._fitted()
        odds = max(bias + sum(scorer.odds(text) for scorer in scorers) for text in normalised)
        return 1 / (1 + math.exp(-odds))

    def asks(self, *normalised: str) -> bool:
        """Whether the message is likely enough to report a sign to ask about it."""
        return self.likelihood(*normalised) >= self.threshold

    def doubts(self, *normalised: str) -> bool:
        """Whether a message the patterns read as a report is too unlike one to alarm at once."""
        return self.likelihood(*normalised) < self.doubt_below

    def settles(self, *normalised: str) -> bool:
        """Whether a message that says its sign is over (or asks about it in general) is unlike a
        report enough to be answered calmly, not asked about."""
        return self.likelihood(*normalised) < self.settle_below
