"""Typed questions answered from the authored FAQ: a question is scored against every example phrasing.

The bot never writes medical text of its own: a topic's answer is a list of sourced text ids
(content/faq.yaml). Matching is fuzzy string matching with rapidfuzz between the normalised
question and each locale's example phrasings (<locale>/faq.yaml); a topic scores as its best
example. A locale's small-talk phrasings ("thank you", "are you a robot") compete too: when one
of them is closest, the question is not for the FAQ and the bot is not sure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from flows.content import Content
from flows.models import FaqPhrasings
from flows.redflags import normalise

FAQ_PREFIX = "faq."  # callback data of a topic button: "faq.<topic id>"
NOT_SURE = "faq.not_sure"
FAQ_TEXTS = (NOT_SURE,)  # texts the engine shows when the content has an FAQ
CLOSEST = 3  # topics offered as buttons when the bot is not sure
QUESTION_LIMIT = 300  # a question is read this far: questions are short, and it bounds the work
_SMALL_TALK = ""  # the pseudo-topic of small-talk phrasings (topic ids are never empty)


def faq_normalise(text: str) -> str:
    """A question or phrasing as compared: `normalise`d, and Turkish dotless i read as i."""
    # Patients without a Turkish keyboard type "agrili mi" for the word with dotless i (U+0131);
    # `normalise` folds the other Turkish letters to plain ones, but U+0131 is a letter of its own.
    return normalise(text[:QUESTION_LIMIT]).replace("\u0131", "i").strip()


# A question's score against an example (0-100) is the mean of these rapidfuzz scorers. The
# token-set ratio is high when one holds the other's words, whatever else is said; the
# token-sort ratio also weighs what is left over, so a one-word example does not swallow every
# question that mentions the word. Chosen on bench/faq.py over each alone, plain ratio, WRatio,
# QRatio and the partial ratios.
SCORERS = (fuzz.token_set_ratio, fuzz.token_sort_ratio)


def scores(question: str, examples: Sequence[str]) -> list[float]:
    """Each normalised example's score (0-100) for a normalised question, in the examples' order."""
    totals = [0.0] * len(examples)
    for scorer in SCORERS:  # each pass runs in rapidfuzz's native code
        for _, value, index in process.extract(question, examples, scorer=scorer, processor=None, limit=None):
            totals[index] += value
    return [total / len(SCORERS) for total in totals]


@dataclass(frozen=True)
class FaqMatch:
    """The best topic for a question and its score, whether to answer it, and the closest topics."""

    topic: str | None
    score: float
    confident: bool
    closest: tuple[str, ...]  # up to CLOSEST distinct topics with any likeness, best first
    small_talk: bool = False  # a small-talk phrasing was closer than any topic


class FaqMatcher:
    """Matches questions in one language against its topics' example phrasings; built once."""

    def __init__(
        self, phrasings: Mapping[str, Sequence[str]], threshold: float, small_talk: Sequence[str] = ()
    ) -> None:
        self.threshold = threshold
        self._examples: list[str] = []
        self._topics: list[str] = []
        for topic, examples in [*phrasings.items(), (_SMALL_TALK, small_talk)]:
            for example in examples:
                self._examples.append(faq_normalise(example))
                self._topics.append(topic)

    @classmethod
    def of(cls, phrasings: FaqPhrasings, threshold: float) -> FaqMatcher:
        """The matcher of a locale's phrasings file."""
        return cls(phrasings.phrasings, threshold, phrasings.small_talk)

    def match(self, text: str) -> FaqMatch:
        """The best topic for a question; confident when it clears the threshold and beats small talk."""
        question = faq_normalise(text)
        best: dict[str, float] = {}
        if question:
            found = scores(question, self._examples)
            for index in sorted(range(len(found)), key=lambda i: -found[i]):
                if found[index] > 0:  # best first: a topic's first example is its best
                    best.setdefault(self._topics[index], found[index])
        chatter = best.pop(_SMALL_TALK, 0.0)
        closest = tuple(list(best)[:CLOSEST])
        if not closest:
            return FaqMatch(None, 0.0, confident=False, closest=(), small_talk=chatter > 0)
        top = closest[0]
        small_talk = chatter >= best[top]
        return FaqMatch(top, best[top], best[top] >= self.threshold and not small_talk, closest, small_talk)


def faq_matchers(content: Content) -> dict[str, FaqMatcher]:
    """A matcher per locale with phrasings; none when the content has no FAQ."""
    if content.faq is None:
        return {}
    threshold = content.faq.threshold
    return {
        code: FaqMatcher.of(locale.faq, threshold)
        for code, locale in content.locales.items()
        if locale.faq is not None
    }
