"""The companion's reminder plan: planned like the patient's, from the clinic's numbers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flows.content import Content
from flows.planning import plan_reminders

SOFIA = ZoneInfo("Europe/Sofia")
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def planned(content: Content, start: dt.datetime, **settings: object) -> dict[str, tuple[dt.datetime, str]]:
    clinic = content.clinic.model_copy(update={"timezone": "Europe/Sofia", **settings})
    plan = plan_reminders(content.plan.for_companion(), start, SOFIA, clinic, NOW)
    return {item.key: (item.due_at.astimezone(SOFIA), item.status) for item in plan}


def test_the_companion_leaves_home_at_the_start_minus_the_clinics_arrival_and_travel_minutes(
    content: Content,
) -> None:
    start = dt.datetime(2026, 12, 10, 9, 0, tzinfo=SOFIA)
    plan = planned(content, start, arrival_minutes_before=45, travel_minutes=35)
    assert plan["companion_leave_home"] == (dt.datetime(2026, 12, 10, 7, 40, tzinfo=SOFIA), "pending")
    assert plan["companion_evening_before"] == (dt.datetime(2026, 12, 9, 18, 0, tzinfo=SOFIA), "pending")
    assert plan["companion_first_evening"] == (dt.datetime(2026, 12, 10, 19, 0, tzinfo=SOFIA), "pending")


def test_the_first_evening_message_is_not_sent_before_an_evening_procedure(content: Content) -> None:
    start = dt.datetime(2026, 12, 10, 19, 30, tzinfo=SOFIA)
    assert planned(content, start)["companion_first_evening"][1] == "skipped"


def test_the_companion_plan_has_no_check_ins_and_its_own_ids(content: Content) -> None:
    companion = {spec.id for spec in content.plan.companion}
    assert companion == {"companion_evening_before", "companion_leave_home", "companion_first_evening"}
    assert not companion & {spec.id for spec in content.plan.reminders}
    assert not any(spec.checkin for spec in content.plan.companion)
