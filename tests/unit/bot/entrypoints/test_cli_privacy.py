"""The operator's commands about patients' data: retention, purge, delete, revoke, remove staff, stats."""

from __future__ import annotations

import pytest

from tests.unit.bot.entrypoints.cli_run import FUTURE, run

pytestmark = pytest.mark.usefixtures("database")


def add_sofia(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[str], list[str]]:
    return run(
        capsys, "clinic", "add", "sofia", "--name", "Sofia Spine", "--timezone", "Europe/Sofia", *extra
    )


def test_a_clinic_sets_how_long_patient_data_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = add_sofia(capsys, "--retention-days", "30")
    assert code == 0
    assert out[0].endswith("emergency 112, data kept 30 days")
    code, _, err = add_sofia(capsys, "--retention-days", "0")
    assert code == 1
    assert err == ["error: --retention-days: Input should be greater than or equal to 1"]
    code, _, err = add_sofia(capsys, "--retention-days", "3651")
    assert err == ["error: --retention-days: Input should be less than or equal to 3650"]


def test_purge_with_nothing_past_retention_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    add_sofia(capsys)
    run(capsys, "appointment", "add", "--clinic", "sofia", "--at", FUTURE)
    code, out, err = run(capsys, "purge")
    assert (code, out, err) == (0, ["nothing to purge: no procedure is past its clinic's retention"], [])


def test_revoked_tokens_and_deleted_procedures_are_reported(capsys: pytest.CaptureFixture[str]) -> None:
    add_sofia(capsys)
    run(capsys, "clinic", "token", "sofia")
    run(capsys, "clinic", "token", "sofia", "--label", "his")
    code, out, _ = run(capsys, "clinic", "token", "revoke", "sofia", "--label", "his")
    assert (code, out) == (
        0,
        ["1 API token(s) labelled his of clinic sofia revoked: calls with them now get 401"],
    )
    code, out, _ = run(capsys, "clinic", "token", "revoke", "sofia")
    assert out == ["1 API token(s) of clinic sofia revoked: calls with them now get 401"]
    code, _, err = run(capsys, "clinic", "token", "sofia", "extra")
    assert (code, err) == (
        1,
        ["error: write `clinic token SLUG` to issue a token, `clinic token revoke SLUG` to revoke"],
    )

    run(capsys, "appointment", "add", "--clinic", "sofia", "--at", FUTURE, "--ref", "A-17")
    code, out, _ = run(capsys, "clinic", "stats", "sofia")
    assert out == [
        "sofia: 1 procedures (1 scheduled, 0 cancelled; 0 with their patient data purged), "
        "0 warning signs reported"
    ]
    code, out, _ = run(capsys, "procedure", "delete", "--clinic", "sofia", "1")
    assert (code, out) == (
        0,
        ["procedure 1 deleted: 1 procedures, 0 reminders, 0 checkins, 0 warning signs, 0 patients removed"],
    )
    code, _, err = run(capsys, "appointment", "delete", "--clinic", "sofia", "1")
    assert (code, err) == (1, ["error: no procedure 1"])
    code, out, _ = run(capsys, "appointment", "list", "--clinic", "sofia")
    assert out == ["no procedures for clinic sofia"]


def test_removing_someone_who_is_not_staff_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    add_sofia(capsys)
    code, out, err = run(capsys, "staff", "remove", "sofia", "123")
    assert (code, out, err) == (1, [], ["error: user 123 is not staff of clinic sofia"])
    code, _, err = run(capsys, "staff", "remove", "nowhere", "123")
    assert err == ["error: no clinic 'nowhere'; `vertebrobot clinic list` shows them"]
