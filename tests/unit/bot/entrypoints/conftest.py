"""Fixtures the command-line tests share."""

from tests.unit.bot.entrypoints.cli_run import database

__all__ = ["database"]
