"""The clinic and appointment commands: what a coordinator types and reads, and the exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.entrypoints.cli import main
from flows.models import NO_ZONE
from tests.unit.bot.entrypoints.cli_run import FUTURE, LINK, YEAR, run

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
DEFAULT_SETTINGS = (
    "  address (not set); arrival 60 min before, travel 60 min; quiet hours 21:00-08:00, evening time 20:00; "
    "severe pain from 7, pain rise alert 2; blood thinners: the usual advice"
)


def add_sofia(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        *("clinic", "add", "sofia", "--name", "Sofia Spine", "--timezone", "Europe/Sofia"),
        *("--phone", "+359 2 000 0000", "--fasting-food-hours", "6", "--fasting-fluid-hours", "2"),
    )
    assert code == 0
    assert out == [
        "added sofia: Sofia Spine, Europe/Sofia, fasting food 6 h, clear fluids 2 h (the clinic's own rule), "
        "phone +359 2 000 0000, emergency 112, data kept 90 days",
        DEFAULT_SETTINGS,
    ]


pytestmark = pytest.mark.usefixtures("database")


def test_add_a_clinic_issue_a_token_and_register_an_appointment(capsys: pytest.CaptureFixture[str]) -> None:
    add_sofia(capsys)
    code, out, err = run(capsys, "clinic", "token", "sofia", "--label", "his")
    assert (code, err) == (0, [])
    assert out[0] == "API token for clinic sofia (label his):"
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", out[1])
    assert out[2] == "it is shown only this once: store it now; send it as `Authorization: Bearer <token>`"
    code, out, err = run(capsys, "appointment", "add", "--clinic", "sofia", "--at", FUTURE, "--ref", "A-17")
    assert (code, err) == (0, [])
    assert out[0] == f"procedure 1: {YEAR}-11-24 09:30 Europe/Sofia (ref A-17)"
    assert out[1].startswith("invite link (one patient, until ")
    assert LINK.search(out[1])
    assert len(out) == 2


def test_unset_numbers_take_the_shipped_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "clinic", "add", "izmir", "--name", "Izmir", "--timezone", "Europe/Istanbul")
    assert code == 0
    assert out == [
        "added izmir: Izmir, Europe/Istanbul, fasting food 6 h, clear fluids 4 h (the usual advice), "
        "phone (not set), emergency 112, data kept 90 days",
        DEFAULT_SETTINGS,
    ]
    code, out, _ = run(capsys, "clinic", "list")
    assert (code, len(out)) == (0, 2)
    assert out[0].startswith("izmir: Izmir, Europe/Istanbul")
    # Its hours become its own rule once it gives them, and stay so when other fields change.
    izmir = ("clinic", "add", "izmir", "--name", "Izmir", "--timezone", "Europe/Istanbul")
    run(capsys, *izmir, "--fasting-fluid-hours", "2")
    run(capsys, *izmir, "--phone", "+90 232 000 00 00")
    _, out, _ = run(capsys, "clinic", "list")
    assert "clear fluids 2 h (the clinic's own rule)" in out[0]


def test_clinic_add_sets_every_setting_a_clinic_file_can_and_list_shows_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys,
        *("clinic", "add", "izmir", "--name", "Izmir Spine", "--timezone", "Europe/Istanbul"),
        *("--address", "Alsancak, Izmir", "--arrival-minutes-before", "45", "--travel-minutes", "90"),
        *("--quiet-start", "22:30", "--quiet-end", "07:15", "--evening-time", "19:45"),
        *("--pain-severe-from", "8", "--pain-rise-alert", "3", "--blood-thinner-text", "Ask Dr. A."),
        *("--emergency-number", "911", "--own-fasting-times", "true", "--retention-days", "30"),
    )
    assert (code, err) == (0, [])
    listed = run(capsys, "clinic", "list")[1]
    assert out == [f"added {listed[0]}", listed[1]]
    assert listed == [
        "izmir: Izmir Spine, Europe/Istanbul, fasting food 6 h, clear fluids 4 h (the clinic's own rule), "
        "phone (not set), emergency 911, data kept 30 days",
        "  address Alsancak, Izmir; arrival 45 min before, travel 90 min; quiet hours 22:30-07:15, "
        "evening time 19:45; severe pain from 8, pain rise alert 3; blood thinners: its own text",
    ]
    # The same clinic from a file gives the same settings: `clinic add` misses none of them.
    clinic_file = tmp_path / "clinics.yaml"
    clinic_file.write_text(
        "clinics:\n  izmir:\n    name: Izmir Spine\n    timezone: Europe/Istanbul\n"
        "    address: Alsancak, Izmir\n    arrival_minutes_before: 45\n    travel_minutes: 90\n"
        '    quiet_start: "22:30"\n    quiet_end: "07:15"\n    evening_time: "19:45"\n'
        "    pain_severe_from: 8\n    pain_rise_alert: 3\n    blood_thinner_text: Ask Dr. A.\n"
        "    emergency_number: '911'\n    own_fasting_times: true\n    retention_days: 30\n",
        encoding="utf-8",
    )
    assert run(capsys, "clinic", "load", str(clinic_file))[1] == [f"saved {listed[0]}", listed[1]]
    code, out, err = run(
        capsys, "clinic", "add", "izmir", "--name", "I", "--timezone", "UTC", "--quiet-end", "7"
    )
    assert (code, out) == (1, [])
    assert err[0].startswith("error: --quiet-end: ")


def test_the_default_clinic_comes_from_its_file_not_from_clinic_add(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "clinic", "add", "default", "--name", "X", "--timezone", "Europe/Sofia")
    assert code != 0
    assert "is the default clinic: set it in content/clinic.yaml or the file named by" in err[0]


def test_a_clinic_without_a_time_zone_is_refused_with_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["clinic", "add", "izmir", "--name", "Izmir"])
    assert stopped.value.code == 2
    assert "the following arguments are required: --timezone" in capsys.readouterr().err
    assert not [line for line in run(capsys, "clinic", "list")[1] if "izmir" in line], "nothing was saved"


def test_list_reschedule_cancel_and_a_new_invite(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    add_sofia(capsys)
    assert run(capsys, "appointment", "add", "--clinic", "sofia", "--at", FUTURE)[0] == 0
    second = f"{YEAR}-11-25T00:30"
    assert run(capsys, "appointment", "add", "--clinic", "sofia", "--at", second, "--ref", "B2")[0] == 0
    assert run(capsys, "appointment", "list", "--clinic", "sofia") == (
        0,
        [
            f"1: {YEAR}-11-24 09:30 Europe/Sofia, scheduled, invite not opened, ref -",
            f"2: {YEAR}-11-25 00:30 Europe/Sofia, scheduled, invite not opened, ref B2",
        ],
        [],
    )
    moved = f"{YEAR}-11-25T10:00"
    assert run(capsys, "appointment", "reschedule", "--clinic", "sofia", "1", "--at", moved) == (
        0,
        [f"procedure 1 moved to {YEAR}-11-25 10:00 Europe/Sofia"],
        [],
    )
    code, out, _ = run(capsys, "appointment", "list", "--clinic", "sofia", "--date", f"{YEAR}-11-25")
    assert (code, [line.split(":")[0] for line in out]) == (0, ["2", "1"])
    qr = tmp_path / "invite.png"
    code, out, _ = run(capsys, "appointment", "invite", "--clinic", "sofia", "1", "--qr", str(qr))
    assert code == 0
    assert LINK.search(out[0])
    assert out[1] == f"QR code of the link written to {qr}"
    assert qr.read_bytes().startswith(b"\x89PNG")
    assert run(capsys, "appointment", "cancel", "--clinic", "sofia", "2") == (
        0,
        ["procedure 2 cancelled: its reminders stopped"],
        [],
    )
    assert run(capsys, "appointment", "cancel", "--clinic", "sofia", "2") == (
        1,
        [],
        ["error: procedure 2 is already cancelled"],
    )
    assert run(capsys, "appointment", "list", "--clinic", "sofia", "--date", f"{YEAR}-11-26") == (
        0,
        [f"no procedures on {YEAR}-11-26 for clinic sofia"],
        [],
    )


@pytest.mark.parametrize(
    "args",
    [
        ("clinic", "token", "nowhere"),
        ("appointment", "add", "--clinic", "nowhere", "--at", FUTURE),
        ("appointment", "list", "--clinic", "nowhere"),
        ("appointment", "cancel", "--clinic", "nowhere", "1"),
        ("appointment", "reschedule", "--clinic", "nowhere", "1", "--at", FUTURE),
    ],
    ids=["token", "add", "list", "cancel", "reschedule"],
)
def test_an_unknown_clinic_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    assert run(capsys, *args) == (1, [], ["error: no clinic 'nowhere'; `vertebrobot clinic list` shows them"])


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("tomorrow 9am", "cannot read the time 'tomorrow 9am'"),
        ("2099-02-30T09:00", "cannot read the time '2099-02-30T09:00'"),
        (f"{YEAR}-11-24", f"the time '{YEAR}-11-24' has a date but no time of day"),
        ("2001-11-24T09:30", "the procedure's start is in the past; give a future time"),
    ],
    ids=["words", "no-such-day", "date-only", "past"],
)
def test_a_bad_time_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str], at: str, message: str) -> None:
    add_sofia(capsys)
    code, out, err = run(capsys, "appointment", "add", "--clinic", "sofia", "--at", at)
    assert (code, out, len(err)) == (1, [], 1)
    assert err[0].startswith(f"error: {message}")
    assert run(capsys, "appointment", "list", "--clinic", "sofia")[1] == ["no procedures for clinic sofia"]


def test_an_unknown_procedure_or_zone_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    add_sofia(capsys)
    assert run(capsys, "appointment", "cancel", "--clinic", "sofia", "7") == (
        1,
        [],
        ["error: no procedure 7"],
    )
    assert run(capsys, "clinic", "add", "mars", "--name", "Base", "--timezone", "Mars/Base") == (
        1,
        [],
        ["error: --timezone: unknown time zone 'Mars/Base'; use an IANA name such as Europe/Sofia"],
    )
    assert run(capsys, "clinic", "add", "Sofia Two", "--name", "x", "--timezone", "UTC") == (
        1,
        [],
        ["error: slug 'Sofia Two': use up to 40 lowercase letters, digits, - and _"],
    )


def test_clinics_load_from_yaml_and_errors_name_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good = tmp_path / "clinics.yaml"
    good.write_text(
        "clinics:\n  sofia:\n    name: Sofia Spine\n    timezone: Europe/Sofia\n    fasting_food_hours: 6\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "clinic", "load", str(good))
    assert code == 0
    assert out == [
        "saved sofia: Sofia Spine, Europe/Sofia, fasting food 6 h, clear fluids 4 h (the clinic's own rule), "
        "phone (not set), emergency 112, data kept 90 days",
        DEFAULT_SETTINGS,
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "clinics:\n  izmir:\n    name: Izmir\n    fasting_fluid_hours: 0\n    timezone: Europe/Istanbul\n"
        "  ankara:\n    name: Ankara\n",
        encoding="utf-8",
    )
    assert run(capsys, "clinic", "load", str(bad)) == (
        1,
        [],
        [
            f"{bad}:4: izmir.fasting_fluid_hours: Input should be greater than 0",
            f"{bad}:6: ankara: {NO_ZONE}",
        ],
    )
    assert run(capsys, "clinic", "load", str(tmp_path / "missing.yaml")) == (
        1,
        [],
        [f"{tmp_path / 'missing.yaml'}:1: cannot read the file: No such file or directory"],
    )
    assert [line.split(":")[0] for line in run(capsys, "clinic", "list")[1][::2]] == ["sofia"]


def test_a_token_differs_each_time_and_is_not_stored(
    capsys: pytest.CaptureFixture[str], database: Path
) -> None:
    add_sofia(capsys)
    first = run(capsys, "clinic", "token", "sofia")[1][1]
    second = run(capsys, "clinic", "token", "sofia")[1][1]
    assert first != second
    stored = b"".join(path.read_bytes() for path in database.parent.glob(f"{database.name}*"))
    assert b"sofia" in stored
    assert first.encode() not in stored
    assert second.encode() not in stored


def test_appointment_import_prints_the_report_and_fails_on_bad_rows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert (
        run(capsys, "clinic", "add", "sofia", "--name", "Sofia Spine", "--timezone", "Europe/Sofia")[0] == 0
    )
    good = tmp_path / "good.csv"
    good.write_text(f"start,reference\n{YEAR}-11-24T09:30,IMP-1\n", encoding="utf-8")
    code, out, err = run(capsys, "appointment", "import", "--clinic", "sofia", str(good))
    assert code == 0
    assert out[0].startswith("1 created")
    assert out[1].startswith("#1 (ref IMP-1) invite: https://t.me/")
    assert err == []
    bad = tmp_path / "bad.csv"
    bad.write_text(f"start,reference\n{YEAR}-11-25T09:30,IMP-2\nsoon,IMP-3\n", encoding="utf-8")
    code, out, err = run(capsys, "appointment", "import", "--clinic", "sofia", str(bad))
    assert code == 1, "a file with bad rows fails, after importing the good ones"
    assert out[0].startswith("1 created")
    assert err == [
        f"{bad}: line 3: cannot read the time 'soon'; write it as 2026-11-24T09:30 (local) "
        "or with an offset, 2026-11-24T09:30+02:00"
    ]


def test_a_fhir_import_reads_the_version_it_is_told_and_names_invites_by_reference(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "clinic", "add", "sofia", "--name", "Sofia", "--timezone", "Europe/Sofia")[0] == 0
    export = json.loads((FIXTURES / "fhir" / "appointments-r5.json").read_text(encoding="utf-8"))
    appointment = export["entry"][0]["resource"]
    appointment |= {"start": f"{YEAR}-11-24T09:00:00+02:00", "end": f"{YEAR}-11-24T10:00:00+02:00"}
    bundle = tmp_path / "export.json"
    bundle.write_text(json.dumps({**export, "entry": export["entry"][:1]}), encoding="utf-8")

    code, out, err = run(
        capsys, "appointment", "import", "--clinic", "sofia", str(bundle), "--fhir-version", "R4"
    )
    assert (code, out[0]) == (1, "0 created, 0 rescheduled, 0 cancelled, 0 unchanged; 1 problem (entry 1)")
    assert err[0].startswith(f"{bundle}: entry 1: not a valid R4 Appointment: participant[0].required: ")
    code, out, err = run(capsys, "appointment", "import", "--clinic", "sofia", str(bundle))
    assert (code, err) == (0, [])
    assert out[1].startswith("#1 (ref VP-2026-0412) invite: https://t.me/")


def test_staff_code_is_printed_once_for_a_known_clinic(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(capsys, "clinic", "add", "sofia", "--name", "Sofia Spine", "--timezone", "Europe/Sofia")[0] == 0
    )
    code, out, _ = run(capsys, "staff", "code", "--clinic", "sofia")
    assert code == 0
    assert out[0].startswith("staff code for sofia: ")
    assert "send /staff " in out[0]
    assert run(capsys, "staff", "code", "--clinic", "nowhere")[0] == 1
