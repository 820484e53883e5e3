"""Recognising warning signs in free text, in layers, from each locale's authored data.

1. Sign patterns (precise): a sign said plainly gets its urgent guidance at once.
2. The safety net (broad): a word for the body near a word for trouble ("my leg keeps
   dragging") asks "do you have this now?" with one tap, naming the likely sign. Trouble in a
   part of a sentence that names no body part is the body part's named in the part before
   ("nobody told me how to look after the wound, but now it is swollen").
3. Reading before alarming: a denial ("no fever"), something over ("used to", "fine now")
   or a question in general ("what signs should I watch for", "my neighbour had...") is not
   a report; the engine answers it instead of alarming. A denial does not reach past a comma
   followed by a body part of its own ("No fever, legs numb"), but does along a list ("no
   fever, chills or sweats"; "none of these: ..., ..."). Something over covers its own part of
   a sentence between commas, and the others only when its part names no other sign ("my legs
   went numb, the fever is fine now" is a report); a question in general does not reach back
   over a part that says the sign is happening to the patient: that part is read as written ("I've
   got chest pain, what should I do if it gets worse" is urgent; "I've got chest pain, just
   wondering if that's normal" gets one tap, a report beside a question in general).
   A question in general that the patient says is happening now ("is it normal to cough
   blood? happened twice today") is asked about with one tap; so is a sign asked about only as
   to whether it is normal ("is it normal that I can't feel my feet?": most often a report).
4. The learned layer (flows/sign_model.py): a message the layers above let through that the
   model, trained on the locale's example messages, finds likely to report a sign asks about
   every sign with one tap. It never alarms by itself; a sign plainly denied is taken out first.
   A sign the patterns read as reported in a message the model finds very unlikely to report
   one (the patterns missed a denial, a question, something over) is asked about with one tap.
   A sign in a message that says elsewhere that it is over now (`settled`) or asks about it in
   general (`hypothetical`) is asked about with one tap; answered calmly only when the part saying
   it is over names the sign itself, no other sign is asked about, and the model finds the whole
   message unlikely to report one (`settle_below`: "had 38 the first night. The fever went, 36.6").
5. A message that names the body and is otherwise not understood asks about every sign
   (the engine does that with `Triage.body`); not for a body word denied ("no cough"), in a
   question in general, over, or in harmless talk ("clean and dry", "can I shower"), nor in a
   sentence that says it is as it always is (`usual`: "I get up to pee twice, but it's been like
   that for years"), nor for the back named in everyday talk with no trouble word (`everyday`).
Spelling is forgiven: accents and Turkish dotless i folded, letters typed three times or
more read once, one letter wrong (not the first) in longer net words, Bulgarian typed in
Latin letters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import OSA

from flows.reading_models import SafetyNet, WarningExamples, WarningSign, WarningSigns
from flows.sign_model import SignModel

# Long messages are only scanned this far: warning signs come early, and it bounds the work.
SCAN_LIMIT = 2000
# The fewest words the learned layer reads on their own: a sentence of a longer message, or
# what is left of a message once the signs it denies are taken out.
PART_WORDS = 5
FRAGMENT_WORDS = 2  # a sentence this short is read with the one before it
PIECE_WORDS = 2  # the learned layer's doubt reads the rest of a message after a comma from two words on
# How many words either side of a sign's phrase are read for doubt ("no", "if", Turkish "yok").
DOUBT_WORDS_BEFORE = 8
DOUBT_WORDS_AFTER = 4
# Net words this long or longer also match with one letter wrong, missing, extra or swapped.
TYPO_FROM = 6
# How many different words each kind of net word remembers the tags of: about 1.2 MB each when full
# (measured), three kinds per language's reader and per language it borrows words from.
KNOWN_WORDS = 5_000
_SENTENCE = re.compile(r"(?:(?<!\d)\.|\.(?!\d)|[!?;\n])+")  # not the point in "36.8"
_COMMA = re.compile(r",(?!\d)")  # not the comma in "37,8"
_PIECE = re.compile(_SENTENCE.pattern + "|" + _COMMA.pattern)  # where a sentence or a part of one ends
_LATIN = re.compile(r"[a-z]")
_REPEATS = re.compile(r"(\w)\1{2,}")
_FOLD = str.maketrans({"ı": "i"})

Reading = Literal["report", "denied", "over", "general", "unsure"]
Action = Literal["urgent", "ask_one", "ask_any", "mentioned", "none"]
_LETTERS = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class SignMatch:
    """A warning sign found in a message, and how it was said."""

    id: str
    level: str
    text: str
    reading: Reading = "report"


@dataclass(frozen=True)
class Triage:
    """The verdict on a message.

    urgent: a sign reported plainly; ask_one: the signs in `asked` may be there, one tap tells;
    ask_any: something is wrong, unnamed; mentioned: a sign named but denied, over or asked
    about in general; none: no sign. `body` says the message names a part of the body;
    `learned` that the learned layer asks (ask_any), doubted the patterns' alarm (ask_one), or
    widened the net's question to every sign (ask_one).
    """

    action: Action
    sign: SignMatch | None
    asked: tuple[str, ...] = ()
    body: bool = False
    learned: bool = False  # the learned layer found a sign likely, or the patterns' report unlikely
    # (ask_one) a sign the message says is over, in the part naming it, nothing else asked: answered
    # calmly instead (mentioned, reading "over") when the learned layer finds the message unlike a report
    settled: bool = False


class _Part(str):
    """A normalised sentence or clause, and the numbers of the words that follow a comma in it."""

    commas: tuple[int, ...] = ()

    @classmethod
    def of(cls, text: str, commas: Iterable[int] = ()) -> _Part:
        part = cls(text)
        part.commas = tuple(commas)
        return part


def _sentence(raw: str) -> _Part:
    """A sentence normalised, knowing where its commas were (a denial does not reach past one)."""
    norm = normalise(raw)
    head, colon, tail = raw.partition(":")  # the commas of a list after a colon share its denial
    pieces = [normalise(piece).split() for piece in _COMMA.split(head)]
    pieces[-1] += normalise(colon + tail).split()
    if " " + " ".join(word for piece in pieces for word in piece) + " " != norm:
        return _Part.of(norm)  # (letters said thrice across a comma)
    starts = [sum(len(piece) for piece in pieces[:i]) for i in range(1, len(pieces))]
    return _Part.of(norm, (n for n in starts if n > 0))


def normalise(text: str) -> str:
    """Lower case, accents and dotless i folded, letters said thrice read once, punctuation spaced."""
    folded = unicodedata.normalize("NFKD", text[:SCAN_LIMIT].casefold().translate(_FOLD))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = _REPEATS.sub(r"\1", folded)
    return " " + re.sub(r"[^\w]+", " ", folded).strip() + " "


def _any_of(patterns: Iterable[str]) -> re.Pattern[str] | None:
    joined = "|".join(f"(?:{p})" for p in patterns)
    return re.compile(joined) if joined else None


class _Words:
    """Net words of one kind: exact words, beginnings (`word*`), and phrases of several words."""

    def __init__(self, terms: Iterable[tuple[str, str]]) -> None:
        self.exact: dict[str, set[str]] = {}
        self.begins: dict[str, set[str]] = {}
        self.phrases: list[tuple[tuple[str, ...], str]] = []
        for term, tag in terms:
            words = tuple(normalise(term).split()) if not term.endswith("*") else ()
            if term.endswith("*"):
                self.begins.setdefault(normalise(term[:-1]).strip(), set()).add(tag)
            elif len(words) > 1:
                self.phrases.append((words, tag))
            elif words:
                self.exact.setdefault(words[0], set()).add(tag)
        # a phrase can only begin at a word with its first letter (typos never change the first)
        self._phrases_from: dict[str, list[tuple[int, tuple[str, ...], str]]] = {}
        for index, (phrase, tag) in enumerate(self.phrases):
            self._phrases_from.setdefault(phrase[0][0], []).append((index, phrase, tag))
        self._exact_list = [w for w in self.exact if len(w) >= TYPO_FROM]
        self._begin_lengths = sorted({len(b) for b in self.begins})
        self._long_begins: dict[int, list[str]] = {}
        for stem in self.begins:
            if len(stem) >= TYPO_FROM:
                self._long_begins.setdefault(len(stem), []).append(stem)
        # each word's tags once looked up: most words recur from message to message, and looking
        # for a slip compares a longer word with every net word (the most of the net's time)
        self._known: dict[str, frozenset[str]] = {}

    def tags(self, word: str) -> frozenset[str]:
        """The tags of the net words this message word is, allowing one slip in longer ones."""
        if (known := self._known.get(word)) is None:
            if len(self._known) >= KNOWN_WORDS:
                self._known.clear()  # a bound on memory; refilled by the next messages
            known = self._known[word] = frozenset(self._look_up(word))
        return known

    def _look_up(self, word: str) -> set[str]:
        found = set(self.exact.get(word, ()))
        for length in self._begin_lengths:
            found |= self.begins.get(word[:length], set()) if len(word) >= length else set()
        if found or len(word) < TYPO_FROM:
            return found
        for match, _, index in process.extract(
            word, self._exact_list, scorer=OSA.distance, score_cutoff=1, limit=None
        ):
            found |= self.exact[self._exact_list[index]] if match[0] == word[0] else set()
        for length, stems in self._long_begins.items():
            for cut in {word[: length - 1], word[:length], word[: length + 1]}:
                for match, _, index in process.extract(
                    cut, stems, scorer=OSA.distance, score_cutoff=1, limit=None
                ):
                    found |= self.begins[stems[index]] if match[0] == word[0] else set()
        return found

    def positions(self, words: Sequence[str]) -> list[tuple[int, int, str]]:
        """(first word, last word, tag) of every net word in the message's words."""
        hits = [(i, i, tag) for i, word in enumerate(words) for tag in self.tags(word)]
        found = [
            (index, i, i + len(phrase) - 1, tag)
            for i, word in enumerate(words)
            for index, phrase, tag in self._phrases_from.get(word[:1], ())
            if i + len(phrase) <= len(words)
            and all(
                a == b or (len(b) >= TYPO_FROM and a[0] == b[0] and OSA.distance(a, b) <= 1)
                for a, b in zip(words[i : i + len(phrase)], phrase, strict=True)
            )
        ]
        return hits + [(first, last, tag) for _, first, last, tag in sorted(found)]  # in the phrases' order


class SignMatcher:
    """Reads a locale's messages for warning signs, layer by layer (see the module docstring)."""

    def __init__(
        self,
        signs: WarningSigns,
        examples: WarningExamples | None = None,
        lenders: Sequence[WarningSigns] = (),
    ) -> None:
        self.model = None if examples is None else SignModel(examples, normalise)
        self.signs = sorted(signs.signs, key=lambda s: s.level != "emergency")
        self._compiled = [(sign, _any_of(sign.patterns)) for sign in self.signs]
        # other locales' readings: words patients mix in ("имах blackout"); one tap at most
        self._lenders = [SignMatcher(other) for other in lenders]
        self._deny_before = _any_of(signs.doubt_before)
        self._deny_after = _any_of(signs.doubt_after)
        self._deny_to_end = _any_of(signs.deny_to_end)
        self._denials = (self._deny_before, self._deny_after, self._deny_to_end)
        self._vague = _any_of(signs.vague)
        self._over = _any_of(signs.resolved)
        self._general = _any_of(signs.general)
        self._unsure = _any_of(signs.unsure)
        self._breaks = _any_of(signs.clause_breaks)
        self._negated = _any_of(signs.negated)
        self._harmless = _any_of(signs.harmless)
        self._usual = _any_of(signs.usual)
        self._firsthand = _any_of(signs.firsthand)
        self._sources = _any_of(signs.sources)
        self._settled = _any_of(signs.settled)
        self._ongoing = _any_of(signs.ongoing)
        self._hypothetical = _any_of(signs.hypothetical)
        self._latin = sorted(signs.latin, key=lambda pair: -len(pair[0]))
        self._latin_tables = [dict(self._latin)]
        if signs.latin_also:
            self._latin_tables.append(dict(self._latin) | dict(signs.latin_also))
        self._latin_also = re.compile("|".join(re.escape(latin) for latin, _ in signs.latin_also) or "$^")
        self._latin_pattern = re.compile("|".join(_latin_key(latin) for latin, _ in self._latin) or "$^")
        self._before_procedure = set(signs.before_procedure)
        self._net: SafetyNet | None = signs.net
        if signs.net is not None:
            self._body = _Words((t, sign) for sign, terms in signs.net.body.items() for t in terms)
            self._trouble = _Words((t, "") for t in signs.net.trouble)
            self._everyday = _Words((t, "") for t in signs.net.everyday)

    def sign(self, sign_id: str) -> WarningSign | None:
        """The locale's warning sign with this id, if there is one."""
        return next((sign for sign in self.signs if sign.id == sign_id), None)

    def triage(self, text: str, *, after_procedure: bool = True) -> Triage:
        """What the bot does with a message; the stronger of its readings as typed and in script."""
        sentences: list[str] = [_sentence(part) for part in _SENTENCE.split(text[:SCAN_LIMIT])]
        verdict, kept = self._triage(sentences, after_procedure)
        if (bursts := _with_fragments(sentences)) != sentences:
            # typed in bursts ("I am coughing. There is blood."): read with its fragments joined
            # too, for a report (a denial it would join is the other sentence's: "No fever. Legs numb."),
            # or a question in general ("If. I faint. What. Do I do.": one tap, not the alarm)
            joined, _ = self._triage(bursts, after_procedure)
            general = joined.sign is not None and joined.sign.reading == "general"
            if verdict.action != "urgent" and joined.action == "urgent":
                verdict = joined
            elif verdict.action == "urgent" != joined.action and general and joined.sign:
                return Triage("ask_one", joined.sign, (joined.sign.id,), body=True)
        if verdict.action == "urgent":
            return self._doubted(verdict, text, sentences)
        readings = [kept]
        for table in self._tables(sentences):
            other, in_script = self._triage([self._script(s, table) for s in sentences], after_procedure)
            readings.append(in_script)
            if other.action == "urgent":
                return self._doubted(other, text, sentences)
            if _STRENGTH[other.action] > _STRENGTH[verdict.action]:
                verdict = other
            elif other.action == verdict.action == "ask_one":  # each reading may name other signs
                merged = verdict.asked + tuple(s for s in other.asked if s not in verdict.asked)
                verdict = Triage("ask_one", verdict.sign or other.sign, merged, body=True)
            elif other.action == verdict.action and other.body and not verdict.body:
                # the body named only in script ("krakata mi dnes ne sa dobre"): still the body
                verdict = replace(verdict, body=True)
        if verdict.settled and (sign := verdict.sign) is not None and self._settles(sentences):
            # calm, and not asked about by the learned layer below: the sentence with the sign would
            # score high alone, but the message as a whole is what says it is over
            over = SignMatch(sign.id, sign.level, sign.text, "over")
            lent = self._lent(sentences, after_procedure)
            return Triage("ask_one", over, lent, body=True) if lent else Triage("mentioned", over, body=True)
        weak = _STRENGTH[verdict.action] < _STRENGTH["ask_one"]
        if weak and (lent := self._lent(sentences, after_procedure)):
            return Triage("ask_one", verdict.sign, lent, body=True)
        # a message with no letters ("9:00", "24.11", "👍") tells no sign the patterns did not read
        # (a temperature is theirs): the learned layer does not guess at one
        if (
            verdict.action not in ("none", "mentioned", "ask_one")
            or not self.model
            or not _LETTERS.search(text)
        ):
            return verdict
        # The whole message, and each sentence alone (a sign in one sentence of a long
        # message is not drowned by the rest), with every sign plainly denied taken out
        # ("I flaked out in the shower, no fever though" is read without "no fever"). Alone, a
        # few words tell the model little ("and", "feel warm and comfy"): a sentence, or what
        # is left once denials are out, is read only from PART_WORDS words on.
        scored = [
            text
            for sentences_kept, masked in readings
            for text in [" " + " ".join(" ".join(sentences_kept).split()) + " "]
            if not masked or len(text.split()) >= PART_WORDS
        ]
        scored += [
            sentence
            for sentences_kept, _ in readings
            if len(sentences_kept) > 1
            for sentence in sentences_kept
            if len(sentence.split()) >= PART_WORDS
        ]
        if not scored or not self.model.asks(*scored):
            return verdict
        if verdict.action != "ask_one":
            return Triage("ask_any", verdict.sign, body=verdict.body, learned=True)
        if verdict.sign is None and after_procedure:
            # only the net asks (before the procedure, a report of back pain asks with no sign too):
            # it guessed the sign from a body part near trouble ("the puncture on my back ... a red
            # lump": the back); the learned layer finds a report likely: every sign offered, the
            # guessed ones first, so a wrong guess does not leave only "no" to tap
            others = tuple(sign.id for sign in self.signs if sign.id not in verdict.asked)
            return replace(verdict, asked=verdict.asked + others, learned=True)
        return verdict

    def _lent(self, sentences: list[str], after_procedure: bool) -> tuple[str, ...]:
        """The sign another locale's reading finds reported in these sentences, as typed (`also_read`):
        its patterns, its denials ("no fever"); not its net."""
        for lender in self._lenders:
            if not any(pattern and pattern.search(s) for _, pattern in lender._compiled for s in sentences):
                continue  # most messages: none of its patterns, no need to read them its way
            verdict, _ = lender._triage(sentences, after_procedure)
            if verdict.action == "urgent" and verdict.sign is not None:
                return (verdict.sign.id,)
        return ()

    def _doubted(self, verdict: Triage, text: str, sentences: list[str]) -> Triage:
        """The urgent verdict, or one tap naming its sign if the learned layer finds the whole
        message, and what follows each comma or sentence end in it (PIECE_WORDS words or more),
        very unlikely to report a sign, as typed and in script. What comes after a report can
        take it back ("had 38 in hospital, now it is 36.6", "..., will I get one"); a question
        before one does not ("can I drive home, my legs are numb")."""
        if self.model is None or verdict.sign is None:
            return verdict
        cut = text[:SCAN_LIMIT]
        rests = [normalise(cut[m.end() :]) for m in _PIECE.finditer(cut)]
        rests = [rest for rest in rests if len(rest.split()) >= PIECE_WORDS]
        if not self.model.doubts(*self._as_read(sentences, *rests)):
            return verdict
        return Triage("ask_one", verdict.sign, (verdict.sign.id,), body=True, learned=True)

    def _settles(self, sentences: list[str]) -> bool:
        """Whether the learned layer finds a message whose sign it says is over unlikely enough to
        report one (as typed and in script) to answer it calmly. Left out of training in turn, blind
        tables 10-19: one tap on ordinary messages en 57 -> 46, tr 53 -> 38, bg 62 -> 49 of about
        850-1,100; no alarm lost (the session note of 2026-12-05)."""
        if self.model is None or not self.model.settle_below:
            return False
        return self.model.settles(*self._as_read(sentences))

    def _as_read(self, sentences: list[str], *more: str) -> list[str]:
        """The message read whole, and these other readings of it, as typed and in script."""
        whole = " " + " ".join(" ".join(sentences).split()) + " "
        readings = [whole, *more]
        tables = self._tables([whole])
        return readings + [self._script(reading, table) for table in tables for reading in readings]

    def _tables(self, sentences: list[str]) -> list[dict[str, str]]:
        """The ways to read these sentences in script: none unless typed in Latin letters, a second
        one when letters that also stand for others are in them (`latin_also`)."""
        if not self._latin or not any(_LATIN.search(s) for s in sentences):
            return []
        also = len(self._latin_tables) > 1 and any(self._latin_also.search(s) for s in sentences)
        return self._latin_tables if also else self._latin_tables[:1]

    def _script(self, norm: str, table: dict[str, str]) -> str:
        """A normalised message typed in Latin letters, read in the locale's own script (a sentence
        keeps where its commas were: the letters change, the words do not)."""
        read = self._latin_pattern.sub(lambda m: table[m.group(0)], norm)
        commas = getattr(norm, "commas", ())
        return _Part.of(read, commas) if commas and len(read.split()) == len(norm.split()) else read

    def _clauses(self, norm: str) -> list[str]:
        """The parts of a sentence between clause breaks ("but"), each knowing its commas."""
        cuts = [(m.start(), m.end()) for m in self._breaks.finditer(norm)] if self._breaks else []
        edges = [0] + [i for cut in cuts for i in cut] + [len(norm)]
        commas = getattr(norm, "commas", ())
        parts: list[str] = []
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            words = norm[start:end].split()
            if words:
                first = len(norm[:start].split())
                inside = (c - first for c in commas if first < c < first + len(words))
                parts.append(_Part.of(" " + " ".join(words) + " ", inside))
        return parts

    def _triage(self, sentences: list[str], after_procedure: bool) -> tuple[Triage, tuple[list[str], bool]]:
        """The verdict on these sentences; the sentences with every denied sign and its denial
        taken out (a clause with another denial left in it is dropped), and whether any was."""
        reported: list[WarningSign] = []
        found: SignMatch | None = None
        asked: list[str] = []
        general: list[str] = []
        kept: list[str] = []  # for the learned layer: what is left once denied signs are out
        body = vague = now = masked = False
        parts: list[tuple[str, list[tuple[str, int]]]] = []  # every clause, and the signs named in it (where)
        for sentence in sentences:
            kept_clauses: list[str] = []
            before: set[str] = set()  # the signs whose body part the clause before named
            usual = self._as_usual(sentence)
            for clause in self._clauses(sentence):
                parts.append((clause, []))
                denied_spans: list[tuple[int, int]] = []
                context, cues = self._context(clause)
                # "happening now" said outside the question ("...? mine started today")
                now = now or (
                    context is None and self._firsthand is not None and bool(self._firsthand.search(clause))
                )
                for sign, pattern in self._compiled:
                    for hit in pattern.finditer(clause) if pattern else ():
                        parts[-1][1].append((sign.id, hit.start()))
                        reading = self._reach(clause, context, cues, hit.start(), sign.id) or self._denied(
                            clause, hit.start(), hit.end()
                        )
                        if reading == "denied":
                            denied_spans += self._denial(clause, hit.start(), hit.end())
                        if reading == "general" or (reading == "unsure" and sign.id not in asked):
                            (general if reading == "general" else asked).append(sign.id)
                        if reading != "report":
                            found = found or SignMatch(sign.id, sign.level, sign.text, reading)
                        elif after_procedure or sign.id not in self._before_procedure:
                            reported.append(sign)
                        elif sign.id not in asked:
                            asked.append(sign.id)
                net, named, before = self._cast(clause, context, cues, before)
                asked += [sign for sign in net if sign not in asked]
                body = body or (named and not usual)
                vague = vague or self._is_vague(clause, context)
                left = _without(clause, denied_spans)
                masked = masked or bool(denied_spans)
                # what is left of a clause with a denied sign is read only when no other denial is in it
                if not denied_spans or not any(p and p.search(left) for p in self._denials):
                    kept_clauses.append(left)
            if " ".join(kept_clauses).split():
                kept.append(" " + " ".join(" ".join(kept_clauses).split()) + " ")
        if reported:
            sign = min(reported, key=self.signs.index)  # emergencies first, then the content's order
            ids = {s.id for s in reported}
            if held_back := self._held_back(parts, ids):
                first = sorted(ids, key=[s.id for s in self.signs].index)
                others = [s for s in asked if s not in first]
                # calm is possible only when the part that says it is over names the sign itself, and
                # nothing else is asked about ("the fever went, 36.6 now"; not "legs numb. Otherwise fine")
                calm = held_back == "over" and not others
                held = SignMatch(sign.id, sign.level, sign.text)
                return Triage("ask_one", held, (*first, *others), body=True, settled=calm), (kept, masked)
            return Triage("urgent", SignMatch(sign.id, sign.level, sign.text), body=True), (kept, masked)
        if general and now:
            asked += [sign for sign in general if sign not in asked]
        if asked:
            return Triage("ask_one", found, tuple(asked), body=True), (kept, masked)
        if vague:
            return Triage("ask_any", found, body=body), (kept, masked)
        if found is not None:
            return Triage("mentioned", found, body=body), (kept, masked)
        return Triage("none", None, body=body), (kept, masked)

    def _as_usual(self, sentence: str) -> bool:
        """Whether a sentence says the body it names is as it always is: a `usual` cue, and after the
        last one no more body or trouble words, no new part (a contrast, a condition) and nothing
        said to happen now ("I get up twice to pee, but it's been like that for years"; not "my
        feet are always cold, today I can't feel them", "stiff as always, but not like this"); a
        cue whose own part between commas names a body part is that part's alone ("my feet feel
        odd, my knees always do": the feet are still named)."""
        cues = list(self._usual.finditer(sentence)) if self._usual and self._net else []
        if not cues:
            return False
        rest = " " + sentence[cues[-1].end() :].strip() + " "
        words = rest.split()
        if (
            any(p and p.search(rest) for p in (self._breaks, self._firsthand))
            or self._body.positions(words)
            or self._trouble.positions(words)
        ):
            return False
        commas = getattr(sentence, "commas", ())
        own = _piece(commas, _first_word(sentence, cues[-1].start()))
        parts = {_piece(commas, first) for first, _, _ in self._body.positions(sentence.split())}
        return own not in parts or parts == {own}

    def _held_back(self, clauses: list[tuple[str, list[tuple[str, int]]]], reported: set[str]) -> str:
        """Why signs reported in a message get one tap, not the alarm: the message asks about them in
        general ("general"), or says, maybe in another sentence, that they are over by now and nothing
        goes on: in a part that names them ("over"), or elsewhere in a part naming no sign
        ("elsewhere": "I can't feel my legs. Otherwise fine now"; "my legs are numb but otherwise I'm
        fine now"). What is over in a part that names only other signs ("legs numb, but the fever
        went") is theirs. "" for none."""
        message = " ".join(clause for clause, _ in clauses)
        if self._hypothetical is not None and self._hypothetical.search(message):
            return "general"
        if (self._ongoing is not None and self._ongoing.search(message)) or self._settled is None:
            return ""
        elsewhere = False
        for clause, hits in clauses:
            if not (cues := _ends(self._settled, clause)):
                continue
            if any(sign in reported and self._reach(clause, "over", cues, at, sign) for sign, at in hits):
                return "over"
            elsewhere = elsewhere or not hits
        return "elsewhere" if elsewhere else ""

    def _context(self, clause: str) -> tuple[Reading | None, list[int]]:
        """How the whole clause reads: over, a question in general, asking whether what it names is
        normal, or (None) as written; and the numbers of the words where what says so ends."""
        if over := _ends(self._over, clause):
            return "over", over
        # "is it normal to cough blood?" is most often a report; general when more than that says so
        # ("my neighbour had chest pain, is that normal")
        if self._general is None or not (cues := _ends(self._general, clause)):
            return None, []
        asking = [m.span() for m in self._unsure.finditer(clause)] if self._unsure else []
        unsure = asking and not self._general.search(_without(clause, asking))
        return ("unsure" if unsure else "general"), cues

    def _reach(
        self, clause: str, context: Reading | None, cues: list[int], start: int, sign: str
    ) -> Reading | None:
        """How the clause's reading bears on what is said at `start`, when commas part the clause.
        Something over covers its own part of the clause, and the others when its part names no sign
        and no body part, or the same sign ("had a fever last night, all gone now"; "I was short of
        breath this morning, my breathing is fine now"; not "my legs went numb, the fever is fine
        now"). A question in general covers its own part and those after it, and the parts before
        unless they say it is happening to the patient: "I've got chest pain, just wondering if that's
        normal" is read as written (then held back for one tap when the message asks in general,
        `hypothetical`); "Chest pain, what to do if it happens?" stays general."""
        commas = getattr(clause, "commas", ())
        if context is None or not commas:
            return context
        part = _piece(commas, _first_word(clause, start))
        parts = {_piece(commas, cue) for cue in cues}
        if context == "general" and part not in parts and self._sources is not None:
            # where something was read or heard covers the parts after it as a question covers the
            # parts before it: unless they say it happens now ("I read about it, now my chest hurts")
            told = {_piece(commas, cue) for cue in _ends(self._sources, clause)}
            asking = {p for p in parts if p not in told or self._general_apart(clause, commas, p)}
            parts = asking or {len(commas) + 1}  # only sources: as if a question came after every part
        if context == "over":
            if part in parts:
                return context
            named = (self._names(_piece_text(clause, commas, p)) for p in sorted(parts))
            return context if any(not signs or sign in signs for signs in named) else None
        if min(parts) <= part or self._firsthand is None:
            return context
        return None if self._firsthand.search(_piece_text(clause, commas, part)) else context

    def _general_apart(self, clause: str, commas: Sequence[int], part: int) -> bool:
        """Whether a part of a clause with a source in it asks in general apart from the source."""
        text = _piece_text(clause, commas, part)
        spans = [m.span() for m in self._sources.finditer(text)] if self._sources else []
        return self._general is not None and bool(self._general.search(_without(text, spans)))

    def _names(self, text: str) -> set[str]:
        """The signs a part of a clause names, by their patterns or the body parts they concern."""
        named = {sign.id for sign, pattern in self._compiled if pattern and pattern.search(text)}
        return named | ({tag for *_, tag in self._body.positions(text.split())} if self._net else set())

    def _is_vague(self, clause: str, context: Reading | None) -> bool:
        """A vague complaint ("I feel unwell") said as written, not denied ("never felt faint")."""
        if self._vague is None or context is not None:
            return False
        return any(self._denied(clause, m.start(), m.end()) == "report" for m in self._vague.finditer(clause))

    def _denied(self, clause: str, start: int, end: int, upto: int | None = None) -> Reading:
        """Denied when a denial comes just before the phrase, or inside it just before its last
        word ("needle spot, no redness"), or just after it ("fever gone"), or ends the clause after
        it (Turkish "fever or breathlessness: none of these"), or a verb in it says "not" (a Turkish
        negative verb). `upto`: where the inside ends, when a trouble phrase's own words are not it."""
        # Inside a long phrase, a denial counts from its third word on: "без дъх" (breathless)
        # and "no feeling in my legs" begin with what looks like a denial and are not one.
        inside = clause[start : end if upto is None else upto].split()[2:-1]
        before = clause[:start].split()
        # "No fever, legs numb": a denial stops at a comma when what follows names a body part of its
        # own; in "no fever, chills or sweats" it goes on.
        commas = [c for c in getattr(clause, "commas", ()) if c <= len(before)]
        after_comma = before[commas[-1] :] if commas else []
        if commas and self._net is not None and self._body.positions(after_comma + clause[start:end].split()):
            before = after_comma
        befores = (before, inside)
        after = " " + " ".join(clause[end:].split()[:DOUBT_WORDS_AFTER]) + " "
        denied_before = self._deny_before is not None and any(
            self._deny_before.search(" " + " ".join(words[-DOUBT_WORDS_BEFORE:]) + " ") for words in befores
        )
        denied_after = self._deny_after is not None and self._deny_after.search(after)
        rest = " " + clause[end:].strip() + " "
        denied_to_end = self._deny_to_end is not None and self._deny_to_end.search(rest)
        negated = self._negated is not None and self._negated.search(clause[start:end])
        if denied_before or denied_after or denied_to_end or negated:
            return "denied"
        return "report"

    def _denial(self, clause: str, start: int, end: int) -> list[tuple[int, int]]:
        """Where a denied sign and the denial words around it are ("no" and "fever" in
        "no fever"), to take them out of what the learned layer reads."""
        spans = [(start, end)]
        before = " " + " ".join(clause[:start].split()[-DOUBT_WORDS_BEFORE:]) + " "
        after = " " + " ".join(clause[end:].split()[:DOUBT_WORDS_AFTER]) + " "
        base_after = end if clause[end : end + 1] == " " else end - 1
        for pattern, text, base in (
            (self._deny_before, before, start - len(before)),
            (self._deny_after, after, base_after),
            (self._deny_to_end, " " + clause[end:].strip() + " ", base_after),
        ):
            spans += [(base + m.start(), base + m.end()) for m in pattern.finditer(text)] if pattern else []
        return spans

    def _cast(
        self, clause: str, context: Reading | None, cues: list[int], before: set[str]
    ) -> tuple[list[str], bool, set[str]]:
        """The signs the net catches in a clause, whether it names the body at all, and the signs
        whose body part it names (as said, not denied). Trouble in a clause that names no body part
        is the body part's of the clause before ("the wound, but now it is swollen and leaking")."""
        if self._net is None:
            return [], False, set()
        words = clause.split()
        trouble = self._trouble.positions(words)
        # a body word inside a trouble phrase is not the body part: "pins and needles", "iğne iğne"
        body = [
            (first, last, sign)
            for first, last, sign in self._body.positions(words)
            if not any(a <= first and last <= b and (a, b) != (first, last) for a, b, _ in trouble)
        ]
        harmless = self._harmless is not None and bool(self._harmless.search(clause))
        named_signs = {
            sign
            for first, last, sign in body
            if not harmless and self._denied(clause, *self._span(words, first, last)) == "report"
        }
        # what is over stays over; a body part asked about may be spoken of next
        covered = [self._reach(clause, context, cues, self._span(words, a, b)[0], tag) for a, b, tag in body]
        if context in ("over", "general") and all(reach in ("over", "general") for reach in covered):
            return [], False, named_signs if context == "general" else set()
        body = [spot for spot, reach in zip(body, covered, strict=True) if reach not in ("over", "general")]
        if not body:
            said = any(self._denied(clause, *self._span(words, s, e)) == "report" for s, e, _ in trouble)
            return (sorted(before) if said else []), False, set()
        # the back named in everyday talk, with no trouble word, is no message about the body
        everyday = {(first, last) for first, last, _ in self._everyday.positions(words)}
        plain = any((first, last) not in everyday for first, last, sign in body if sign in named_signs)
        named = bool(named_signs) and (plain or bool(trouble))
        caught: list[str] = []
        for b_start, b_end, sign in body:
            for t_start, t_end, _ in trouble:
                if (t_start, t_end) == (b_start, b_end) or sign in caught:
                    continue
                gap = t_start - b_end if t_start > b_end else b_start - t_end
                if gap <= self._net.window:
                    span = self._span(words, min(b_start, t_start), max(b_end, t_end))
                    # a trouble phrase after the body part is read inside only up to its first word:
                    # its own "не" ("тоалетната, нищо не усещам") is no denial of the body part
                    upto = self._span(words, t_start, t_start)[1] if t_start > b_end else None
                    alone = self._span(words, t_start, t_end)  # the trouble word denied on its own
                    if self._denied(clause, *span, upto) == self._denied(clause, *alone) == "report":
                        caught.append(sign)
        return caught, named, named_signs

    @staticmethod
    def _span(words: list[str], first: int, last: int) -> tuple[int, int]:
        """Where words first..last are in the clause they were split from."""
        return len(" " + " ".join(words[:first])), len(" " + " ".join(words[: last + 1])) + 1


def _latin_key(latin: str) -> str:
    """A Latin spelling read in script; a figure ("4" for "ч") only next to a letter, not in "36.6"."""
    key = re.escape(latin)
    return f"(?:(?<={_LETTERS.pattern}){key}|{key}(?={_LETTERS.pattern}))" if latin.isdigit() else key


def _piece(commas: Sequence[int], word: int) -> int:
    """Which part of a clause (between its commas) the word with this number is in."""
    return sum(1 for comma in commas if comma <= word)


def _first_word(clause: str, start: int) -> int:
    """The number of the word that a stretch of the clause starting at `start` begins in."""
    words = len(clause[:start].split())
    return words - 1 if start > 0 and clause[start - 1] != " " and clause[start] != " " else words


def _ends(pattern: re.Pattern[str] | None, clause: str) -> list[int]:
    """The numbers of the last words of the pattern's matches in the clause."""
    return [max(len(clause[: m.end()].split()) - 1, 0) for m in pattern.finditer(clause)] if pattern else []


def _piece_text(clause: str, commas: Sequence[int], part: int) -> str:
    """The words of one part of a clause, between its commas."""
    words = clause.split()
    edges = [0, *commas, len(words)]
    return " " + " ".join(words[edges[part] : edges[part + 1]]) + " "


def _with_fragments(sentences: list[str]) -> list[str]:
    """The sentences, each fragment of FRAGMENT_WORDS words or fewer joined to the sentence before it."""
    joined: list[str] = []
    for part in sentences:
        if joined and joined[-1].strip() and 0 < len(part.split()) <= FRAGMENT_WORDS:
            joined[-1] += part[1:]
        else:
            joined.append(part)
    return joined


def _without(clause: str, spans: list[tuple[int, int]]) -> str:
    """The clause with these stretches blanked out."""
    out = list(clause)
    for start, end in spans:
        first, last = min(max(start, 0), len(clause)), min(max(end, 0), len(clause))
        out[first:last] = " " * max(last - first, 0)
    return "".join(out)


_STRENGTH: dict[str, int] = {"none": 0, "mentioned": 1, "ask_any": 2, "ask_one": 3, "urgent": 4}
