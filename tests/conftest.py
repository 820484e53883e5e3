"""Shared fixtures: the shipped content, a small purpose-built content, and copies to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flows.check import load_content
from flows.content import Content

ROOT = Path(__file__).resolve().parent.parent
CONTENT_DIR = ROOT / "content"
MINI_DIR = Path(__file__).resolve().parent / "fixtures" / "mini"


@pytest.fixture(scope="session")
def content() -> Content:
    """The content the bot ships with."""
    return load_content(CONTENT_DIR)


@pytest.fixture(scope="session")
def mini() -> Content:
    """A small content folder that exercises every engine feature."""
    return load_content(MINI_DIR)


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped content, for tests that break it."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target
