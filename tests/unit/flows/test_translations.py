"""Translations: complete or the check fails by file and line; stale ones are warned about."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bot.entrypoints.cli import main
from flows.check import read_content


@pytest.fixture
def with_translation(content_copy: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The shipped content plus a word-for-word "translation" zz, stamped as checked."""
    shutil.copytree(content_copy / "en", content_copy / "zz")
    for path in (content_copy / "zz").glob("*.yaml"):
        path.write_text(
            path.read_text(encoding="utf-8").replace("locale: en", "locale: zz"), encoding="utf-8"
        )
    assert main(["content", "stamp", "zz", "--dir", str(content_copy)]) == 0
    assert "texts recorded" in capsys.readouterr().out
    return content_copy


def problems_of(folder: Path, code: str = "zz") -> list[str]:
    _, problems = read_content(folder, today=dt.date(2026, 11, 21))
    return [
        str(p)
        for p in problems
        if (f"/{code}/" in p.file or f"locale {code!r}" in p.message)
        # The new zz/translation.yaml has no review yet (test_content_review.py covers that warning).
        and not p.message.startswith("not reviewed: ")
    ]


def remove_kyphoplasty_text(path: Path) -> int:
    """Delete the about.kyphoplasty entry from a texts file; return the line of its `texts:` key."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  about.kyphoplasty:"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("  about."))
    del lines[start:end]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return next(i for i, line in enumerate(lines, start=1) if line == "texts:")


def test_a_complete_stamped_translation_passes(with_translation: Path) -> None:
    assert problems_of(with_translation) == []


def test_removing_one_text_fails_with_the_file_the_line_and_the_id(with_translation: Path) -> None:
    texts_line = remove_kyphoplasty_text(with_translation / "zz" / "about.yaml")
    english = next(
        i
        for i, line in enumerate((with_translation / "en" / "about.yaml").read_text().splitlines(), start=1)
        if line.startswith("  about.kyphoplasty:")
    )
    content, problems = read_content(with_translation)
    assert content is None
    assert [str(p) for p in problems if p.severity == "error"] == [
        f"content/zz/about.yaml:{texts_line}: text id 'about.kyphoplasty' is missing in locale 'zz' "
        f"(under `texts:`; the English is at content/en/about.yaml:{english})"
    ]


def test_a_translation_made_from_an_older_english_text_is_warned_about(with_translation: Path) -> None:
    path = with_translation / "en" / "common.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('"Next ›"', '"Next »"'), encoding="utf-8")
    (warning,) = problems_of(with_translation)
    assert warning.startswith("content/zz/common.yaml:")
    assert "warning: text 'btn.next' was translated from an older English text" in warning
    assert main(["content", "stamp", "zz", "--dir", str(with_translation)]) == 0
    assert problems_of(with_translation) == []


def test_stamp_refuses_the_base_language(content_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "stamp", "en", "--dir", str(content_copy)]) == 2
    assert "no translation 'en'" in capsys.readouterr().err


def test_removing_one_turkish_text_fails_with_the_file_the_line_and_the_id(content_copy: Path) -> None:
    texts_line = remove_kyphoplasty_text(content_copy / "tr" / "about.yaml")
    content, problems = read_content(content_copy)
    assert content is None
    (error,) = [str(p) for p in problems if p.severity == "error"]
    assert error.startswith(
        f"content/tr/about.yaml:{texts_line}: text id 'about.kyphoplasty' is missing in locale 'tr'"
    )
