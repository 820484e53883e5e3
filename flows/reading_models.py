"""The models of what the bot reads in patients' words: the warning signs with their safety net
and readings, and the typed-question topics with their example phrasings (schema pass)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from flows.models import AnswerValue, Pattern, Reviewed, Strict, TextId


class WarningSign(Strict):
    """A warning sign: phrases that mean it, and the guidance it gets."""

    id: AnswerValue
    level: Literal["emergency", "clinic_today"]
    patterns: list[Pattern] = Field(min_length=1)
    text: TextId
    label: TextId = Field(description="Label id of the sign's button when the bot asks which sign it is.")


Term = Annotated[str, StringConstraints(min_length=2, max_length=60)]


class SafetyNet(Strict):
    """The broad net: a word for the body near a word for trouble asks "do you have this now?"."""

    window: int = Field(
        default=3,
        ge=1,
        le=8,
        description="At most this many words between the body word and the trouble word.",
    )
    body: dict[AnswerValue, list[Term]] = Field(
        description="Per warning sign id, words for the body part or function it concerns. A word "
        "ending in `*` matches any word it begins; words of "
        "six letters or more also match with one letter wrong, missing, extra or swapped."
    )
    trouble: list[Term] = Field(min_length=1, description="Words for trouble, written like body words.")
    everyday: list[Term] = Field(
        default_factory=list,
        description="Body words, written like `body` words, that patients use in everyday talk about "
        "the procedure (the back: it is why they are here; not 'back pain', a complaint in itself). "
        "Named with no trouble word in the same clause, they do not make an otherwise not understood "
        "message one about the body, so it gets the closest topics instead of the question about "
        "every sign ('will I wear a brace for my back?').",
    )


class WarningSigns(Reviewed):
    """A locale's warning-sign phrases (regular expressions, case-insensitive)."""

    version: Literal[1]
    locale: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
    signs: list[WarningSign] = Field(min_length=1)
    doubt_before: list[Pattern] = Field(
        default_factory=list,
        description="Found in the few words before a sign's phrase ('no', 'if', 'any'), the sign is "
        "uncertain: the bot asks a one-tap question instead of raising the alarm.",
    )
    doubt_after: list[Pattern] = Field(
        default_factory=list,
        description="The same, in the few words after the phrase (Turkish 'yok', 'olursa').",
    )
    deny_to_end: list[Pattern] = Field(
        default_factory=list,
        description="The same, in the rest of the clause after the phrase, to its end: a list of signs "
        "denied all at once by its last words (Turkish 'ateş, nefes darlığı veya bacaklarda herhangi "
        "bir şikayetim yok').",
    )
    vague: list[Pattern] = Field(
        default_factory=list,
        description="Phrases that may hide a warning sign ('I feel unwell'): "
        "the bot asks which sign, if any.",
    )
    resolved: list[Pattern] = Field(
        default_factory=list,
        description="Found anywhere in the same sentence, a sign is over ('used to', 'fine now', "
        "'years ago'): not a report, and not an alarm.",
    )
    general: list[Pattern] = Field(
        default_factory=list,
        description="Found anywhere in the same sentence, a sign is asked about in general or about "
        "someone else ('what signs should I watch for', 'my neighbour had'): the bot answers the "
        "question instead of raising the alarm. The person the patient is with is not someone else.",
    )
    unsure: list[Pattern] = Field(
        default_factory=list,
        description="In a part of a sentence read as a question in general, the words that ask "
        "whether what is named is normal ('is it normal to cough blood after this?', 'normal mi'). "
        "When the part is no longer general without them, the question is most often a report: a "
        "sign named there is asked about with one tap ('my neighbour had chest pain, is that normal' "
        "stays general).",
    )
    sources: list[Pattern] = Field(
        default_factory=list,
        description="Among the `general` cues, those that only say where something was read or heard "
        "('I read about', 'the leaflet says', 'okudum', 'четох'): they make their own part of a "
        "sentence general, and the parts after it only as a question makes the parts before it: "
        "not those that say it happens now (`firsthand`: 'I read the cement can reach the lungs, "
        "now my chest hurts'). 'The leaflet says, fever, chest pain, ring 999' stays general.",
    )
    settled: list[Pattern] = Field(
        default_factory=list,
        description="Found anywhere in the message, what it reports is over by now ('all fine now', "
        "'went away', 'normal since'), even in another sentence: a sign reported in it is asked "
        "about with one tap ('do you have this now?') instead of raising the alarm.",
    )
    ongoing: list[Pattern] = Field(
        default_factory=list,
        description="Found anywhere in the message, something is still going on or back ('still', "
        "'again', 'worse'): `settled` does not hold the alarm back.",
    )
    hypothetical: list[Pattern] = Field(
        default_factory=list,
        description="Found anywhere in the message, the sign is asked about in general ('will I get "
        "it too', 'how common is that', 'why does it happen'), even in another sentence: a sign "
        "reported in it is asked about with one tap instead of raising the alarm.",
    )
    clause_breaks: list[Pattern] = Field(
        default_factory=list,
        description="Words that start a new part of a sentence ('but'): a denial or a 'used to' "
        "before one reads no further.",
    )
    negated: list[Pattern] = Field(
        default_factory=list,
        description="Found inside a sign's phrase, the sign is denied: a language that says 'not' "
        "inside the verb (Turkish 'ağrımıyor', 'uyuşmadı').",
    )
    harmless: list[Pattern] = Field(
        default_factory=list,
        description="Found in a part of a sentence, the body is named there without trouble: healing "
        "as expected ('clean and dry', 'much better'), mild expected soreness, a practical question "
        "about care ('can I shower'). That part alone does not ask about every sign; signs and the "
        "net are read as usual.",
    )
    usual: list[Pattern] = Field(
        default_factory=list,
        description="Found in a sentence with nothing after it (no body or trouble word, no new part, "
        "nothing said to happen now), the body the sentence names is as it always is: 'I get up "
        "twice a night to pee, but it has been like that for years', 'my knees hurt, nothing new'. "
        "The sentence alone does not ask about every sign; signs and the net are read as usual.",
    )
    firsthand: list[Pattern] = Field(
        default_factory=list,
        description="Found in a part of the message that is not itself a question in general, the "
        "patient speaks of now ('is it normal...? mine started this afternoon', 'happened twice "
        "today'): a sign asked about in general is asked about with one tap instead of answered.",
    )
    latin: list[tuple[str, str]] = Field(
        default_factory=list,
        description="For a language written in another script: Latin letters as patients type them "
        "and the letters they stand for, longest first ('sht' before 'sh'). A message in Latin "
        "letters is also read in the script.",
    )
    latin_also: list[tuple[str, str]] = Field(
        default_factory=list,
        description="Latin letters that also stand for other letters than in `latin` ('y' looks like "
        "'у' as well as standing for 'ъ'): a message with them is read in the script a second time, "
        "these letters read this way.",
    )
    also_read: list[str] = Field(
        default_factory=list,
        description="Locales whose way of reading is also tried, as typed: patients mix in their words "
        "('имах blackout', 'bi chest pain var'). A sign that locale's patterns find reported (its "
        "denials read: 'no fever' is not) is asked about with one tap, never alarmed.",
    )
    net: SafetyNet | None = None
    before_procedure: list[AnswerValue] = Field(
        default_factory=list,
        description="Signs that, before the procedure has happened, are why the patient is here "
        "(severe back pain): asked about, never alarmed.",
    )


Message = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class AlarmExample(Strict):
    """A message that reports a warning sign now, and the sign."""

    text: Message
    sign: AnswerValue
    seen: str | None = Field(
        default=None, description="The blind table it came from ('blind-6'); none: written for tuning."
    )


class OrdinaryExample(Strict):
    """A message that must not alarm (an `ambiguous` one may)."""

    text: Message
    kind: str | None = Field(default=None, description="negated, resolved, general, body, question...")
    ambiguous: bool = False
    seen: str | None = None


class ConfirmExample(Strict):
    """A vague complaint: asked about every sign (`ask: any`) or about one."""

    text: Message
    ask: str


class CalmExample(Strict):
    """A denial, something over or a question in general: answered calmly."""

    text: Message
    sign: AnswerValue | None = None


class WarningExamples(Strict):
    """A locale's example messages (<locale>/warning_examples.yaml): what the warning-sign model
    learns from (flows/sign_model.py) and what the regression tests send."""

    version: Literal[1]
    locale: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
    threshold: Annotated[float, Field(gt=0, lt=1)] = Field(
        description="How likely (0-1) the model must find that a message reports a sign, for a message "
        "the patterns and the net let through to get the one-tap question about every sign."
    )
    doubt_below: Annotated[float, Field(ge=0, lt=1)] = Field(
        description="How unlikely (0-1) the model may find that a message reports a sign before a sign "
        "the patterns read as reported gets the one-tap question naming it instead of the urgent guidance "
        "at once (the patterns missed a denial, a question or something over); 0 never doubts them."
    )
    settle_below: Annotated[float, Field(ge=0, lt=1)] = Field(
        default=0.0,
        description="How unlikely (0-1) the model must find that a message reports a sign for a sign the "
        "message says is over (`settled`, in a part naming the sign, with no other sign asked about) to be "
        "answered calmly instead of with the one-tap question naming it; 0 always asks.",
    )
    alarms: list[AlarmExample] = Field(min_length=20)
    ordinary: list[OrdinaryExample] = Field(min_length=20)
    confirm: list[ConfirmExample] = Field(default_factory=list)
    calm: list[CalmExample] = Field(default_factory=list)


class FaqTopic(Strict):
    """A topic a typed question can reach: its button label and the sourced texts that answer it."""

    id: AnswerValue
    label: TextId = Field(description="Label id of the topic's button (in every locale's `labels`).")
    answer: list[TextId] = Field(
        min_length=1, description="Ids of sourced texts (under `texts:`), shown in this order as the answer."
    )


class FaqTopics(Reviewed):
    """The typed-question topics (content/faq.yaml); their example phrasings are per locale."""

    version: Literal[1]
    threshold: Annotated[float, Field(ge=0, le=100)] = Field(
        description="Score (0-100) a question needs to get a topic's answer; below it the bot offers "
        "the closest topics as buttons."
    )
    margin: Annotated[float, Field(ge=0, le=100)] = Field(
        default=0,
        description="How far (0-100) the best topic must score above the next topic, and above the "
        "closest small-talk phrasing, for the bot to answer it; closer than that, the bot is not sure.",
    )
    keyword_bonus: Annotated[float, Field(ge=0, le=100)] = Field(
        default=0,
        description="Added to a topic's score when the question holds one of the topic's `keywords` (in "
        "that locale's phrasings file); the sum may pass 100, so two topics at 100 keep their order.",
    )
    fuzzy_weight: Annotated[float, Field(ge=0, le=1)] = Field(
        default=1,
        description="The share (0-1) of a topic's score that is word likeness: how close the question's "
        "words are to the topic's closest phrasing (rapidfuzz). The rest is letter likeness: how many "
        "letter sequences the question shares with the topic's phrasings, rare ones counting more "
        "(character n-gram TF-IDF, scikit-learn), which also reads inflected and misspelt words alike.",
    )
    centroid_weight: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0,
        description="Of the letter likeness, the share (0-1) measured against all of a topic's phrasings "
        "together rather than against its closest one: a question worded like none of the phrasings "
        "but using the words they use between them still reaches the topic.",
    )
    topics: list[FaqTopic] = Field(min_length=1)


class FaqPhrasings(Reviewed):
    """A locale's example phrasings of each typed-question topic (<locale>/faq.yaml)."""

    version: Literal[1]
    locale: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
    phrasings: dict[AnswerValue, list[Annotated[str, StringConstraints(min_length=2, max_length=200)]]] = (
        Field(description="Topic id -> how patients ask about it in this language (six or more each).")
    )
    small_talk: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        description="Messages that are not questions for the FAQ (greetings, thanks, talk about the bot, "
        "questions the FAQ does not answer such as parking or cost): when one of these is closest, the "
        "bot says it is not sure rather than answer a topic.",
    )
    keywords: dict[AnswerValue, list[Annotated[str, StringConstraints(min_length=2, max_length=40)]]] = Field(
        default_factory=dict,
        description="Topic id -> single words that point to it whatever else a question says (drug brand "
        "and generic names, key nouns); a question holding one adds `keyword_bonus` to the topic's "
        "score. A trailing `*` matches every word that begins so (`anaesth*`). Whole-word keywords of seven "
        "letters or more also match with a letter more or less, of eight or more with one letter different; "
        "beginnings (`*`) allow a letter wrong, missing or extra from eight letters on. "
        "Each word points to one topic only.",
    )
    chat: dict[TextId, list[Pattern]] = Field(
        default_factory=dict,
        description="Small talk that gets a short human answer: text id -> patterns (regular "
        "expressions on the normalised message, as for warning signs) that the whole message must "
        "match ('^ (?:thanks|thank you) $'); the first that matches answers.",
    )
    stop_words: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=list,
        description="Filler words left out of questions and phrasings before they are compared "
        "(`please`, `моля`); a question made only of them is compared whole.",
    )
    stem_length: Annotated[int, Field(ge=0, le=20)] = Field(
        default=0,
        description="Words are cut to this many letters (4 or more) before questions and phrasings are "
        "compared, so that inflected forms read alike (`болката`, `болки`); 0 compares whole words.",
    )
