"""`vertebrobot staff link`: a one-time sign-in link to the clinic web page for an administrator."""

from __future__ import annotations

import re

import pytest

from tests.unit.bot.entrypoints.cli_run import run

pytestmark = pytest.mark.usefixtures("database")


def test_staff_link_prints_a_one_time_link_under_the_web_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "clinic", "add", "sofia", "--name", "Sofia", "--timezone", "Europe/Sofia")[0] == 0
    monkeypatch.setenv("VERTEBROBOT_WEB_URL", "https://bot.example.org/")
    code, out, _ = run(capsys, "staff", "link", "--clinic", "sofia")
    assert code == 0
    assert re.fullmatch(
        r"sign-in link for sofia \(works once, for 10 minutes\): "
        r"https://bot\.example\.org/clinic/signin\?token=[A-Za-z0-9_-]{32}",
        out[0],
    )
    again = run(capsys, "staff", "link", "--clinic", "sofia")[1][0]
    assert again != out[0], "a new link each time"
    code, _, err = run(capsys, "staff", "link", "--clinic", "nowhere")
    assert code == 1
    assert err
