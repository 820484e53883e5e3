"""The README's configuration table and the settings the code reads are the same list."""

from __future__ import annotations

import re
from pathlib import Path

from bot.entrypoints.config import Settings

README = Path(__file__).parents[4] / "README.md"


def documented_variables() -> list[str]:
    """The variables named in the first column of the table under `## Configuration`."""
    section = README.read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    table = section.split("| variable |", 1)[1].split("\n\n", 1)[0]
    names: list[str] = []
    for row in table.splitlines()[2:]:
        names += re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])
    return names


def test_every_setting_is_in_the_readme_table_and_every_row_is_a_setting() -> None:
    settings = {field.alias for field in Settings.model_fields.values()}
    documented = documented_variables()
    assert len(documented) == len(set(documented)), "a variable has two rows"
    assert sorted(settings - set(documented)) == [], "settings the README does not document"
    assert sorted(set(documented) - settings) == [], "README rows no setting reads"


def test_the_service_environment_file_sets_only_settings_the_readme_documents() -> None:
    env_file = README.with_name("deploy") / "vertebrobot.env"
    named = re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", env_file.read_text(encoding="utf-8"), flags=re.MULTILINE)
    # FORWARDED_ALLOW_IPS is uvicorn's own; the README's clinic API section describes it.
    assert sorted(set(named) - set(documented_variables())) == ["FORWARDED_ALLOW_IPS"]
    assert {"TELEGRAM_BOT_TOKEN", "DATABASE_URL", "TELEGRAM_WEBHOOK_SECRET", "VERTEBROBOT_WEB_SECRET"} <= set(
        named
    )
