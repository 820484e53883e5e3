"""The learned layer of the warning-sign detector: how likely a message reports a sign now.

Patterns and the safety net (flows/redflags.py) miss wordings nobody wrote down ("I swooned in
the shower", "everything went black and I woke up on the floor"). This layer learns from the
locale's example messages (content/<locale>/warning_examples.yaml: signs reported now, and
ordinary messages that use the same words) which letter sequences tell the two apart; a message
the other layers let through that it finds at least `threshold` likely to report a sign gets the
one-tap question about every sign. It never gives the urgent guidance itself; a sign the patterns
read as reported in a message it finds very unlikely (under `doubt_below`) to report one is asked
about with one tap (the patterns missed a denial, a question, something over), not alarmed at once.

A logistic regression over letter sequences of two to five letters (TF-IDF, scikit-learn),
trained once per set of examples (on first use) and shared by every engine in the process.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

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


@functools.cache
def _fitted(texts: tuple[str, ...], signs: tuple[bool, ...]) -> tuple[TfidfVectorizer, Any, float]:
    """The fitted letter-sequence vectoriser, and the weights and bias of "reports a sign"."""
    model = Pipeline(
        [
            ("letters", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
            ("odds", LogisticRegression(C=FIT, max_iter=3000, class_weight="balanced")),
        ]
    )
    model.fit(list(texts), list(signs))
    odds: LogisticRegression = model.named_steps["odds"]
    assert list(odds.classes_) == [False, True]  # the weights are those of True
    return model.named_steps["letters"], odds.coef_.ravel(), float(odds.intercept_[0])


class SignModel:
    """How likely a normalised message reports a warning sign (0-1), learned from examples."""

    def __init__(self, examples: WarningExamples, normalise: Callable[[str], str]) -> None:
        texts, signs = training_rows(examples)
        self._texts = tuple(normalise(text) for text in texts)
        self._signs = signs
        self.threshold = examples.threshold
        self.doubt_below = examples.doubt_below

    def likelihood(self, *normalised: str) -> float:
        """The highest likelihood among these readings of one message (as typed, in script)."""
        letters, weights, bias = _fitted(self._texts, self._signs)  # trained on first use, once per process
        # The logistic regression's own likelihood, computed directly: half the time of predict_proba.
        odds = letters.transform(list(normalised)) @ weights + bias
        return float(1 / (1 + math.exp(-max(odds))))

    def asks(self, *normalised: str) -> bool:
        """Whether the message is likely enough to report a sign to ask about it."""
        return self.likelihood(*normalised) >= self.threshold

    def doubts(self, *normalised: str) -> bool:
        """Whether a message the patterns read as a report is too unlike one to alarm at once."""
        return self.likelihood(*normalised) < self.doubt_below
