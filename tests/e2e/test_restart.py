"""A patient halfway through the questionnaire keeps their place when the bot process restarts."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bot.testing.fake_bot_api import FakeBotAPI
from flows.content import Content
from flows.engine import Event, FlowEngine
from flows.render import Renderer, clinic_params
from tests.e2e.conftest import Patient
from tests.support import kill, start_process


def expected_screens(content: Content) -> list[str]:
    """What the patient sees pressing the first button until the result, computed in-process."""
    engine = FlowEngine(content)
    renderer = Renderer(content, clinic_params(content.clinic))
    session = engine.new_session()
    screens = []
    data = next(b.data for b in engine.render_state(session).buttons if b.label_id == "menu.candidacy")
    while session.state != "result":
        reply = engine.handle(session, Event("button", data), "en").replies[-1]
        screens.append(renderer.render(reply, "en").text)
        data = reply.buttons[0].data
    return screens


async def test_questionnaire_continues_after_a_crash_and_restart(
    telegram: FakeBotAPI, tmp_path: Path, content: Content
) -> None:
    database = tmp_path / "restart.db"
    expected = expected_screens(content)
    patient = Patient(telegram, chat_id=5001)
    process = await start_process(telegram, database)
    try:
        await patient.send("/start")
        await patient.press(content.locales["en"].labels["menu.candidacy"])
        for screen in expected[1:4]:
            shown = await patient.press(patient.labels()[0])
            assert shown["text"] == screen
    finally:
        await kill(process)

    halfway = patient.screen()
    process = await start_process(telegram, database)
    try:
        shown = await patient.press_data(
            halfway["message_id"], halfway["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        )
        assert shown["text"] == expected[4]
        assert shown["text"] != expected[1], "the questionnaire did not start over"
        # The answers given before the crash still count in the result.
        for screen in expected[5:]:
            shown = await patient.press(patient.labels()[0])
            assert shown["text"] == screen
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
