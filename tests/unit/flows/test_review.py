"""Content governance: every content file records who reviewed it and when; the check warns when not."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from bot.entrypoints.cli import SCHEMAS, main
from flows.check import read_content
from flows.content import content_files
from flows.models import Reviewed
from flows.review import stamp_review
from tests.conftest import CONTENT_DIR, MINI_DIR

TODAY = dt.date(2026, 11, 21)
NOT_REVIEWED = (
    "warning: not reviewed: add reviewed_by and reviewed_at once a clinician has checked this file "
    "against the sources"
)
SHIPPED_REVIEW = "vertebrobot engineering: source check, not a clinical sign-off"


@pytest.fixture
def mini_copy(tmp_path: Path) -> Path:
    """A writable copy of the small test content, whose files are not reviewed."""
    target = tmp_path / "mini"
    shutil.copytree(MINI_DIR, target)
    return target


def is_review_warning(message: str) -> bool:
    return message.startswith(("not reviewed: ", "last reviewed on "))


def review_problems(folder: Path, today: dt.date = TODAY, file: str = "mini/sources.yaml") -> list[str]:
    """Every problem about one file, measured against a fixed `today`."""
    _, problems = read_content(folder, today=today)
    return [str(p) for p in problems if p.file == file]


def head(path: Path, *lines: str) -> None:
    """Put lines at the top of a file (above its heading comment)."""
    path.write_text("".join(f"{line}\n" for line in lines) + path.read_text(encoding="utf-8"), "utf-8")


def test_a_file_without_a_review_is_warned_about_at_its_first_line(mini_copy: Path) -> None:
    assert review_problems(mini_copy) == [f"mini/sources.yaml:1: {NOT_REVIEWED}"]
    content, _ = read_content(mini_copy, today=TODAY)
    assert content is not None, "a warning does not fail the check"


@pytest.mark.parametrize(("days_ago", "warned"), [(0, False), (365, False), (366, True)])
def test_a_review_over_a_year_old_is_warned_about(mini_copy: Path, days_ago: int, warned: bool) -> None:
    day = TODAY - dt.timedelta(days=days_ago)
    head(mini_copy / "sources.yaml", 'reviewed_by: "Dr A. Petrova, radiologist"', f"reviewed_at: {day}")
    expected = [f"mini/sources.yaml:2: warning: last reviewed on {day}, over a year ago: review it again"]
    assert review_problems(mini_copy) == (expected if warned else [])


def test_a_quoted_date_is_read_like_an_unquoted_one(mini_copy: Path) -> None:
    head(mini_copy / "sources.yaml", "reviewed_by: Dr A. Petrova", 'reviewed_at: "2026-11-20"')
    assert review_problems(mini_copy) == []


def test_a_review_date_in_the_future_is_an_error(mini_copy: Path) -> None:
    head(mini_copy / "sources.yaml", "reviewed_by: Dr A. Petrova", "reviewed_at: 2026-11-22")
    content, problems = read_content(mini_copy, today=TODAY)
    assert content is None
    assert [str(p) for p in problems if p.severity == "error"] == [
        "mini/sources.yaml:2: reviewed_at: 2026-11-22 is in the future (today is 2026-11-21): "
        "write the day the review was done"
    ]


@pytest.mark.parametrize(
    ("line", "given", "missing"),
    [
        ("reviewed_by: Dr A. Petrova", "reviewed_by", "reviewed_at"),
        ("reviewed_at: 2026-11-20", "reviewed_at", "reviewed_by"),
    ],
)
def test_one_review_field_without_the_other_is_an_error(
    mini_copy: Path, line: str, given: str, missing: str
) -> None:
    head(mini_copy / "sources.yaml", "# The sources.", line)
    content, problems = read_content(mini_copy, today=TODAY)
    assert content is None
    assert [str(p) for p in problems if p.severity == "error"] == [
        f"mini/sources.yaml:2: {given}: {given} is given without {missing}: a review records both who "
        "and when (`vertebrobot content review FILE --by NAME` writes both)"
    ]


@pytest.mark.parametrize("value", ["2026-11-20 10:00:00", "20261120", "2026-02-30", '""'])
def test_a_review_date_must_be_a_plain_date(mini_copy: Path, value: str) -> None:
    head(mini_copy / "sources.yaml", "reviewed_by: Dr A. Petrova", f"reviewed_at: {value}")
    content, problems = read_content(mini_copy, today=TODAY)
    assert content is None
    (error,) = [str(p) for p in problems if p.severity == "error"]
    assert error.startswith("mini/sources.yaml:2: ")
    assert "YYYY-MM-DD" in error


def test_every_kind_of_content_file_records_its_review() -> None:
    for name, model in SCHEMAS.items():
        assert issubclass(model, Reviewed), f"{name} files cannot record their review"
        properties = model.model_json_schema()["properties"]
        assert "clinician" in properties["reviewed_by"]["description"]
        assert "YYYY-MM-DD" in properties["reviewed_at"]["description"]


def test_the_shipped_content_is_reviewed_and_says_by_whom() -> None:
    _, problems = read_content(CONTENT_DIR, today=TODAY)
    assert [str(p) for p in problems if is_review_warning(p.message)] == []
    for path in content_files(CONTENT_DIR):
        text = path.read_text(encoding="utf-8")
        assert f'reviewed_by: "{SHIPPED_REVIEW}"\n' in text, path
        stamped = re.search(r"^reviewed_at: (\d{4}-\d{2}-\d{2})$", text, re.MULTILINE)
        assert stamped, path
        assert dt.date.fromisoformat(stamped.group(1)) <= TODAY, path


# --- `vertebrobot content review` --------------------------------------------------------------


def test_review_command_stamps_a_file_and_keeps_everything_else(
    content_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = content_copy / "rules" / "candidacy.yaml"
    original = (CONTENT_DIR / "rules" / "candidacy.yaml").read_text(encoding="utf-8")
    unreviewed = "".join(line for line in original.splitlines(keepends=True) if "reviewed_" not in line)
    path.write_text(unreviewed, encoding="utf-8")
    assert "content/rules/candidacy.yaml:1: " + NOT_REVIEWED in [
        str(p) for p in read_content(content_copy, TODAY)[1]
    ]

    by = "Dr A. Petrova, interventional radiologist"
    args = ["content", "review", str(path), "--by", by, "--date", "2026-11-20", "--dir", str(content_copy)]
    assert main(args) == 0
    assert f"{path}: reviewed by {by} on 2026-11-20" in capsys.readouterr().out
    stamped = path.read_text(encoding="utf-8").splitlines(keepends=True)
    comments = [line for line in unreviewed.splitlines(keepends=True) if line.startswith("#")]
    # The two keys go after the heading comments, before `version:`; every other line is unchanged.
    at = len(comments)
    assert stamped[at : at + 2] == [f'reviewed_by: "{by}"\n', "reviewed_at: 2026-11-20\n"]
    assert "".join(stamped[:at] + stamped[at + 2 :]) == unreviewed
    problems = read_content(content_copy, TODAY)[1]
    assert [
        p for p in problems if p.file.endswith("rules/candidacy.yaml") and is_review_warning(p.message)
    ] == []

    # Reviewed again: the two lines are updated where they are.
    again = ["content", "review", str(path), "--by", "Dr B", "--dir", str(content_copy)]
    assert main(again) == 0
    today = dt.datetime.now().astimezone().date()
    restamped = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert restamped[at : at + 2] == ['reviewed_by: "Dr B"\n', f"reviewed_at: {today}\n"]
    assert "".join(restamped[:at] + restamped[at + 2 :]) == unreviewed


def test_review_command_refuses_files_outside_the_content_or_not_content(
    content_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "about.yaml"
    shutil.copy(content_copy / "en" / "about.yaml", outside)
    stray = content_copy / "notes.yaml"
    stray.write_text("version: 1\n", encoding="utf-8")
    kept = content_copy / "en" / "about.yaml"
    before = kept.read_bytes()
    files = [str(kept), str(outside), str(stray)]
    assert main(["content", "review", *files, "--by", "Dr A", "--dir", str(content_copy)]) == 2
    err = capsys.readouterr().err
    assert f"error: {outside}: not inside the content folder {content_copy.resolve()}" in err
    assert f"error: {stray}: not a content file: `vertebrobot content check` does not read it" in err
    assert "no file was changed" in err
    assert kept.read_bytes() == before, "nothing is written when any file is refused"


@pytest.mark.parametrize(
    ("by", "date", "message"),
    [
        ("  ", None, "--by: give who reviewed the files on one line"),
        ("Dr A", "2026-13-01", "--date '2026-13-01': write the day of the review as YYYY-MM-DD"),
        ("Dr A", "2999-01-01", "--date 2999-01-01: that is in the future"),
    ],
)
def test_review_command_refuses_a_missing_name_or_a_bad_date(
    content_copy: Path, capsys: pytest.CaptureFixture[str], by: str, date: str | None, message: str
) -> None:
    path = content_copy / "sources.yaml"
    before = path.read_bytes()
    dated = [] if date is None else ["--date", date]
    assert main(["content", "review", str(path), "--by", by, *dated, "--dir", str(content_copy)]) == 2
    assert f"error: {message}" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_stamp_review_is_a_line_edit() -> None:
    day = dt.date(2026, 11, 20)
    crlf = "# heading\r\n\r\nversion: 1  # the format\r\nlocale: en\r\n"
    assert stamp_review(crlf, "Dr Ö", day) == (
        '# heading\r\n\r\nreviewed_by: "Dr Ö"\r\nreviewed_at: 2026-11-20\r\nversion: 1  # the format\r\n'
        "locale: en\r\n"
    )
    inside = "version: 1\nreviewed_at: 2025-01-01  # old\nreviewed_by: >-\n  Dr A\nlocale: en"
    assert stamp_review(inside, 'Dr "B"', day) == (
        'version: 1\nreviewed_by: "Dr \\"B\\""\nreviewed_at: 2026-11-20\nlocale: en'
    )


def test_stamping_a_translation_keeps_its_review(content_copy: Path) -> None:
    path = content_copy / "bg" / "translation.yaml"
    assert main(["content", "stamp", "bg", "--dir", str(content_copy)]) == 0
    text = path.read_text(encoding="utf-8")
    assert f'reviewed_by: "{SHIPPED_REVIEW}"\nreviewed_at: 2026-11-20\nversion: 1\n' in text


def test_content_check_lists_review_warnings_and_still_passes(
    mini_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["content", "check", str(mini_copy)]) == 0
    captured = capsys.readouterr()
    assert f"mini/sources.yaml:1: {NOT_REVIEWED}" in captured.err.splitlines()
    assert "content OK" in captured.out
    assert "warning(s)" in captured.out
