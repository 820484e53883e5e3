"""`vertebrobot content check` and start-up: precise `file:line` errors for broken content."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.entrypoints.cli import SCHEMAS, main
from flows import texts
from flows.check import read_content
from flows.content import Content
from flows.models import DEFAULT_NO_ZONE
from tests.conftest import CONTENT_DIR, ROOT

TODAY = dt.date(2026, 11, 21)  # review dates are measured against this day, not the wall clock


def run_check(folder: Path) -> list[str]:
    _, problems = read_content(folder, today=TODAY)
    return [str(p) for p in problems]


def start_bot(folder: Path) -> subprocess.CompletedProcess[str]:
    """Start `vertebrobot run` on broken content; it must stop before contacting Telegram."""
    env = {
        **os.environ,
        "VERTEBROBOT_CONTENT_DIR": str(folder),
        "TELEGRAM_BOT_TOKEN": "123:never-used",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
        "DATABASE_URL": f"sqlite:///{folder.parent / 'start.db'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", "run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd=folder.parent,
    )


# The one warning the shipped content gives on purpose: an operator must set the clinic's zone.
NO_ZONE_WARNING = f"content/clinic.yaml:13: warning: the default clinic: {DEFAULT_NO_ZONE}"


def test_shipped_content_has_no_errors_and_only_the_time_zone_warning() -> None:
    assert run_check(CONTENT_DIR) == [NO_ZONE_WARNING]


def test_cli_check_exit_codes(content_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check", str(CONTENT_DIR)]) == 0
    assert "content OK" in capsys.readouterr().out
    (content_copy / "flows" / "about.yaml").write_text("version: 1\nflow: about\n", encoding="utf-8")
    assert main(["content", "check", str(content_copy)]) == 1
    err = capsys.readouterr().err
    assert "content/flows/about.yaml:1: states: required field is missing" in err


def _first_text_of_flow(content: Content, flow: str) -> str:
    spec = content.flows[flow]
    return spec.states[spec.start].say[0]


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _break_yaml(folder: Path) -> str:
    path = folder / "en" / "about.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "oops: this: is not yaml")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "content/en/about.yaml:3: invalid YAML: mapping values are not allowed in this context"


def _remove_text(folder: Path, content: Content) -> str:
    text_id = _first_text_of_flow(content, "about")
    where = content.locales["en"].where[text_id]
    path = folder.parent / where.file
    lines = path.read_text(encoding="utf-8").splitlines()
    start = where.line - 1
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
    ):
        end += 1
    del lines[start:end]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    used = _line_of(folder / "flows" / "about.yaml", text_id)
    return (
        f"content/flows/about.yaml:{used}: text id {text_id!r} is missing in locale 'en' "
        "(add it under `texts:` or `ui:`)"
    )


def _add_unreachable_state(folder: Path, content: Content) -> str:
    path = folder / "flows" / "about.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index("states:") + 1
    indent = " " * (len(lines[at]) - len(lines[at].lstrip()))
    text_id = _first_text_of_flow(content, "about")
    lines[at:at] = [
        f"{indent}orphan:",
        f"{indent}  say: [{text_id}]",
        f"{indent}  buttons:",
        f'{indent}    - {{label: btn.menu, to: "@menu"}}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    start = content.flows["about"].start
    return (
        f"content/flows/about.yaml:{at + 1}: state 'orphan' cannot be reached from the start state {start!r}"
    )


@pytest.mark.parametrize("breakage", ["malformed yaml", "missing text id", "unreachable state"])
def test_each_breakage_gives_one_precise_error_from_check_and_start_up(
    breakage: str, content_copy: Path, content: Content
) -> None:
    if breakage == "malformed yaml":
        expected = _break_yaml(content_copy)
    elif breakage == "missing text id":
        expected = _remove_text(content_copy, content)
    else:
        expected = _add_unreachable_state(content_copy, content)

    assert [p for p in run_check(content_copy) if p != NO_ZONE_WARNING] == [expected]

    started = start_bot(content_copy)
    assert started.returncode == 1
    assert expected in started.stderr.splitlines()


def test_missing_label_and_unknown_placeholder_are_reported(content_copy: Path) -> None:
    path = content_copy / "en" / "bot.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{emergency_number}", "{emergency_numbr}", 1), encoding="utf-8")
    # Errors only: the translations also warn that their English text changed.
    problems = [p for p in run_check(content_copy) if ": warning: " not in p]
    assert len(problems) == 1
    assert "uses unknown placeholder {emergency_numbr}" in problems[0]


def test_committed_json_schemas_match_the_models() -> None:
    for name, model in SCHEMAS.items():
        committed = json.loads((ROOT / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))
        assert committed == model.model_json_schema(), (
            f"schema/{name}.schema.json is stale: run `content schema`"
        )


def test_a_text_the_code_shows_is_named_where_the_code_lists_it(content_copy: Path) -> None:
    path = content_copy / "en" / "bot.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join(line for line in lines if not line.startswith("  bot.stale_button:")) + "\n",
        encoding="utf-8",
    )
    listed = _line_of(Path(texts.__file__), "bot.stale_button")
    assert f"flows/texts.py:{listed}: text id 'bot.stale_button' is missing in locale 'en' " in "\n".join(
        run_check(content_copy)
    )


@pytest.mark.parametrize("key", ["negated", "harmless", "firsthand", "resolved"])
def test_a_bad_pattern_in_a_reading_list_is_named_by_file_and_line(content_copy: Path, key: str) -> None:
    path = content_copy / "en" / "warning_signs.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index(f"{key}:") + 1
    lines.insert(at, "  - 'broken(regex'")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = [p for p in run_check(content_copy) if "broken(regex" in p]
    assert len(problems) == 1
    assert problems[0].startswith(
        f"content/en/warning_signs.yaml:{at + 1}: pattern 'broken(regex' is not a valid"
    )
