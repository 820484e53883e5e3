"""The flow engine: one shared `transitions` machine per flow, users as plain records."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from flows import checkins, privacy
from flows.callbacks import (  # the formats' names stay importable from here
    SIGN_NO,
    SIGN_PREFIX,
    AckPress,
    CheckinPress,
    CompanionPress,
    ForgetPress,
    LanguagePress,
    Press,
    SignPress,
    StepPress,
    TopicPress,
    date_data,
    language_data,
    parse,
    sign_data,
    state_token,
    step_data,
    topic_data,
    zone_data,
)
from flows.candidacy import evaluate_candidacy
from flows.checkins import PENDING
from flows.content import BASE_LOCALE, Content
from flows.faq import NOT_SURE, faq_matchers
from flows.machines import build_machine
from flows.models import MENU_FLOW, StateSpec
from flows.outcome import (
    Acknowledge,
    DoAction,
    EndCompanion,
    Event,
    Outcome,
    RedeemInvite,
    ReportSign,
    Session,
    SetLanguage,
    stale,
)
from flows.procedure_input import ProcedureInput, today_of
from flows.reading_models import WarningSign, WarningSigns
from flows.redflags import SignMatcher, Triage, normalise
from flows.replies import Button, Line, Reply
from flows.texts import REMINDER_TITLE_PREFIX
from flows.zones import known_zone

callback_data = step_data  # the name tests and tools use for a step's button data; and below, the
# names other modules import from here (the callback formats moved to flows/callbacks.py).
__all__ = [
    "REMINDER_TITLE_PREFIX",
    "SIGN_NO",
    "SIGN_PREFIX",
    "Event",
    "FlowEngine",
    "Outcome",
    "Session",
    "callback_data",
    "state_token",
]


DATE_BUTTONS = 14  # the next two weeks as buttons; later dates can be typed
ASK_ONE, ASK_ANY = "red.ask_one", "red.ask_any"
WARNING_TOPIC = "warning_signs"  # the FAQ topic that answers a question about the signs in general
# A message with several questions: each is matched, its question mark kept.
QUESTION_SPLIT = re.compile(r"(?<=\?)(?!\?)")
MAX_QUESTIONS = 3
TYPED_ANSWER_LIMIT = 60  # longer typed text is a message, not a button's words
TICKED, UNTICKED = "\u2705", "\u2b1c"
ACTION_COMMANDS = {"reminders": "list_reminders", "pain": "pain_chart"}  # commands that only act


def _letters(text: str) -> str:
    """Only the letters and digits of a text, folded: "I don't know!" reads as "idontknow"."""
    return "".join(normalise(text).split())


def _lenders(content: Content, signs: WarningSigns) -> list[WarningSigns]:
    """The warning signs of the locales whose words patients mix into this one's (`also_read`)."""
    others = [content.locales[code].signs for code in signs.also_read if code in content.locales]
    return [other for other in others if other]


def asks(outcome: Outcome) -> bool:
    """Whether the engine answered with the one-tap "do you have it now?" question."""
    return bool(outcome.replies) and outcome.replies[0].lines[0].text_id in (ASK_ONE, ASK_ANY)


class FlowEngine(ProcedureInput):
    """Turns events into replies by firing the shared machines on a user's session."""

    def __init__(self, content: Content, matchers: dict[str, SignMatcher] | None = None) -> None:
        self.content = content
        self.flows = content.flows
        self.machines = {name: build_machine(spec) for name, spec in self.flows.items()}
        self.matchers = matchers or {
            code: SignMatcher(loc.signs, loc.examples, lenders=_lenders(content, loc.signs))
            for code, loc in content.locales.items()
            if loc.signs
        }
        self.faq = faq_matchers(content)  # none when the content has no FAQ
        self.faq_topics = {topic.id: topic for topic in content.faq.topics} if content.faq else {}
        self.chat = {
            code: [
                (text_id, re.compile("|".join(f"(?:{p})" for p in patterns)))
                for text_id, patterns in loc.faq.chat.items()
            ]
            for code, loc in content.locales.items()
            if loc.faq is not None and loc.faq.chat
        }

    def new_session(self) -> Session:
        """A session at the main menu."""
        return Session(MENU_FLOW, self.flows[MENU_FLOW].start)

    def handle(self, session: Session, event: Event, locale: str) -> Outcome:
        """Apply one event to the session (mutating it) and say what to send and what to record.

        What the patient does in the chat ends a wait for a check-in comment; typed text in time
        is the comment (a warning sign in it still gets the urgent guidance first). Buttons on
        other messages ("Got it" under a reminder, a language, another check-in) leave it open.
        """
        press = parse(event.payload) if event.kind == "button" else None
        aside = isinstance(press, AckPress | LanguagePress) or (
            isinstance(press, CheckinPress) and press.step not in ("n", "x")
        )
        waited = not aside and session.answers.pop(PENDING, None) is not None
        outcome = self._handle(session, event, locale)
        if waited and event.kind == "text" and event.checkin is not None:
            if not (outcome.warning_sign or asks(outcome)):
                outcome = Outcome((Reply((Line("checkin.comment_saved"),)), self.view(session, event)))
            outcome = replace(
                outcome, effects=(*outcome.effects, checkins.comment(event.checkin, event.payload))
            )
        return replace(outcome, changed=True) if waited else outcome

    def _handle(self, session: Session, event: Event, locale: str) -> Outcome:
        if event.kind == "command":
            return self._command(session, event)
        if event.kind == "button":
            return self._press(session, parse(event.payload), event, locale)
        if event.kind == "text":
            return self._text(session, event, locale)
        return self._say(session, (Line("bot.non_text"),), event)

    def _press(self, session: Session, press: Press | None, event: Event, locale: str) -> Outcome:
        """A button: of the patient's step, an FAQ topic, a warning sign, a reminder, a language."""
        if isinstance(press, StepPress):
            return self._button(session, press, event)
        if isinstance(press, SignPress):
            return self._sign_answer(session, press, event, locale)
        if isinstance(press, TopicPress):  # any message's topic button, old ones too: its answer
            return (
                self._faq_answer(session, press.topic, event) if press.topic in self.faq_topics else stale()
            )
        if isinstance(press, CheckinPress) and event.now is not None:
            signs = matcher.signs if (matcher := self.matcher(locale)) else []
            pain_sign = self.content.plan.pain_sign
            return checkins.press(
                session, press, event.checkin, signs=signs, pain_sign=pain_sign, now=event.now
            )
        if isinstance(press, AckPress):  # recorded for the patient's own reminders only
            effects = (Acknowledge(press.reminder),)
            return Outcome((), notice="rem.acknowledged", changed=False, effects=effects, clear_buttons=True)
        if isinstance(press, CompanionPress):  # whose link it is, the service checks
            return Outcome((), changed=False, effects=(EndCompanion(press.companion, press.leave),))
        if isinstance(press, ForgetPress):
            return privacy.answer(session, press, event.now, lambda: self._menu(session))
        if isinstance(press, LanguagePress) and press.code in self.content.locales:
            replies = (Reply((Line("lang.changed"),)), self.view(session, event))
            return Outcome(replies, notice="lang.changed", changed=False, effects=(SetLanguage(press.code),))
        return stale()

    def _command(self, session: Session, event: Event) -> Outcome:
        name = event.payload
        if name in ("start", "menu", "help"):
            first = {"start": "bot.welcome", "help": "bot.help"}.get(name)
            replies = ((Reply((Line(first),)),) if first else ()) + (self._menu(session),)
            token = event.argument.split()[0][:64] if name == "start" and event.argument.strip() else ""
            return Outcome(replies, effects=(RedeemInvite(token),) if token else ())
        if name in ACTION_COMMANDS:
            return Outcome((), changed=False, effects=(DoAction(ACTION_COMMANDS[name]),))
        if name == "mydata":
            return privacy.export()
        if name == "forget":
            return privacy.ask(session, event.now)
        if name == "language":  # each language named in its own words
            buttons = tuple(
                Button("lang.name", language_data(code), label_locale=code)
                for code in sorted(self.content.locales)
            )
            return Outcome((Reply((Line("lang.choose"),), buttons),), changed=False)
        return Outcome((Reply((Line("bot.unknown_command"),)), self.render_state(session)), changed=False)

    def _menu(self, session: Session) -> Reply:
        """Back to the main menu, shown."""
        session.flow, session.state = MENU_FLOW, self.flows[MENU_FLOW].start
        return self.render_state(session)

    def train(self) -> None:
        """Train every language's learned layer, so the first message after start-up (maybe a
        warning sign) is not kept waiting while it learns."""
        for matcher in self.matchers.values():
            if matcher.model is not None:
                matcher.model.train()

    def matcher(self, locale: str) -> SignMatcher | None:
        """The warning-sign matcher that reads a language (English for one without signs)."""
        return self.matchers.get(locale) or self.matchers.get("en")

    def _text(self, session: Session, event: Event, locale: str) -> Outcome:
        matcher = self.matcher(locale)
        triage = Triage("none", None)
        if matcher is not None:
            triage = matcher.triage(event.payload, after_procedure=bool(event.after_procedure))
            sign = triage.sign
            if triage.action == "urgent" and sign is not None:
                return self._urgent(session, sign.id, sign.text, event)
            asked = [s for s in (matcher.sign(i) for i in triage.asked) if s is not None]
            if triage.action == "ask_one" and asked:
                return self._ask(ASK_ONE if len(asked) < len(matcher.signs) else ASK_ANY, asked)
        state = self.flows[session.flow].states[session.state]
        pressed = self._typed_button(session, state, event.payload, locale)
        typed = state.input and (event.local_now is not None or event.now is not None)
        if matcher is not None and triage.action == "ask_any" and not (triage.learned and pressed):
            # The learned layer's hunch gives way to an answer the step takes ("yes", a date, a
            # time, a place), not to one it refuses; the patterns and the net never give way.
            taken = self._typed_input(session, state, event, locale) if typed and triage.learned else None
            return taken if taken is not None and taken.changed else self._ask(ASK_ANY, matcher.signs)
        if pressed is not None:
            return self._button(session, pressed, replace(event, kind="button"))
        if typed:
            return self._typed_input(session, state, event, locale)
        chat = self._chat(locale, event.payload)
        if chat is not None:
            return self._say(session, (Line(chat),), event)
        answered, closest = self._faq(session, event, locale)
        if answered is not None:
            return answered
        return self._fallback(session, event, locale, triage, closest)

    def _typed_button(self, session: Session, state: StateSpec, text: str, locale: str) -> StepPress | None:
        """The press of the step's answer button whose words the patient typed ("I don't
        know", "yes"), if any: typing an answer counts as tapping it."""
        if not state.answer or len(text) > TYPED_ANSWER_LIMIT:
            return None
        typed = _letters(text)
        labels = self.content.locales.get(locale, self.content.locales[BASE_LOCALE]).labels
        offset = len(state.checklist or ())
        for index, button in enumerate(state.buttons):
            if button.value is not None and typed and _letters(labels.get(button.label, "")) == typed:
                return StepPress(state_token(session.flow, session.state), index=offset + index)
        return None

    def _fallback(
        self, session: Session, event: Event, locale: str, triage: Triage, closest: tuple[str, ...]
    ) -> Outcome:
        """A message the FAQ does not answer: a word for a sign named but not reported, the
        one-tap question when the body is named, else "not sure" with the closest topics."""
        if triage.action == "mentioned" and triage.sign is not None:
            if triage.sign.reading == "general" and WARNING_TOPIC in self.faq_topics:
                return self._faq_answer(session, WARNING_TOPIC, event)
            return self._say(session, (Line("red.none"),), event)
        matcher = self.matcher(locale)
        if triage.body and matcher is not None:
            return self._ask(ASK_ANY, matcher.signs)
        if not (self.faq.get(locale) or self.faq.get(BASE_LOCALE)):
            return self._say(session, (Line("bot.unknown_text"),), event)
        buttons = tuple(Button(self.faq_topics[t].label, topic_data(t)) for t in closest)
        return self._say(session, (Line(NOT_SURE),), event, buttons)

    def _say(
        self, session: Session, lines: tuple[Line, ...], event: Event, buttons: tuple[Button, ...] = ()
    ) -> Outcome:
        """One message: what the bot has to say, then the patient's step and its buttons on it."""
        step = self.view(session, event)
        state = self.flows[session.flow].states[session.state]
        # A step that asks something is shown again in words; elsewhere its buttons are enough.
        repeat = state.answer or state.input or state.checklist or state.show
        return Outcome(
            (Reply(lines + (step.lines if repeat else ()), buttons + step.buttons),), changed=False
        )

    def _urgent(self, session: Session, sign_id: str, text_id: str, event: Event) -> Outcome:
        """The sign's guidance at once, then the patient's step again; the sign is recorded and
        the clinic's staff alerted."""
        said = self._say(session, (Line(text_id),), event)
        return replace(said, warning_sign=sign_id, effects=(ReportSign(sign_id),))

    def _ask(self, question: str, signs: list[WarningSign]) -> Outcome:
        """A one-tap question: which of these signs (if any) the patient has now."""
        buttons = [Button(sign.label, sign_data(sign.id)) for sign in signs]
        buttons.append(Button(SIGN_NO, sign_data(None)))
        return Outcome((Reply((Line(question),), tuple(buttons)),), changed=False)

    def _sign_answer(self, session: Session, press: SignPress, event: Event, locale: str) -> Outcome:
        """The answer to "do you have this now?": the sign's guidance, or thanks and the step again."""
        if press.sign is None:
            return self._say(session, (Line("red.none"),), event)
        matcher = self.matcher(locale)
        sign = matcher.sign(press.sign) if matcher else None
        if sign is None:
            return stale()
        return self._urgent(session, sign.id, sign.text, event)

    def view(self, session: Session, event: Event, *, edit: bool = False) -> Reply:
        """The session's step as the patient sees it now: today's dates, the clinics' places."""
        return self.render_state(session, edit=edit, today=today_of(session, event), zones=event.zones)

    def _go(self, session: Session, trigger: str) -> None:
        """Fire a trigger of the session's flow; an exit lands on the other flow's start."""
        self.machines[session.flow].events[f"{session.state}:{trigger}"].trigger(session)
        if session.state.startswith("@"):
            session.flow, session.state = session.state[1:], self.flows[session.state[1:]].start
            if self.flows[session.flow].fresh_start:
                session.answers[session.flow] = {}

    def _button(self, session: Session, press: StepPress, event: Event) -> Outcome:
        spec = self.flows.get(session.flow)
        state = spec.states.get(session.state) if spec else None
        if spec is None or state is None or press.token != state_token(session.flow, session.state):
            return stale()
        if press.zone is not None and state.input == "procedure_zone" and known_zone(press.zone):
            return self._take_zone(session, press.zone, event, edit=spec.edit_in_place)
        if press.day is not None and state.input == "procedure_date":
            return self._take_date(session, press.day, event, edit=spec.edit_in_place)
        if press.index is None or press.index >= len(state.checklist or ()) + len(state.buttons):
            return stale()
        index = press.index
        checklist = state.checklist or []
        if index < len(checklist):
            ticked = session.flow_answers().setdefault(session.state, [])
            item = checklist[index].id
            ticked.remove(item) if item in ticked else ticked.append(item)
            return Outcome((self.render_state(session, edit=True),))
        button = state.buttons[index - len(checklist)]
        answers = session.flow_answers()
        if state.answer and button.value is not None:
            answers[state.answer] = button.value
        edit = spec.edit_in_place
        flow = session.flow
        self._go(session, str(index))
        self._skip_known_zone(session, event)
        if session.flow != flow:
            edit = False
        effects = (DoAction(button.action),) if button.action else ()
        return Outcome((self.view(session, event, edit=edit),), effects=effects)

    def _faq(self, session: Session, event: Event, locale: str) -> tuple[Outcome | None, tuple[str, ...]]:
        """A typed question answered from the FAQ, each question of several in turn; when the FAQ
        is not sure (or there is none), no outcome and the closest topics to offer."""
        matcher = self.faq.get(locale) or self.faq.get(BASE_LOCALE)
        if matcher is None:
            return None, ()
        parts = [p for p in QUESTION_SPLIT.split(event.payload) if p.strip()]
        whole = matcher.match(event.payload)
        found = [matcher.match(part) for part in parts[:MAX_QUESTIONS]] if len(parts) >= 2 else [whole]
        topics = list(dict.fromkeys(f.topic for f in found if f.confident and f.topic is not None))
        if not topics and whole.confident and whole.topic is not None:
            topics = [whole.topic]
        if not topics:
            return None, whole.closest
        lines = tuple(Line(t) for topic in topics for t in self.faq_topics[topic].answer)
        return self._say(session, lines, event), ()

    def _chat(self, locale: str, text: str) -> str | None:
        """The text id of a short human answer when the whole message is small talk."""
        chat = self.chat.get(locale) or self.chat.get(BASE_LOCALE)
        if not chat:
            return None
        norm = normalise(text)
        return next((text_id for text_id, pattern in chat if pattern.search(norm)), None)

    def _faq_answer(self, session: Session, topic: str, event: Event) -> Outcome:
        """A topic's authored answer texts, with the patient's current step's buttons, unchanged."""
        return self._say(session, tuple(Line(text_id) for text_id in self.faq_topics[topic].answer), event)

    def render_state(
        self,
        session: Session,
        *,
        edit: bool = False,
        today: dt.date | None = None,
        zones: tuple[str, ...] = (),
    ) -> Reply:
        """The message that shows the session's current state and its buttons."""
        state = self.flows[session.flow].states[session.state]
        lines = [Line(text_id) for text_id in state.say]
        buttons: list[Button] = []
        if state.input == "procedure_zone":
            buttons.extend(Button("", zone_data(session.flow, session.state, z), zone=z) for z in zones)
        if state.input == "procedure_date" and today is not None:
            for offset in range(DATE_BUTTONS):
                day = today + dt.timedelta(days=offset)
                buttons.append(Button("", date_data(session.flow, session.state, day), day=day))
        ticked = session.answers.get(session.flow, {}).get(session.state, [])
        for index, item in enumerate(state.checklist or ()):
            mark = TICKED if item.id in ticked else UNTICKED
            lines.append(Line(item.text, mark))
            buttons.append(Button(item.label, step_data(session.flow, session.state, index), mark))
        if state.show == "candidacy_result":
            result = evaluate_candidacy(self.content.rules, session.answers.get(session.flow, {}))
            lines.extend(result.lines())
        offset = len(state.checklist or ())
        for index, button in enumerate(state.buttons):
            buttons.append(Button(button.label, step_data(session.flow, session.state, offset + index)))
        return Reply(tuple(lines), tuple(buttons), edit)
