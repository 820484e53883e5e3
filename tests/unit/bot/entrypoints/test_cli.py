"""The command line: the local chat, running without a token, diagrams and clinic numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.entrypoints.bootstrap import wire
from bot.entrypoints.cli import main
from bot.entrypoints.config import Settings
from flows.content import Content, ContentError
from flows.render import Renderer
from tests.unit.bot.entrypoints.cli_run import vertebrobot


def test_local_chat_walks_the_menu_with_numbers(tmp_path: Path, content: Content) -> None:
    labels = content.locales["en"].labels
    done = vertebrobot("chat", stdin="1\n1\n/menu\n/quit\n", cwd=tmp_path)
    assert done.returncode == 0
    out = done.stdout
    assert f"  [1] {labels['menu.about']}" in out
    about = content.flows["about"]
    first_text = Renderer(content, {}).text(about.states[about.start].say[0], "en")
    assert first_text.splitlines()[0] in out
    second = about.states[about.start].buttons[0].to
    assert second is not None
    second_text = Renderer(content, {}).text(about.states[second].say[0], "en")
    assert second_text.splitlines()[0] in out
    assert out.rstrip().endswith("Goodbye.")


def test_run_without_a_token_says_how_to_get_one(tmp_path: Path) -> None:
    done = vertebrobot("run", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "TELEGRAM_BOT_TOKEN is not set" in lines[0]
    assert "@BotFather" in lines[0]
    assert not list(tmp_path.iterdir()), "nothing was created"


def test_graph_prints_a_mermaid_diagram(capsys: pytest.CaptureFixture[str], content: Content) -> None:
    assert main(["content", "graph", "candidacy"]) == 0
    out = capsys.readouterr().out
    assert "stateDiagram-v2" in out
    for state in content.flows["candidacy"].states:
        assert f'state "{state}" as {state}' in out
    assert "go_to_menu" in out
    assert main(["content", "graph", "nonsense"]) == 2
    assert "the flows are: about, after, candidacy, menu, prepare" in capsys.readouterr().err


def test_clinic_file_sets_the_numbers_patients_see(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(
        'clinic:\n  name: "Sofia Spine Clinic"\n  phone: "+359 2 000 0000"\n'
        "  fasting_food_hours: 6\n  fasting_fluid_hours: 2\n",
        encoding="utf-8",
    )
    wiring = wire(Settings(VERTEBROBOT_CLINIC_FILE=clinic, DATABASE_URL="sqlite://"))
    fasting = next(
        item.text
        for state in wiring.content.flows["prepare"].states.values()
        for item in state.checklist or ()
        if "{fasting_food_hours}" in wiring.content.locales["en"].texts[item.text]
    )
    text = wiring.renderer.text(fasting, "en")
    assert "6 hours" in text
    assert "2 hours" in text
    assert "+359 2 000 0000" in wiring.renderer.text("bot.unknown_text", "en")
    assert wiring.clinic.emergency_number == "112", "unset fields keep their defaults"


def test_bad_clinic_file_is_reported_by_line(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("clinic:\n  name: x\n  fasting_food_hours: -3\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        wire(Settings(VERTEBROBOT_CLINIC_FILE=clinic, DATABASE_URL="sqlite://"))
    assert [str(p) for p in caught.value.problems] == [
        f"{clinic}:3: fasting_food_hours: Input should be greater than 0"
    ]


def test_local_chat_numbers_the_buttons_of_a_question_and_of_the_step_after_it(
    tmp_path: Path, content: Content
) -> None:
    labels = content.locales["en"].labels
    done = vertebrobot("chat", stdin="my feet feel a bit heavy\n2\n5\n/pain\n/quit\n", cwd=tmp_path)
    assert done.returncode == 0
    out = done.stdout
    question = out.index("What you wrote can be a warning sign.")
    assert out.index(f"  [1] {labels['sign.legs']}") > question
    assert out.index(f"  [2] {labels['sign.no']}") > question
    # "2" answered the question; the step shown again numbers its own buttons from 1.
    thanks = out.index("Thank you. If anything changes, call")
    assert out.index(f"  [5] {labels['menu.procedure']}", thanks) > thanks
    assert out.index(labels["proc.btn.set"], thanks) > thanks, "5 pressed the step's fifth button"
    assert "There are no pain scores yet." in out
