"""Every button's callback data, written and read in one place.

Telegram gives a pressed button back as its callback data: at most 64 bytes the bot chose, and
that anyone can forge. Each kind of press has one writer here and one reader, `parse`, which
turns data into a typed press or None; nothing else in the code splits callback data.

    <token>.<n>           a step's n-th button (token: a hash of the flow and state)
    <token>.dYYYYMMDD     a date button of a step that asks the procedure's date
    <token>.z<zone>       a place button of a step that asks where the procedure is
    faq.<topic>           an FAQ topic offered under an answer
    sign.<id> / sign.no   the answer to "do you have this now?"
    ack.<reminder>        "Got it" under a reminder
    ci.<reminder>.<step>  a check-in: p0..p10 (pain), y / n (any sign?), s<sign>, x (no comment)
    lang.<code>           a language chosen
    forget.<nonce>        "Delete" under the /forget question (the nonce is the question's own)
    forget.keep           "Keep" under it
    comp.<id>.r / .l      a companion link: removed by the patient (r), or left by the companion (l)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

FAQ_PREFIX = "faq."
SIGN_PREFIX = "sign."
SIGN_NO = "sign.no"
ACK_PREFIX = "ack."
CHECKIN_PREFIX = "ci."
LANGUAGE_PREFIX = "lang."
FORGET_PREFIX = "forget."
FORGET_KEEP = "forget.keep"
COMPANION_PREFIX = "comp."
MAX_BYTES = 64  # Telegram's limit on callback data

_ID = r"[0-9]{1,12}"  # ASCII digits only, and small enough for any database
_STEP = re.compile(r"([0-9a-f]{8})\.(?:([0-9]{1,3})|d([0-9]{8})|z([A-Za-z0-9_+\-/]{1,60}))")
_ACK = re.compile(rf"{re.escape(ACK_PREFIX)}({_ID})")
_CHECKIN = re.compile(rf"{re.escape(CHECKIN_PREFIX)}({_ID})\.(p(?:10|[0-9])|y|n|x|s[a-z0-9_]{{1,24}})")
_NAME = re.compile(r"[a-z0-9_]{1,40}")
_COMPANION = re.compile(rf"{re.escape(COMPANION_PREFIX)}({_ID})\.([rl])")
_FORGET = re.compile(rf"{re.escape(FORGET_PREFIX)}([0-9a-f]{{1,16}})")


@dataclass(frozen=True)
class StepPress:
    """A button of a flow's step: its index, or the date or place it stands for."""

    token: str
    index: int | None = None
    day: dt.date | None = None
    zone: str | None = None


@dataclass(frozen=True)
class TopicPress:
    """An FAQ topic button."""

    topic: str


@dataclass(frozen=True)
class SignPress:
    """The answer to "do you have this now?": a sign's id, or None for "none of these"."""

    sign: str | None


@dataclass(frozen=True)
class AckPress:
    """ "Got it" under a reminder."""

    reminder: int


@dataclass(frozen=True)
class CheckinPress:
    """A check-in button: the reminder it belongs to and the step (p0..p10, y, n, s<sign>, x)."""

    reminder: int
    step: str


@dataclass(frozen=True)
class LanguagePress:
    """A language chosen from the list."""

    code: str


@dataclass(frozen=True)
class ForgetPress:
    """An answer to "delete everything?": Delete (with the question's nonce) or Keep (None)."""

    nonce: str | None


@dataclass(frozen=True)
class CompanionPress:
    """A companion link ended: by the patient (remove) or by the companion (leave)."""

    companion: int
    leave: bool


Press = (
    StepPress
    | TopicPress
    | SignPress
    | AckPress
    | CheckinPress
    | LanguagePress
    | ForgetPress
    | CompanionPress
)


def state_token(flow: str, state: str) -> str:
    """A short opaque token for a state; callback data carries it, never a state name."""
    return hashlib.blake2s(f"{flow}/{state}".encode(), digest_size=4).hexdigest()


def step_data(flow: str, state: str, index: int) -> str:
    """The callback data of a step's index-th button (at most 12 bytes)."""
    return f"{state_token(flow, state)}.{index}"


def date_data(flow: str, state: str, day: dt.date) -> str:
    """The callback data of a date button."""
    return f"{state_token(flow, state)}.d{day:%Y%m%d}"


def zone_data(flow: str, state: str, zone: str) -> str:
    """The callback data of a place button (an IANA zone name)."""
    return f"{state_token(flow, state)}.z{zone}"


def topic_data(topic: str) -> str:
    """The callback data of an FAQ topic button."""
    return f"{FAQ_PREFIX}{topic}"


def sign_data(sign: str | None) -> str:
    """The callback data of a warning sign's button, or of "none of these" (None)."""
    return SIGN_NO if sign is None else f"{SIGN_PREFIX}{sign}"


def ack_data(reminder: int) -> str:
    """The callback data of a reminder's "Got it" button."""
    return f"{ACK_PREFIX}{reminder}"


def checkin_data(reminder: int, step: str) -> str:
    """The callback data of a check-in button."""
    return f"{CHECKIN_PREFIX}{reminder}.{step}"


def language_data(code: str) -> str:
    """The callback data of a language's button."""
    return f"{LANGUAGE_PREFIX}{code}"


def forget_data(nonce: str | None) -> str:
    """The callback data of "Delete" (the question's nonce) or "Keep" (None) under /forget."""
    return FORGET_KEEP if nonce is None else f"{FORGET_PREFIX}{nonce}"


def companion_data(companion: int, *, leave: bool) -> str:
    """The callback data of "Remove companion" (the patient's) or "Stop being the companion"."""
    return f"{COMPANION_PREFIX}{companion}.{'l' if leave else 'r'}"


def parse(data: str) -> Press | None:
    """The press a button's callback data stands for, or None for anything malformed or forged."""
    if step := _STEP.fullmatch(data):
        token, index, day, zone = step.groups()
        if index is not None:
            return StepPress(token, index=int(index))
        if zone is not None:
            return StepPress(token, zone=zone)
        try:
            return StepPress(token, day=dt.datetime.strptime(day, "%Y%m%d").date())  # noqa: DTZ007 - a date
        except ValueError:
            return None
    if ack := _ACK.fullmatch(data):
        return AckPress(int(ack.group(1)))
    if checkin := _CHECKIN.fullmatch(data):
        return CheckinPress(int(checkin.group(1)), checkin.group(2))
    for prefix, kind in ((FAQ_PREFIX, TopicPress), (LANGUAGE_PREFIX, LanguagePress)):
        if data.startswith(prefix) and _NAME.fullmatch(data[len(prefix) :]):
            return kind(data[len(prefix) :])
    if companion := _COMPANION.fullmatch(data):
        return CompanionPress(int(companion.group(1)), companion.group(2) == "l")
    if data == FORGET_KEEP:
        return ForgetPress(None)
    if forget := _FORGET.fullmatch(data):
        return ForgetPress(forget.group(1))
    if data == SIGN_NO:
        return SignPress(None)
    if data.startswith(SIGN_PREFIX) and _NAME.fullmatch(data[len(SIGN_PREFIX) :]):
        return SignPress(data[len(SIGN_PREFIX) :])
    return None
