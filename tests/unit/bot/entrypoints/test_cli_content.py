"""Which content the commands use: an author's edited folder, not the copy `pip install .` made."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.entrypoints.cli import main
from tests.conftest import CONTENT_DIR
from tests.unit.bot.entrypoints.cli_run import run, vertebrobot


def edited_copy(folder: Path, about_label: str) -> Path:
    """A copy of the shipped content whose first menu button reads `about_label`."""
    shutil.copytree(CONTENT_DIR, folder)
    texts = folder / "en" / "bot.yaml"
    shipped = 'menu.about: "What is vertebroplasty?"'
    source = texts.read_text(encoding="utf-8")
    assert shipped in source
    texts.write_text(source.replace(shipped, f'menu.about: "{about_label}"'), encoding="utf-8")
    return folder


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An author's working directory, with no content folder named in the environment."""
    monkeypatch.delenv("VERTEBROBOT_CONTENT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_content_check_checks_and_names_the_content_folder_of_the_working_directory(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = edited_copy(workdir / "content", "What is it, in short?")
    code, out, _ = run(capsys, "content", "check")
    assert code == 0
    assert out[0] == f"checked {folder}"

    (folder / "flows" / "about.yaml").write_text("version: 1\nflow: about\n", encoding="utf-8")
    code, out, err = run(capsys, "content", "check")
    assert code == 1, "the edit in the working directory is what was checked"
    assert out == [f"checked {folder}"]
    assert "content/flows/about.yaml:1: states: required field is missing" in err


def test_the_folder_named_by_vertebrobot_content_dir_wins_over_the_working_directory(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    edited_copy(workdir / "content", "From the working directory")
    chosen = edited_copy(workdir / "elsewhere" / "content", "From the environment")
    monkeypatch.setenv("VERTEBROBOT_CONTENT_DIR", str(chosen))
    code, out, _ = run(capsys, "content", "check")
    assert code == 0
    assert out[0] == f"checked {chosen}"


def test_without_a_content_folder_the_installed_content_is_checked(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["content", "check"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"checked {CONTENT_DIR}"


def test_local_chat_shows_and_names_the_edited_content_of_the_working_directory(tmp_path: Path) -> None:
    folder = edited_copy(tmp_path / "content", "What is it, in short?")
    done = vertebrobot("chat", stdin="/quit\n", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "  [1] What is it, in short?" in done.stdout
    assert f"(local chat: content from {folder})" in done.stderr.splitlines()


def test_local_chat_uses_the_folder_the_environment_names(tmp_path: Path) -> None:
    edited_copy(tmp_path / "content", "From the working directory")
    chosen = edited_copy(tmp_path / "clinic-texts", "From the environment")
    done = vertebrobot("chat", stdin="/quit\n", cwd=tmp_path, env={"VERTEBROBOT_CONTENT_DIR": str(chosen)})
    assert done.returncode == 0, done.stderr
    assert "  [1] From the environment" in done.stdout
    assert "From the working directory" not in done.stdout
    assert f"(local chat: content from {chosen})" in done.stderr.splitlines()
