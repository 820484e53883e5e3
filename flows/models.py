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

# A clinic's short name, the clinic's own reference for a procedure and an API token's label:
# one rule each for the API, the CLI, imports and the staff chat (and the columns that hold them).
MAX_SLUG = 40
SLUG = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{MAX_SLUG - 1}}}")
SLUG_RULE = f"a clinic's short name has 1 to {MAX_SLUG} lower-case letters, digits, - or _"
MAX_REFERENCE = 64
REFERENCE = re.compile(rf"[^\s\x00-\x1f\x7f]{{1,{MAX_REFERENCE}}}")
REFERENCE_RULE = f"a reference is the clinic's own id: 1 to {MAX_REFERENCE} characters, no spaces, no names"
MAX_TOKEN_LABEL = 80


class Strict(BaseModel):
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


class Branch(Strict):
    """One possible destination of a button, taken when all its conditions hold."""

    when: dict[str, AnswerValue | list[AnswerValue]] = Field(
        default_factory=dict,
        description="Answers that must match (a list means any of them); empty = always.",
    )
    to: Target


Action = Literal[
    "list_reminders",
    "pause_reminders",
    "resume_reminders",
    "cancel_procedure",
    "calendar",
    "invite_companion",
    "list_companions",
]


class ButtonSpec(Strict):
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


class ChecklistItem(Strict):
    """One thing to tick off: a short button label and the full text."""

    id: AnswerValue
    label: TextId
    text: TextId


class StateSpec(Strict):
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


class SourcedText(Strict):
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


class Rule(Strict):
    """A candidacy rule: when the answers match, this text goes under that heading."""

    when: dict[str, AnswerValue | list[AnswerValue]] = Field(min_length=1)
    outcome: Literal["fits", "check", "urgent"]
    text: TextId
    ask: TextId | None = Field(default=None, description="A question to take to the appointment.")


class RuleBook(Reviewed):
    """The candidacy rules."""

    version: Literal[1]
    rules: list[Rule] = Field(min_length=1)


class ClinicSettings(Strict):
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
    retention_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        default=90,
        description="How many days after the procedure (or its cancellation) its patient's data is kept, "
        "and at least until a day after its last reminder's deadline; then `vertebrobot purge` (and "
        "`run`, hourly) removes it, keeping only counts.",
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


class SourceEntry(Strict):
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
