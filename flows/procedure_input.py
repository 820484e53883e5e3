"""Where and when the patient's procedure is: the place (time zone), date and time steps of the
procedure flow, read in the zone the procedure is in. A part of the flow engine (FlowEngine
inherits it); it uses the engine's step machinery (_go, view, _say)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flows.outcome import Event, Outcome, ScheduleProcedure, Session
from flows.replies import Line, Reply
from flows.timeparse import parse_clock_time, parse_day
from flows.zones import exists, find_zone, known_zone

if TYPE_CHECKING:
    from flows.models import FlowSpec, StateSpec

LATEST_DAY = dt.timedelta(days=366)


def zone_of(session: Session, event: Event) -> str:
    """The zone the patient's procedure is read in: the clinic's, else the one the patient named."""
    return event.zone or str(session.answers.get(session.flow, {}).get("zone", ""))


def local_now(session: Session, event: Event) -> dt.datetime | None:
    """The patient's wall-clock time now, in the zone their procedure is read in."""
    zone = zone_of(session, event)
    if event.now is not None and zone and known_zone(zone):
        return event.now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return event.local_now


def today_of(session: Session, event: Event) -> dt.date | None:
    now = local_now(session, event)
    return now.date() if now else None


class ProcedureInput:
    """The place, date and time steps (inputs `procedure_zone`, `procedure_date`, `procedure_time`)."""

    flows: dict[str, FlowSpec]

    def _go(self, session: Session, trigger: str) -> None:
        raise NotImplementedError

    def view(self, session: Session, event: Event, *, edit: bool = False) -> Reply:
        raise NotImplementedError

    def _refuse(self, session: Session, text_id: str, event: Event) -> Outcome:
        """A clear word about what was wrong; nothing changes."""
        return Outcome((Reply((Line(text_id),)), self.view(session, event)), changed=False)

    def _say(self, session: Session, lines: tuple[Line, ...], event: Event) -> Outcome:
        raise NotImplementedError

    def _typed_input(self, session: Session, state: StateSpec, event: Event, locale: str) -> Outcome:
        text = event.payload.strip()
        if state.input == "procedure_zone":
            found = find_zone(text, locale)
            if found is None:
                return self._refuse(session, "proc.unclear_zone", event)
            return self._take_zone(session, found, event, edit=False)
        zone = zone_of(session, event)
        now = local_now(session, event)
        if not zone or now is None:
            return self._ask_zone(session, event)
        if state.input == "procedure_date":
            day = parse_day(text, now.date())
            if day is None:
                return self._refuse(session, "proc.unclear_date", event)
            return self._take_date(session, day, event, edit=False)
        clock = parse_clock_time(text)
        day_text = session.flow_answers().get("date")
        if clock is None or not day_text:
            return self._refuse(session, "proc.unclear_time", event)
        start = dt.datetime.combine(dt.date.fromisoformat(day_text), clock)
        if start <= now:
            return self._refuse(session, "proc.time_past", event)
        if not exists(start, zone):
            return self._refuse(session, "proc.time_gap", event)
        session.flow_answers()["time"] = clock.strftime("%H:%M")
        self._go(session, "input")
        return Outcome((self.view(session, event),), effects=(ScheduleProcedure(start, zone),))

    def _take_zone(self, session: Session, zone: str, event: Event, *, edit: bool) -> Outcome:
        session.flow_answers()["zone"] = zone
        self._go(session, "input")
        return Outcome((self.view(session, event, edit=edit),))

    def _take_date(self, session: Session, day: dt.date, event: Event, *, edit: bool) -> Outcome:
        now = local_now(session, event)
        if now is None or not zone_of(session, event):
            return self._ask_zone(session, event)
        if day < now.date() or day > now.date() + LATEST_DAY:
            return self._refuse(session, "proc.date_past", event)
        session.flow_answers()["date"] = day.isoformat()
        self._go(session, "input")
        return Outcome((self.view(session, event, edit=edit),))

    def _ask_zone(self, session: Session, event: Event) -> Outcome:
        """A date or time typed before anyone said where the procedure is: ask that first."""
        spec = self.flows[session.flow]
        asking = next((name for name, st in spec.states.items() if st.input == "procedure_zone"), None)
        if asking is None:  # a flow without the question: nothing can be planned
            return self._say(session, (Line("proc.no_timezone"),), event)
        session.state = asking
        return Outcome((self.view(session, event),))

    def _skip_known_zone(self, session: Session, event: Event) -> None:
        """The question "where is your procedure?" is only asked when the clinic set no zone."""
        state = self.flows[session.flow].states.get(session.state)
        if state is not None and state.input == "procedure_zone" and event.zone:
            self._go(session, "input")
