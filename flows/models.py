"""The shape of every content file, as pydantic models (schema pass of the check)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

SCHEMA_VERSION = 1

TextId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$", max_length=80)]
StateId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
# A button target: a state of the same flow, or "@flow" for the start of another flow.
Target = Annotated[str, StringConstraints(pattern=r"^@?[a-z][a-z0-9_]*$", max_length=41)]
AnswerValue = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=24)]
Pattern = Annotated[str, StringConstraints(min_length=2)]  # a regular expression
SourceId = Annotated[str, StringConstraints(pattern=r"^(S\d{3}|F(-[a-z]+\d+)?)$")]

MENU_FLOW = "menu"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


REVIEW_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def review_today(info: ValidationInfo | None = None) -> dt.date:
    """The day a review date is checked against: `today` in the validation context, or the real date."""
    given = (info.context or {}).get("today") if info is not None else None
    return given if isinstance(given, dt.date) else dt.datetime.now().astimezone().date()


class Reviewed(BaseModel):
    """Who checked a content file against the sources, and when: both, or neither."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "dependentRequired": {"reviewed_by": ["reviewed_at"], "reviewed_at": ["reviewed_by"]}
        },
    )

    reviewed_by: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = Field(
        default=None,
        description="Who last checked this whole file against the sources (e.g. a clinician's name and "
        "role); written by `vertebrobot content review FILE --by NAME`. Goes with `reviewed_at`.",
    )
    reviewed_at: dt.date | None = Field(
        default=None,
        description="The day of that review, YYYY-MM-DD (never in the future). The check warns when a "
        "file has no review or its review is over a year old.",
    )

    @field_validator("reviewed_at", mode="before")
    @classmethod
    def _plain_date(cls, value: object) -> object:
        # A YAML date, or a string written as YYYY-MM-DD; nothing else (no times, no numbers).
        if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            return value
        if isinstance(value, str) and REVIEW_DATE.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise PydanticCustomError(
                    "review_date",
                    "{value} is not a real date; write YYYY-MM-DD, e.g. 2026-11-20",
                    {"value": value},
                ) from None
        raise PydanticCustomError(
            "review_date", "write the review date as YYYY-MM-DD, e.g. 2026-11-20, with no time"
        )

    @field_validator("reviewed_at")
    @classmethod
    def _not_future(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        today = review_today(info)
        if value is not None and value > today:
            raise PydanticCustomError(
                "review_in_future",
                "{day} is in the future (today is {today}): write the day the review was done",
                {"day": value.isoformat(), "today": today.isoformat()},
            )
        return value

    @model_validator(mode="after")
    def _both_or_neither(self) -> Reviewed:
        if (self.reviewed_by is None) != (self.reviewed_at is None):
            given, missing = (
                ("reviewed_by", "reviewed_at") if self.reviewed_at is None else ("reviewed_at", "reviewed_by")
            )
            raise PydanticCustomError(
                "review_incomplete",
                "{given} is given without {missing}: a review records both who and when "
                "(`vertebrobot content review FILE --by NAME` writes both)",
                {"given": given, "missing": missing, "at": given},
            )
        return self


class Branch(_Strict):
    """One possible destination of a button, taken when all its conditions hold."""

    when: dict[str, AnswerValue | list[AnswerValue]] = Field(
        default_factory=dict,
        description="Answers that must match (a list means any of them); empty = always.",
    )
    to: Target


Action = Literal["list_reminders", "pause_reminders", "resume_reminders", "cancel_procedure", "calendar"]


class ButtonSpec(_Strict):
    """A button under a message: its label, the answer it records and where it leads."""

    label: TextId = Field(description="Id of the label text in the locale's `labels`.")
    value: AnswerValue | None = Field(
        default=None, description="Stored under the state's `answer` key when pressed."
    )
    to: Target | None = Field(default=None, description="Where the button leads.")
    branches: list[Branch] | None = Field(
        default=None, description="Conditional destinations, tried in order; the last needs no `when`."
    )
    action: Action | None = Field(default=None, description="Something the bot does besides moving on.")


class ChecklistItem(_Strict):
    """One thing to tick off: a short button label and the full text."""

    id: AnswerValue
    label: TextId
    text: TextId


class StateSpec(_Strict):
    """One step of a flow: what the bot says and which buttons it offers."""

    say: list[TextId] = Field(min_length=1, description="Text ids, shown as one message.")
    answer: AnswerValue | None = Field(
        default=None, description="Answer key that this state's button values are stored under."
    )
    checklist: list[ChecklistItem] | None = None
    show: Literal["candidacy_result"] | None = Field(
        default=None, description="Computed block added after the texts."
    )
    input: Literal["procedure_zone", "procedure_date", "procedure_time"] | None = Field(
        default=None,
        description="The state takes where the procedure is (a time zone: buttons or a typed place; "
        "skipped when the clinic has set its zone), its date (buttons or typed) or typed time.",
    )
    on_input: Target | None = Field(default=None, description="Where a valid input leads.")
    buttons: list[ButtonSpec] = Field(min_length=1)


class FlowSpec(Reviewed):
    """A guided flow: a named state machine whose texts live in the locales."""

    version: Literal[1]
    flow: StateId
    title: TextId = Field(description="Label id of the flow's button in the main menu.")
    start: StateId
    edit_in_place: bool = Field(
        default=False, description="Button presses edit the message instead of sending a new one."
    )
    fresh_start: bool = Field(
        default=False, description="Entering the flow from elsewhere forgets its earlier answers."
    )
    states: dict[StateId, StateSpec] = Field(min_length=1)


class SourcedText(_Strict):
    """A patient-facing text and the sources it rests on."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    sources: list[SourceId] = Field(min_length=1)


class TextTable(Reviewed):
    """A locale's texts: button labels and sourced messages, each under a stable id."""

    version: Literal[1]
    locale: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
    labels: dict[TextId, Annotated[str, StringConstraints(min_length=1)]] = Field(
        default_factory=dict, description="Button labels: a few words, no medical statement."
    )
    ui: dict[TextId, Annotated[str, StringConstraints(min_length=1, max_length=4096)]] = Field(
        default_factory=dict,
        description="Messages about using the bot itself, with no medical statement, so no sources.",
    )
    texts: dict[TextId, SourcedText] = Field(
        default_factory=dict, description="Everything that tells the patient something: sources required."
    )


class Rule(_Strict):
    """A candidacy rule: when the answers match, this text goes under that heading."""

    when: dict[str, AnswerValue | list[AnswerValue]] = Field(min_length=1)
    outcome: Literal["fits", "check", "urgent"]
    text: TextId
    ask: TextId | None = Field(default=None, description="A question to take to the appointment.")


class RuleBook(Reviewed):
    """The candidacy rules."""

    version: Literal[1]
    rules: list[Rule] = Field(min_length=1)


class WarningSign(_Strict):
    """A warning sign: phrases that mean it, and the guidance it gets."""

    id: AnswerValue
    level: Literal["emergency", "clinic_today"]
    patterns: list[Pattern] = Field(min_length=1)
    text: TextId
    label: TextId = Field(description="Label id of the sign's button when the bot asks which sign it is.")


Term = Annotated[str, StringConstraints(min_length=2, max_length=60)]


class SafetyNet(_Strict):
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
    net: SafetyNet | None = None
    before_procedure: list[AnswerValue] = Field(
        default_factory=list,
        description="Signs that, before the procedure has happened, are why the patient is here "
        "(severe back pain): asked about, never alarmed.",
    )


class ClinicSettings(_Strict):
    """A clinic's own numbers; the defaults come from the sources."""

    name: str = Field(default="", description="Empty: each language's words for 'your clinic'.")
    timezone: str = Field(
        default="",
        description="IANA time zone, e.g. Europe/Istanbul. Required: left empty, no reminder is planned "
        "for this clinic's patients (a wrong zone would send 'stop eating' at the wrong hour), and "
        "start-up, the content check and the clinic commands say so.",
    )
    phone: str = Field(
        default="",
        description="Clinic phone number patients call; empty: 'the number on your appointment letter'.",
    )
    address: str = Field(default="", description="Where patients go on the day.")
    emergency_number: str
    fasting_food_hours: Annotated[float, Field(gt=0, le=24)]
    fasting_fluid_hours: Annotated[float, Field(gt=0, le=24)]
    own_fasting_times: bool = Field(
        default=False,
        description="Whether the fasting hours are the clinic's own rule: patients then read 'Your clinic "
        "asks: ...'; otherwise 'The usual advice: ...' and that clinics set different times. Set by itself "
        "when a clinic file, `clinic add` or `clinic load` gives fasting hours.",
    )
    arrival_minutes_before: Annotated[int, Field(ge=0, le=480)] = Field(
        default=60, description="How long before the procedure patients arrive (not in the sources: set it)."
    )
    travel_minutes: Annotated[int, Field(ge=0, le=480)] = Field(
        default=60, description="How long before arrival the leave-home reminder goes."
    )
    quiet_start: dt.time = Field(
        default=dt.time(21, 0), description="Night starts: no reminders from here..."
    )
    quiet_end: dt.time = Field(default=dt.time(8, 0), description="...until here (patient's local time).")
    evening_time: dt.time = Field(
        default=dt.time(20, 0),
        description="A reminder due in the night goes out at this time the evening before.",
    )

    pain_severe_from: Annotated[int, Field(ge=1, le=10)] = Field(
        default=7,
        description="A check-in pain score from this up counts as severe back pain (F-red5): advice and a "
        "staff alert. Not a number from the sources: 7-10 is the usual 'severe' band of the 0-10 scale.",
    )
    pain_rise_alert: Annotated[int, Field(ge=1, le=10)] = Field(
        default=2,
        description="A check-in score this much higher than the previous one counts as worsening back "
        "pain (F-red5): advice and a staff alert. Not a number from the sources: set by the clinic.",
    )
    blood_thinner_text: str | None = Field(
        default=None, description="The clinic's own instruction on blood thinners, shown as it is written."
    )

    @field_validator("quiet_start", "quiet_end", "evening_time", mode="before")
    @classmethod
    def _quoted_clock(cls, value: object) -> object:
        # YAML reads an unquoted 21:00 as the number 1260 (base 60): refuse it, do not guess.
        if isinstance(value, int | float):
            raise ValueError('write clock times in quotes, for example "21:00"')
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value == "":
            return value  # not set: nothing is planned until it is
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Sofia") from None
        return value

    @classmethod
    def given(cls, base: ClinicSettings, values: Mapping[str, Any]) -> ClinicSettings:
        """A clinic's settings: what it gave over `base`. Fasting hours it gave are its own rule."""
        own = base.own_fasting_times or any(key in values for key in FASTING_HOURS)
        return cls.model_validate({**base.model_dump(), "own_fasting_times": own, **values})


FASTING_HOURS = ("fasting_food_hours", "fasting_fluid_hours")

NO_ZONE = (
    "no time zone is set, so no reminder can be planned: set `timezone:` to an IANA name such as "
    "Europe/Istanbul or Europe/Sofia"
)
DEFAULT_NO_ZONE = (
    "no time zone is set: patients who enter their own date are asked where their procedure is, "
    "and reminders are planned in the zone they name. To plan in the clinic's own zone without "
    "asking, set `timezone:` to an IANA name such as Europe/Istanbul or Europe/Sofia"
)


class ClinicDefaults(Reviewed):
    """The default clinic configuration and what its numbers rest on."""

    version: Literal[1]
    sources: list[SourceId] = Field(min_length=1)
    clinic: ClinicSettings


class SourceEntry(_Strict):
    """One source document the content may cite."""

    title: str
    sections: dict[str, int] | None = Field(
        default=None, description="Numbered sections that can be cited as `F-<section><n>`."
    )


class SourceList(Reviewed):
    """The sources the content may cite."""

    version: Literal[1]
    sources: dict[str, SourceEntry]


PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class TranslationRecord(Reviewed):
    """What each translated text was made from: a short hash of the English text at the time."""

    version: Literal[1]
    locale: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
    made_from: dict[str, Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{10}$")]] = Field(
        default_factory=dict, description="Text id -> hash of the English text it was translated from."
    )


class FaqTopic(_Strict):
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
