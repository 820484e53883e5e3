"""Test helpers for running the bot against a fake Telegram Bot API."""
