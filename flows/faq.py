"""Typed questions answered from the authored FAQ: a question is scored against every example phrasing.

The bot never writes medical text of its own: a topic's answer is a list of sourced text ids
(content/faq.yaml). Before they are compared, a question and each of the locale's example
phrasings (<locale>/faq.yaml) are `faq_normalise`d, the locale's filler words (`stop_words`) are
left out and every word is cut to its first `stem_length` letters, so that inflected forms
(Turkish "agrili", "agrilar"; Bulgarian "болката", "болки") read alike; in a language written in
another script, Latin letters are read as the letters they stand for (the table of the locale's
warning signs, `latin`), so "shte boli li" is compared as "ще боли ли". A topic's score (0-100)
mixes two likenesses, in the shares content/faq.yaml sets (`fuzzy_weight`, `centroid_weight`):
word likeness, fuzzy string matching with rapidfuzz against the topic's closest phrasing; and
letter likeness, the cosine of character n-gram TF-IDF vectors (scikit-learn), against the
closest phrasing and against all of the topic's phrasings together, so that a question worded
like none of them, but with the words they use between them, still reaches the topic. A topic's
`keywords` (drug names, key nouns) add `keyword_bonus` to its score when the question holds one,
typos allowed, however long the question is. A locale's small-talk and off-topic phrasings
("thank you", "where do I park") compete too: when one of them is closest, the question is not for
the FAQ and the bot is not sure. So it is when the best topic leads the next one, or the small
talk, by less than `margin`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz import fuzz, process
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from flows import callbacks
from flows.content import Content
from flows.reading_models import FaqPhrasings, FaqTopics
from flows.redflags import normalise

FAQ_PREFIX = callbacks.FAQ_PREFIX  # a topic button's callback data: "faq.<topic id>"
NOT_SURE = "faq.not_sure"
FAQ_TEXTS = (NOT_SURE,)  # texts the engine shows when the content has an FAQ
CLOSEST = 3  # topics offered as buttons when the bot is not sure
_LATIN = re.compile(r"[a-z]")
_NOT = re.compile(r"(?<=\w)n t\b")  # "can t", "shouldn t", "don t": one word each
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")  # where a sentence of a message ends
QUESTION_LIMIT = 300  # a question is read this far: questions are short, and it bounds the work
_SMALL_TALK = ""  # the pseudo-topic of small-talk phrasings (topic ids are never empty)
# A question word hits a keyword when the two have at least this rapidfuzz ratio (normalised
# Indel similarity: a letter more or less costs one edit, a letter different two). A whole-word
# keyword of seven letters or more still hits with a letter more or less ("coumadine" for
# "coumadin"; even two more), one of eight or more with one letter different ("apixaben" for
# "apixaban"). Shorter keywords must be typed exactly: a letter more or less would make "car" hit
# "care" and "облека" (to dress) hit "облекча" (to ease). A keyword written with a trailing `*` is
# a word's beginning: it is compared with the question word cut to its length, so "metformin*"
# hits "metforminimi" and "еликвис*" hits "еликвиса"; a word shorter than the beginning does not
# begin so ("metformi" is not "metformin*"). Cut to the same length, the two differ by a letter
# wrong, missing or extra only from eight letters on: one letter different makes other words of
# seven letters alike ("инжекци-я", injection, and "инфекци-я", infection).
KEYWORD_CUTOFF = 87.0
EXACT_BELOW = 7  # keywords of fewer letters must be typed exactly
PREFIX_MARK = "*"


def faq_normalise(text: str) -> str:
    """A question or phrasing as compared: `normalise`d, and Turkish dotless i read as i."""
    # Patients without a Turkish keyboard type "agrili mi" for the word with dotless i (U+0131);
    # `normalise` folds the other Turkish letters to plain ones, but U+0131 is a letter of its own.
    # "can't" is one word, as typed without the apostrophe ("cant"): not "can" and a stray "t",
    # which would read "who can't have it" as "who can have it".
    return _NOT.sub("nt", normalise(text[:QUESTION_LIMIT]).replace("\u0131", "i")).strip()


def keyword_form(keyword: str) -> tuple[str, bool]:
    """A keyword as compared, and whether it is a word's beginning (written with a trailing `*`)."""
    prefix = keyword.rstrip().endswith(PREFIX_MARK)
    return faq_normalise(keyword.rstrip().removesuffix(PREFIX_MARK)), prefix


# A question's score against an example (0-100) is the mean of these rapidfuzz scorers. The
# token-set ratio is high when one holds the other's words, whatever else is said; the
# token-sort ratio also weighs what is left over, so a one-word example does not swallow every
# question that mentions the word. Chosen on bench/faq.py over each alone, plain ratio, WRatio,
# QRatio and the partial ratios.
SCORERS = (fuzz.token_set_ratio, fuzz.token_sort_ratio)


def scores(question: str, examples: Sequence[str]) -> list[float]:
    """Each prepared example's score (0-100) for a prepared question, in the examples' order."""
    totals = [0.0] * len(examples)
    for scorer in SCORERS:  # each pass runs in rapidfuzz's native code
        for _, value, index in process.extract(question, examples, scorer=scorer, processor=None, limit=None):
            totals[index] += value
    return [total / len(SCORERS) for total in totals]


@dataclass(frozen=True)
class Wording:
    """How a locale's words are read before they are compared: filler dropped, words cut short, and
    for a language written in another script (Bulgarian), Latin letters read as the letters they
    stand for (the warning signs' `latin` table, longest first: "shte boli" is read "ще боли")."""

    stop_words: frozenset[str] = frozenset()
    stem_length: int = 0  # 0: whole words
    latin: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls, stop_words: Iterable[str] = (), stem_length: int = 0, latin: Iterable[tuple[str, str]] = ()
    ) -> Wording:
        ordered = tuple(sorted(((a, b) for a, b in latin), key=lambda pair: -len(pair[0])))
        return cls(frozenset(faq_normalise(word) for word in stop_words), stem_length, ordered)

    @cached_property
    def _latin_pattern(self) -> re.Pattern[str]:
        return re.compile("|".join(re.escape(latin) for latin, _ in self.latin))

    def typed(self, text: str) -> list[str]:
        """The words of a text as typed: normalised, nothing dropped or cut."""
        return faq_normalise(text).split()

    def words(self, text: str) -> list[str]:
        """The words of a text as compared with keywords: normalised and in the locale's script."""
        norm = faq_normalise(text)
        if self.latin and _LATIN.search(norm):
            table = dict(self.latin)
            norm = self._latin_pattern.sub(lambda m: table[m.group(0)], f" {norm} ")
        return norm.split()

    def content_words(self, words: Sequence[str]) -> list[str]:
        """The words without the filler, cut to the stem length; all of them when all are filler."""
        kept = [word for word in words if word not in self.stop_words] or list(words)
        return [word[: self.stem_length] for word in kept] if self.stem_length else kept

    def prepare(self, text: str) -> str:
        """A question or phrasing as scored: its content words, cut to the stem length."""
        return " ".join(self.content_words(self.words(text)))


# Letter likeness compares character n-grams of two to five letters, taken within words (padded
# with a space, so word beginnings and ends count), each weighted by how rare it is among the
# phrasings (TF-IDF, counts dampened by their logarithm). Chosen on the bench's tuning and first
# held-out tables over three to five letters and two to four.
NGRAMS = (2, 5)


class LetterLikeness:
    """The TF-IDF cosine of a question to each example, and to each topic's examples together."""

    def __init__(self, examples: Sequence[str], topics: Sequence[str]) -> None:
        self.topics = list(dict.fromkeys(topics))  # in the order of their first example
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True)
        self.examples = self.vectorizer.fit_transform(examples)  # a unit-length row per example
        row = {topic: i for i, topic in enumerate(self.topics)}
        member = sparse.csr_matrix(
            (np.ones(len(topics)), ([row[t] for t in topics], range(len(topics)))),
            shape=(len(self.topics), len(topics)),
        )
        # A topic's examples together: the direction of their sum (of their mean, the same).
        self.together = normalize(member @ self.examples)

    def of(self, question: str) -> tuple[list[float], dict[str, float]]:
        """The cosine (0-1) to each example, in the examples' order, and to each topic as a whole."""
        vector = self.vectorizer.transform([question]).T
        each = (self.examples @ vector).toarray().ravel().tolist()
        together = (self.together @ vector).toarray().ravel().tolist()
        return each, dict(zip(self.topics, together, strict=True))


@dataclass(frozen=True)
class FaqMatch:
    """The best topic for a question and its score, whether to answer it, and the closest topics."""

    topic: str | None
    score: float  # the best topic's score (0-100, see FaqMatcher.likeness), plus the keyword bonus
    confident: bool
    closest: tuple[str, ...]  # up to CLOSEST distinct topics with any likeness, best first
    small_talk: bool = False  # a small-talk phrasing was at least as close as every topic
    runner_up: float = 0.0  # the score of the next topic, or of small talk when that is closer
    keywords: tuple[str, ...] = ()  # topics whose keywords the question holds, best first


class FaqMatcher:
    """Matches questions in one language against its topics' example phrasings; built once."""

    def __init__(
        self,
        phrasings: Mapping[str, Sequence[str]],
        threshold: float,
        small_talk: Sequence[str] = (),
        *,
        keywords: Mapping[str, Sequence[str]] | None = None,
        wording: Wording | None = None,
        keyword_bonus: float = 0.0,
        margin: float = 0.0,
        fuzzy_weight: float = 1.0,
        centroid_weight: float = 0.0,
    ) -> None:
        self.threshold = threshold
        self.margin = margin
        self.keyword_bonus = keyword_bonus
        self.fuzzy_weight = fuzzy_weight
        self.centroid_weight = centroid_weight
        self.wording = wording or Wording()
        self._examples: list[str] = []
        self._topics: list[str] = []
        for topic, examples in [*phrasings.items(), (_SMALL_TALK, small_talk)]:
            for example in examples:
                self._examples.append(self.wording.prepare(example))
                self._topics.append(topic)
        self._letters = (
            LetterLikeness(self._examples, self._topics) if fuzzy_weight < 1 and any(self._examples) else None
        )
        # Keywords grouped by the length a question word is cut to (0: not cut, for whole-word
        # keywords) and by the ratio they need: each group is one rapidfuzz pass per word.
        self._keywords: dict[tuple[int, float], tuple[list[str], list[str]]] = {}
        for topic, words in (keywords or {}).items():
            for word in words:
                keyword, prefix = keyword_form(word)
                cutoff = 100.0 if len(keyword) < EXACT_BELOW else KEYWORD_CUTOFF
                group = self._keywords.setdefault((len(keyword) if prefix else 0, cutoff), ([], []))
                group[0].append(keyword)
                group[1].append(topic)

    @classmethod
    def of(
        cls,
        phrasings: FaqPhrasings,
        topics: FaqTopics,
        threshold: float | None = None,
        latin: Iterable[tuple[str, str]] = (),
    ) -> FaqMatcher:
        """The matcher of a locale's phrasings file, with the topics file's settings; `latin`, the
        locale's Latin letters and what they stand for (its warning signs' table)."""
        return cls(
            phrasings.phrasings,
            topics.threshold if threshold is None else threshold,
            phrasings.small_talk,
            keywords=phrasings.keywords,
            wording=Wording.of(phrasings.stop_words, phrasings.stem_length, latin),
            keyword_bonus=topics.keyword_bonus,
            margin=topics.margin,
            fuzzy_weight=topics.fuzzy_weight,
            centroid_weight=topics.centroid_weight,
        )

    def keyword_topics(self, words: Sequence[str]) -> set[str]:
        """The topics with a keyword among the question's words (typos allowed)."""
        found: set[str] = set()
        unique = set(words)
        for (length, cutoff), (keywords, topics) in self._keywords.items():
            for word in unique:
                if len(word) < length:
                    continue  # a word shorter than a keyword's beginning does not begin so
                cut = word[:length] if length else word
                hits = process.extract(cut, keywords, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None)
                found.update(topics[index] for _, _, index in hits)
        return found

    def likeness(self, question: str) -> dict[str, float]:
        """Each topic's score (0-100) for a prepared question, before keywords: its word likeness
        to its closest example, mixed with its letter likeness to its closest example and to all of
        its examples together. Topics in the order of their first example; small talk included."""
        if not question:
            return {}
        words: dict[str, float] = {}
        if self.fuzzy_weight > 0:
            for topic, value in zip(self._topics, scores(question, self._examples), strict=True):
                words[topic] = max(words.get(topic, 0.0), value)
        if self._letters is None:
            return {topic: self.fuzzy_weight * value for topic, value in words.items()}
        each, together = self._letters.of(question)
        closest: dict[str, float] = {}
        for topic, value in zip(self._topics, each, strict=True):
            closest[topic] = max(closest.get(topic, 0.0), value)
        # Small talk is many unrelated things, not a topic: it is read by its closest phrasing only.
        letters = {
            topic: 100 * (value if topic == _SMALL_TALK else self._letter_mix(value, together[topic]))
            for topic, value in closest.items()
        }
        return {
            topic: self.fuzzy_weight * words.get(topic, 0.0) + (1 - self.fuzzy_weight) * value
            for topic, value in letters.items()
        }

    def _letter_mix(self, closest: float, together: float) -> float:
        return (1 - self.centroid_weight) * closest + self.centroid_weight * together

    def match(self, text: str) -> FaqMatch:
        """The best topic for a question; confident when it clears the threshold, beats small talk
        and beats the next topic by the margin. A message that tells something before it asks
        ("I faint at blood tests, my mum says it's nothing. Does the procedure itself hurt?") is,
        when the whole is not confident, matched again on its sentences that ask (a question
        mark) alone: their topic is taken when it is confident and among the closest topics of
        the message read with those sentences first (so that a question past `QUESTION_LIMIT` is
        read), unless the other sentences are confidently another topic (a first question typed
        without its mark: "Should I stop my Eliquis / Can I eat before?" stays not sure)."""
        whole = self._match(text)
        if whole.confident:
            return whole
        sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
        asking = [s for s in sentences if "?" in s]
        telling = [s for s in sentences if "?" not in s]
        if not asking or not telling:
            return whole
        asked = self._match(" ".join(asking))
        if not asked.confident:
            return whole
        told = self._match(" ".join(telling))
        if told.confident and told.topic != asked.topic:
            return whole
        context = whole if len(text) <= QUESTION_LIMIT else self._match(" ".join([*asking, *telling]))
        return asked if asked.topic in context.closest else whole

    def _match(self, text: str) -> FaqMatch:
        """The best topic for the whole text (see `match`)."""
        words = self.wording.words(text)
        question = " ".join(self.wording.content_words(words))
        best = {topic: score for topic, score in self.likeness(question).items() if score > 0}
        # Keywords as typed too: a Latin drug name ("xarelto") is a keyword of its own.
        hit = self.keyword_topics([*words, *self.wording.typed(text)]) if self.keyword_bonus else set()
        for topic in sorted(hit):  # a fixed order for topics scored by a keyword alone
            best[topic] = best.get(topic, 0.0) + self.keyword_bonus  # not capped: the order stays
        chatter = best.pop(_SMALL_TALK, 0.0)
        ranked = sorted(best, key=lambda t: -best[t])  # stable: ties keep the examples' order
        closest = tuple(ranked[:CLOSEST])
        keywords = tuple(t for t in ranked if t in hit)
        if not closest:
            return FaqMatch(None, 0.0, confident=False, closest=(), small_talk=chatter > 0, runner_up=chatter)
        top = closest[0]
        runner_up = max(best[ranked[1]] if len(ranked) > 1 else 0.0, chatter)
        small_talk = chatter >= best[top]
        confident = best[top] >= self.threshold and not small_talk and best[top] - runner_up >= self.margin
        return FaqMatch(top, best[top], confident, closest, small_talk, runner_up, keywords)


def faq_matchers(content: Content) -> dict[str, FaqMatcher]:
    """A matcher per locale with phrasings; none when the content has no FAQ."""
    if content.faq is None:
        return {}
    return {
        code: FaqMatcher.of(locale.faq, content.faq, latin=locale.signs.latin if locale.signs else ())
        for code, locale in content.locales.items()
        if locale.faq is not None
    }
