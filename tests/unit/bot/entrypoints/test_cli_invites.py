"""Invite links the command line prints name the clinic's own bot: as Telegram's getMe describes
the token's bot, remembered in the database, or as the operator sets it; never a guess."""

from __future__ import annotations

import re

import pytest

from tests.unit.bot.entrypoints.cli_run import FUTURE, closed_port, fake_telegram, run

TOKEN = "777001:CLINIC-BOT-TOKEN"
OWN_BOT = re.compile(r": https://t\.me/clinic_helper_bot\?start=[A-Za-z0-9_-]{32}$")
NO_USERNAME = (
    "error: no invite link: the bot's Telegram username is not known; set TELEGRAM_BOT_TOKEN (the "
    "username is then asked from Telegram and remembered) or TELEGRAM_BOT_USERNAME"
)


@pytest.fixture(autouse=True)
def clinic(database: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A clinic in a database of its own, and no username or token in the environment."""
    for name in ("TELEGRAM_BOT_USERNAME", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    added = run(capsys, "clinic", "add", "sofia", "--name", "Sofia Spine", "--timezone", "Europe/Sofia")
    assert added[0] == 0


def add_appointment(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], list[str]]:
    return run(capsys, "appointment", "add", "--clinic", "sofia", "--at", FUTURE)


def test_links_name_the_bot_telegram_describes_and_it_is_remembered_for_later(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_telegram(TOKEN, "clinic_helper_bot") as telegram:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", telegram.base_url)
        code, out, err = add_appointment(capsys)
        assert [name for name, _ in telegram.calls] == ["getMe"]
    assert (code, err) == (0, [])
    assert OWN_BOT.search(out[1]), out[1]

    # No token now (another machine, or Telegram down): the remembered username names the links.
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    code, out, err = run(capsys, "appointment", "invite", "--clinic", "sofia", "1")
    assert (code, err) == (0, [])
    assert OWN_BOT.search(out[0]), out[0]


def test_with_neither_a_username_nor_a_remembered_one_no_link_is_made(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = add_appointment(capsys)
    assert (code, out, err) == (1, [], [NO_USERNAME])
    code, out, _ = run(capsys, "appointment", "list", "--clinic", "sofia")
    assert (code, out) == (0, ["no procedures for clinic sofia"]), "nothing was registered"


def test_a_token_telegram_refuses_gives_no_link_and_is_not_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_telegram(TOKEN) as telegram:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "777001:A-WRONG-TOKEN")
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", telegram.base_url)
        code, out, err = add_appointment(capsys)
    assert (code, out) == (1, [])
    assert err == [
        "error: no invite link: Telegram does not accept TELEGRAM_BOT_TOKEN (Unauthorized): copy the "
        "bot's token again from @BotFather (/mybots, API Token) and set TELEGRAM_BOT_TOKEN to it; "
        "or set TELEGRAM_BOT_USERNAME"
    ]


def test_when_telegram_cannot_be_reached_the_remembered_username_names_the_links(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with fake_telegram(TOKEN, "clinic_helper_bot") as telegram:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", telegram.base_url)
        assert add_appointment(capsys)[0] == 0
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{closed_port()}/bot")
    code, out, _ = add_appointment(capsys)
    assert code == 0
    assert OWN_BOT.search(out[1]), out[1]
    said = "Telegram could not be asked; invite links name @clinic_helper_bot, as Telegram said before"
    assert caplog.messages == [said]


def test_the_username_the_operator_sets_names_the_links_without_asking_telegram(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "clinic_helper_bot")
    code, out, err = add_appointment(capsys)
    assert (code, err) == (0, [])
    assert OWN_BOT.search(out[1]), out[1]
