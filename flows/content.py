"""Loading the content folder and checking it: schema first, then cross-references."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from flows.models import (
    MENU_FLOW,
    PLACEHOLDER,
    ClinicDefaults,
    ClinicSettings,
    FlowSpec,
    Reviewed,
    RuleBook,
    SourceList,
    TextTable,
    TranslationRecord,
)
from flows.planning import EMPTY_PLAN, PLAN_FILE, ReminderPlan
from flows.reading_models import FaqPhrasings, FaqTopics, WarningExamples, WarningSigns
from flows.yamlio import YamlSyntaxError, line_at, load_yaml

BASE_LOCALE = "en"
WARNING_SIGNS_FILE = "warning_signs.yaml"
WARNING_EXAMPLES_FILE = "warning_examples.yaml"  # what the warning-sign model learns from
TRANSLATION_FILE = "translation.yaml"
FAQ_FILE = "faq.yaml"  # content/faq.yaml: the topics; <locale>/faq.yaml: their phrasings
REVIEW_MAX_AGE = dt.timedelta(days=365)
NOT_REVIEWED = (
    "not reviewed: add reviewed_by and reviewed_at once a clinician has checked this file against the sources"
)
REVIEW_OUTDATED = "last reviewed on {day}, over a year ago: review it again"

Severity = Literal["error", "warning"]
M = TypeVar("M", bound=BaseModel)  # a content file; the ones patients read record their review


@dataclass(frozen=True, order=True)
class Problem:
    """One finding of the check, printed as `file:line: what is wrong`."""

    file: str
    line: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {prefix}{self.message}"


class ContentError(Exception):
    """The content has errors; `problems` lists every one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Located:
    """Where a piece of content was written."""

    file: str
    line: int


@dataclass
class Locale:
    """All texts, labels and warning signs of one language."""

    code: str
    labels: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    where: dict[str, Located] = field(default_factory=dict)
    signs: WarningSigns | None = None
    signs_file: str | None = None
    examples: WarningExamples | None = None
    made_from: dict[str, str] = field(default_factory=dict)  # translations: id -> English text hash
    made_from_file: str | None = None
    faq: FaqPhrasings | None = None  # example phrasings of the typed-question topics
    faq_file: str | None = None


@dataclass
class Content:
    """Everything under content/, validated."""

    root: Path
    flows: dict[str, FlowSpec]
    locales: dict[str, Locale]
    rules: RuleBook
    clinic: ClinicSettings
    flow_files: dict[str, str]
    rules_file: str
    trees: dict[str, Any]
    plan: ReminderPlan = EMPTY_PLAN
    plan_file: str = f"content/{PLAN_FILE}"
    faq: FaqTopics | None = None  # no content/faq.yaml: typed questions get no answers
    faq_file: str = f"content/{FAQ_FILE}"

    def where(self, file: str, *path: str | int) -> Located:
        """The file and line of a node, for messages about it."""
        return Located(file, line_at(self.trees.get(file), tuple(path)))


def default_content_dir() -> Path:
    """The content folder: $VERTEBROBOT_CONTENT_DIR, a `content/` in the working directory, the
    checkout's, or the installed copy (`pip install .` copies it: edits to the checkout would not
    reach it, so an author's folder always comes first)."""
    configured = os.environ.get("VERTEBROBOT_CONTENT_DIR")
    if configured:
        return Path(configured).resolve()
    for folder in (Path.cwd() / "content", Path(__file__).resolve().parent.parent / "content"):
        if (folder / "sources.yaml").is_file():
            return folder.resolve()
    spec = find_spec("vertebrobot_content")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("vertebrobot content is not installed; reinstall the package")
    return Path(next(iter(spec.submodule_search_locations)))


class _Reader:
    """Reads files into models and collects problems instead of stopping at the first."""

    def __init__(self, root: Path, today: dt.date | None = None) -> None:
        self.root = root
        self.today = today or dt.datetime.now().astimezone().date()
        self.problems: list[Problem] = []
        self.trees: dict[str, Any] = {}
        self.paths: list[Path] = []  # every file read, for `content review` to know a content file

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def error(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def warn(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message, "warning"))

    def read(self, path: Path, model: type[M]) -> M | None:
        name = self.rel(path)
        if issubclass(model, Reviewed):  # the files a review covers
            self.paths.append(path)
        if not path.is_file():
            self.error(name, 1, "file is missing")
            return None
        try:
            tree = load_yaml(path)
        except YamlSyntaxError as exc:
            self.error(name, exc.line, exc.message)
            return None
        self.trees[name] = tree
        if not isinstance(tree, dict):
            self.error(name, 1, "expected a mapping with `version:` at the top")
            return None
        try:
            parsed = model.model_validate(tree, context={"today": self.today})
        except ValidationError as exc:
            for err in exc.errors():
                # A whole-file rule may name the top-level key it is about (ctx "at").
                at = err.get("ctx", {}).get("at")
                loc = tuple(err["loc"]) or ((at,) if at else ())
                where = ".".join(str(p) for p in loc) or "(top)"
                self.error(name, line_at(tree, loc), f"{where}: {_plain(err)}")
            return None
        if isinstance(parsed, Reviewed):  # what patients read is reviewed; examples are not read by them
            self.check_review(name, tree, parsed)
        return parsed

    def check_review(self, name: str, tree: Any, parsed: Reviewed) -> None:
        """Warn about a file nobody has reviewed, or not for over a year (at the top of the file)."""
        if parsed.reviewed_at is None:
            self.warn(name, 1, NOT_REVIEWED)
        elif self.today - parsed.reviewed_at > REVIEW_MAX_AGE:
            day = parsed.reviewed_at.isoformat()
            self.warn(name, line_at(tree, ("reviewed_at",)), REVIEW_OUTDATED.format(day=day))


def _plain(err: Mapping[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field (check the spelling)"
    if err["type"] == "missing":
        return "required field is missing"
    return str(err["msg"])


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.is_file())


def _locale_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"[a-z]{2}", p.name))


def parse_content(
    root: Path, today: dt.date | None = None
) -> tuple[Content | None, SourceList | None, list[Problem]]:
    """The schema pass: every file read into its model; content is None on any error.

    `today` (default: the real date) is what review dates are measured against.
    """
    return _parse(_Reader(root, today))


def content_files(root: Path) -> list[Path]:
    """Every file the check reads as content a review covers (those that exist), in reading order:
    all but the example messages the warning-sign model learns from, which patients never read."""
    reader = _Reader(root)
    _parse(reader)
    return [path for path in dict.fromkeys(reader.paths) if path.is_file()]


def _parse(reader: _Reader) -> tuple[Content | None, SourceList | None, list[Problem]]:
    root = reader.root
    sources = reader.read(root / "sources.yaml", SourceList)
    clinic = reader.read(root / "clinic.yaml", ClinicDefaults)
    rules = reader.read(root / "rules" / "candidacy.yaml", RuleBook)
    flows: dict[str, FlowSpec] = {}
    flow_files: dict[str, str] = {}
    for path in _yaml_files(root / "flows"):
        spec = reader.read(path, FlowSpec)
        if spec is None:
            continue
        name = reader.rel(path)
        if spec.flow != path.stem:
            reader.error(
                name,
                line_at(reader.trees[name], ("flow",)),
                f"flow is named {spec.flow!r} but the file is {path.name}; make them match",
            )
            continue
        flows[spec.flow] = spec
        flow_files[spec.flow] = name
    locales: dict[str, Locale] = {}
    for folder in _locale_dirs(root):
        locales[folder.name] = _read_locale(reader, folder)
    if BASE_LOCALE not in locales:
        reader.error(reader.rel(root), 1, f"the base locale folder {BASE_LOCALE}/ is missing")
    plan, plan_file = _read_plan(reader, root)
    faq_path = root / FAQ_FILE
    faq = reader.read(faq_path, FaqTopics) if faq_path.exists() else None
    failed = any(p.severity == "error" for p in reader.problems)
    if failed or not (sources and clinic and rules) or plan is None:
        return None, sources, sorted(reader.problems)
    rules_file = reader.rel(root / "rules" / "candidacy.yaml")
    content = Content(root, flows, locales, rules, clinic.clinic, flow_files, rules_file, reader.trees)
    content.plan, content.plan_file = plan, plan_file
    content.faq, content.faq_file = faq, reader.rel(faq_path)
    return content, sources, reader.problems


def _read_locale(reader: _Reader, folder: Path) -> Locale:
    locale = Locale(folder.name)
    for path in _yaml_files(folder):
        name = reader.rel(path)
        if path.name == TRANSLATION_FILE:
            record = reader.read(path, TranslationRecord)
            if record is not None:
                locale.made_from, locale.made_from_file = dict(record.made_from), name
                _check_locale_field(reader, name, record.locale, folder.name)
            continue
        if path.name == WARNING_SIGNS_FILE:
            signs = reader.read(path, WarningSigns)
            if signs is not None:
                locale.signs, locale.signs_file = signs, name
                _check_locale_field(reader, name, signs.locale, folder.name)
            continue
        if path.name == WARNING_EXAMPLES_FILE:
            examples = reader.read(path, WarningExamples)
            if examples is not None:
                locale.examples = examples
                _check_locale_field(reader, name, examples.locale, folder.name)
            continue
        if path.name == FAQ_FILE:
            phrasings = reader.read(path, FaqPhrasings)
            if phrasings is not None:
                locale.faq, locale.faq_file = phrasings, name
                _check_locale_field(reader, name, phrasings.locale, folder.name)
            continue
        table = reader.read(path, TextTable)
        if table is None:
            continue
        _check_locale_field(reader, name, table.locale, folder.name)
        tree = reader.trees[name]
        plain = {
            **{k: ("labels", v) for k, v in table.labels.items()},
            **{k: ("ui", v) for k, v in table.ui.items()},
        }
        for text_id, (kind, words) in plain.items():
            if _claim(reader, locale, name, line_at(tree, (kind, text_id)), text_id):
                target = locale.labels if kind == "labels" else locale.texts
                target[text_id] = words.strip()
        for text_id, sourced in table.texts.items():
            if _claim(reader, locale, name, line_at(tree, ("texts", text_id)), text_id):
                locale.texts[text_id] = sourced.text.strip()
                locale.sources[text_id] = tuple(sourced.sources)
    return locale


def _claim(reader: _Reader, locale: Locale, name: str, line: int, text_id: str) -> bool:
    """Record where a text id is defined; False (and an error) if it already was."""
    first = locale.where.get(text_id)
    if first is not None:
        reader.error(name, line, f"text id {text_id!r} is already defined at {first.file}:{first.line}")
        return False
    locale.where[text_id] = Located(name, line)
    return True


def _check_locale_field(reader: _Reader, name: str, declared: str, folder: str) -> None:
    if declared != folder:
        reader.error(
            name,
            line_at(reader.trees[name], ("locale",)),
            f"locale is {declared!r} but the file is in {folder}/",
        )


# --- Reminder plan -------------------------------------------------------------------------


def _read_plan(reader: _Reader, root: Path) -> tuple[ReminderPlan | None, str]:
    """The reminder plan; a content folder without one plans no reminders."""
    path = root / PLAN_FILE
    if not path.exists():
        return EMPTY_PLAN, reader.rel(path)
    return reader.read(path, ReminderPlan), reader.rel(path)


def read_yaml_file(path: Path) -> Any:
    """A YAML file's tree; unreadable or invalid YAML becomes a ContentError naming file and line."""
    try:
        return load_yaml(path)
    except YamlSyntaxError as exc:
        raise ContentError([Problem(str(path), exc.line, exc.message)]) from exc
    except OSError as exc:
        raise ContentError([Problem(str(path), 1, f"cannot read the file: {exc.strerror}")]) from exc


def english_hash(text: str) -> str:
    """The short hash a translation records of the English text it was made from."""
    return hashlib.sha256(text.strip().encode()).hexdigest()[:10]


def placeholders(text: str) -> Iterable[str]:
    """The `{name}` placeholders a text uses."""
    return PLACEHOLDER.findall(text)


__all__ = [
    "BASE_LOCALE",
    "MENU_FLOW",
    "Content",
    "ContentError",
    "Locale",
    "Located",
    "Problem",
    "content_files",
    "default_content_dir",
    "parse_content",
    "placeholders",
]
