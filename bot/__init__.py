"""vertebrobot's adapters: Telegram, storage, reminders, the command line."""

import os

__version__ = "0.1.0"  # the one place it is written: pyproject.toml reads it; CHANGELOG.md says what changed

# python-telegram-bot 22 reports durations (RetryAfter.retry_after) as timedelta once this is
# set, and warns on every 429 otherwise; opt in before telegram is imported.
os.environ.setdefault("PTB_TIMEDELTA", "true")
