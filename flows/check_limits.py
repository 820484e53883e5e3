"""The content check's second half: what Telegram's limits allow (message length, callback
data, label width), the regular expressions compile, and the reminder plan's messages and
placeholders fit where they are shown. Findings are collected as file:line problems."""

from __future__ import annotations

import re

from flows.callbacks import MAX_BYTES
from flows.callbacks import step_data as callback_data
from flows.content import Content, Located, Problem
from flows.models import Rule
from flows.planning import REMINDER_PARAMS
from flows.render import Renderer, clinic_params, telegram_length
from flows.replies import Button, Line, Reply
from flows.texts import DATED_SERVICE_TEXTS, REMINDER_TITLE_PREFIX

MAX_MESSAGE = 4096  # Telegram's limit on a message's text
MAX_CALLBACK_BYTES = MAX_BYTES  # Telegram's limit on a button's callback data
MAX_LABEL = 40  # longer labels are cut off on a phone held upright
MARK_ALLOWANCE = 2  # a tick and a space before checklist labels


class Findings:
    """Problems found so far, each at a file and line."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def error(self, at: Located, message: str) -> None:
        self.items.append(Problem(at.file, at.line, message))

    def warn(self, at: Located, message: str) -> None:
        self.items.append(Problem(at.file, at.line, message, "warning"))


def check_sizes(content: Content, found: Findings) -> None:
    renderer = Renderer(content, clinic_params(content.clinic))
    all_rules: list[Rule] = list(content.rules.rules)
    for code, locale in content.locales.items():
        for name, spec in content.flows.items():
            file = content.flow_files[name]
            for state_id, state in spec.states.items():
                at = content.where(file, "states", state_id)
                lines = [Line(t) for t in state.say]
                lines += [Line(item.text, "x") for item in state.checklist or ()]
                if state.show == "candidacy_result":
                    worst = _longest_possible_result(all_rules, renderer, code)
                    lines += [Line("cand.result.urgent"), Line("cand.result.fits"), Line("cand.result.check")]
                    lines += [Line(r.text, "x") for r in worst]
                    asks = dict.fromkeys(r.ask for r in worst if r.ask)
                    lines += [Line("cand.result.ask")] + [Line(ask, "x") for ask in asks]
                    lines += [Line("cand.result.service")]
                count = len(state.checklist or ()) + len(state.buttons)
                buttons = tuple(Button("", callback_data(name, state_id, i)) for i in range(count))
                message = renderer.render(Reply(tuple(lines), buttons), code)
                if (length := telegram_length(message.text)) > MAX_MESSAGE:
                    found.error(
                        at,
                        f"state {state_id!r} in {code!r} can reach {length} characters; "
                        f"Telegram allows {MAX_MESSAGE}",
                    )
                for button in buttons:
                    if len(button.data.encode()) > MAX_CALLBACK_BYTES:
                        found.error(at, f"callback data of {state_id!r} is over {MAX_CALLBACK_BYTES} bytes")
        for label_id, label in locale.labels.items():
            if len(label) + MARK_ALLOWANCE > MAX_LABEL:
                found.error(
                    locale.where[label_id],
                    f"label {label_id!r} is {len(label)} characters; keep it under "
                    f"{MAX_LABEL - MARK_ALLOWANCE} so it fits a phone screen",
                )


def _longest_possible_result(rules: list[Rule], renderer: Renderer, code: str) -> list[Rule]:
    """Rules that could show together in the longest result: an upper bound, not every rule at once.

    A patient gives one answer per question. Each rule is filed under its first condition's
    question; for each question the answer whose rules are longest is taken. Rules with more
    conditions are counted as if those always held, so this never underestimates.
    """
    by_key: dict[str, list[Rule]] = {}
    for rule in rules:
        by_key.setdefault(next(iter(rule.when)), []).append(rule)

    def size(rule: Rule) -> int:
        return (
            telegram_length(renderer.text(rule.text, code))
            + (telegram_length(renderer.text(rule.ask, code)) if rule.ask else 0)
            + 4
        )

    chosen: list[Rule] = []
    for key, grouped in by_key.items():
        values = {
            v for r in grouped for v in (r.when[key] if isinstance(r.when[key], list) else [r.when[key]])
        }
        best = max(
            (
                [
                    r
                    for r in grouped
                    if value in (r.when[key] if isinstance(r.when[key], list) else [r.when[key]])
                ]
                for value in values
            ),
            key=lambda group: sum(size(r) for r in group),
        )
        chosen.extend(best)
    return chosen


PATTERN_LISTS = (
    "doubt_before",
    "doubt_after",
    "deny_to_end",
    "vague",
    "resolved",
    "general",
    "clause_breaks",
    "negated",
    "harmless",
    "usual",
    "firsthand",
)


def check_patterns(content: Content, found: Findings) -> None:
    for locale in content.locales.values():
        lists: list[tuple[str, tuple[str | int, ...], list[str]]] = []
        if locale.signs:
            signs_file = locale.signs_file or ""
            lists += [
                (signs_file, ("signs", index, "patterns"), sign.patterns)
                for index, sign in enumerate(locale.signs.signs)
            ]
            lists += [(signs_file, (key,), getattr(locale.signs, key)) for key in PATTERN_LISTS]
            net = locale.signs.net
            for sign_id in net.body if net else ():
                if locale.signs.signs and sign_id not in {s.id for s in locale.signs.signs}:
                    found.error(
                        content.where(signs_file, "net", "body", sign_id), f"no warning sign {sign_id!r}"
                    )
            for sign_id in locale.signs.before_procedure:
                if sign_id not in {s.id for s in locale.signs.signs}:
                    found.error(content.where(signs_file, "before_procedure"), f"no warning sign {sign_id!r}")
        if locale.faq:
            lists += [(locale.faq_file or "", ("chat", text_id), p) for text_id, p in locale.faq.chat.items()]
        for file, path, patterns in lists:
            for p_index, pattern in enumerate(patterns):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    at = content.where(file, *path, p_index)
                    found.error(at, f"pattern {pattern!r} is not a valid regular expression: {exc}")


# --- Reminder plan -------------------------------------------------------------------------


def plan_messages(content: Content) -> dict[str, Located]:
    """Text ids the reminder plan sends, with where."""
    ids: dict[str, Located] = {}
    for part, index, spec in content.plan.entries():
        ids.setdefault(spec.message, content.where(content.plan_file, part, index, "message"))
        if spec.message_if_same_cutoff:
            at = content.where(content.plan_file, part, index, "message_if_same_cutoff")
            ids.setdefault(spec.message_if_same_cutoff, at)
    return ids


def reminder_only(content: Content, shown: dict[str, Located]) -> set[str]:
    """Reminder messages that nothing else shows: only these get the reminder placeholders filled."""
    signs = {s.text for loc in content.locales.values() for s in (loc.signs.signs if loc.signs else ())}
    return plan_messages(content).keys() - shown.keys() - signs


def dated_texts(content: Content) -> set[str]:
    """Texts of flows where the patient sets their procedure: its date and times are known there."""
    return {
        text_id
        for spec in content.flows.values()
        if any(state.input == "procedure_time" for state in spec.states.values())
        for state in spec.states.values()
        for text_id in state.say
    } | set(DATED_SERVICE_TEXTS)


def placeholder_problem(name: str, text_id: str, known: set[str], reminder_texts: set[str]) -> str | None:
    if name in known or (name in REMINDER_PARAMS and text_id in reminder_texts):
        return None
    if name == "about_time" and text_id.startswith(REMINDER_TITLE_PREFIX):
        return None  # a reminder's name in the patient's list says the time it is about
    if name in REMINDER_PARAMS:
        return f"text {text_id!r} uses {{{name}}}, which is filled only in reminders and the procedure flow"
    return f"text {text_id!r} uses unknown placeholder {{{name}}}"


def check_plan(content: Content, found: Findings) -> None:
    """Reminder ids are unique, and each message is a sourced text (a missing one is found above)."""
    seen: dict[str, Located] = {}
    for part, index, spec in content.plan.entries():
        at = content.where(content.plan_file, part, index, "id")
        if spec.id in seen:
            first = seen[spec.id]
            found.error(at, f"reminder id {spec.id!r} is already used at {first.file}:{first.line}")
        seen.setdefault(spec.id, at)
    for text_id, at in plan_messages(content).items():
        for code, locale in content.locales.items():
            if text_id in locale.texts and text_id not in locale.sources:
                found.error(
                    at, f"reminder message {text_id!r} in locale {code!r} must be under `texts:` with sources"
                )
