"""The content check: the schema pass, then every reference resolves and every state leads on."""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from pathlib import Path

from flows.content import (
    BASE_LOCALE,
    Content,
    ContentError,
    Locale,
    Located,
    Problem,
    default_content_dir,
    english_hash,
    parse_content,
    placeholders,
)
from flows.engine import callback_data
from flows.faq_check import check_faq, faq_ids
from flows.machines import iter_targets
from flows.models import DEFAULT_NO_ZONE, MENU_FLOW, ButtonSpec, FlowSpec, Rule, SourceList
from flows.planning import ACK_LABEL, REMINDER_PARAMS
from flows.render import LOCALE_PARAMS, Renderer, clinic_params
from flows.replies import Button, Line, Reply
from flows.texts import (
    CHECKIN_LABELS,
    CHECKIN_TEXTS,
    DATED_SERVICE_TEXTS,
    ENGINE_TEXTS,
    REMINDER_TITLE_PREFIX,
    SERVICE_LABELS,
    SERVICE_TEXTS,
    line_of,
)

MAX_MESSAGE = 4096  # Telegram's limit on a message's text
MAX_CALLBACK_BYTES = 64  # Telegram's limit on a button's callback data
MAX_LABEL = 40  # longer labels are cut off on a phone held upright
MARK_ALLOWANCE = 2  # a tick and a space before checklist labels


class _Findings:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def error(self, at: Located, message: str) -> None:
        self.items.append(Problem(at.file, at.line, message))

    def warn(self, at: Located, message: str) -> None:
        self.items.append(Problem(at.file, at.line, message, "warning"))


def read_content(root: Path, today: dt.date | None = None) -> tuple[Content | None, list[Problem]]:
    """Run both passes of the check; content is None when any error was found.

    `today` (default: the real date) is what review dates are measured against.
    """
    content, sources, problems = parse_content(root, today)
    if content is None or sources is None:
        return None, sorted(set(problems))
    problems = sorted(set(problems + cross_check(content, sources)))
    if any(p.severity == "error" for p in problems):
        return None, problems
    return content, problems


def load_content(root: Path | None = None) -> Content:
    """Load and check the content, raising ContentError listing every error."""
    content, problems = read_content(root or default_content_dir())
    if content is None:
        raise ContentError([p for p in problems if p.severity == "error"])
    return content


def cross_check(content: Content, sources: SourceList) -> list[Problem]:
    """Every cross-reference problem in otherwise well-formed content."""
    found = _Findings()
    _check_flows(content, found)
    _check_texts(content, sources, content.rules_file, found)
    _check_sizes(content, found)
    _check_patterns(content, found)
    _check_plan(content, found)
    found.items.extend(check_faq(content))
    if not content.clinic.timezone:
        clinic_file = str(Path(content.rules_file).parent.parent / "clinic.yaml")
        found.warn(content.where(clinic_file, "clinic", "timezone"), f"the default clinic: {DEFAULT_NO_ZONE}")
    return found.items


def _check_flows(content: Content, found: _Findings) -> None:
    flows = content.flows
    if MENU_FLOW not in flows:
        found.error(Located("content/flows", 1), "there is no menu flow (flows/menu.yaml)")
        return
    for name, spec in flows.items():
        file = content.flow_files[name]
        if spec.start not in spec.states:
            found.error(content.where(file, "start"), f"start state {spec.start!r} is not one of the states")
            continue
        answer_keys = {s.answer for s in spec.states.values() if s.answer}
        for state_id, state in spec.states.items():
            for index, button in enumerate(state.buttons):
                at = content.where(file, "states", state_id, "buttons", index)
                _check_button(content, spec, button, answer_keys=answer_keys, at=at, found=found)
                if button.value is not None and not state.answer:
                    found.error(
                        at, f"button has a value but state {state_id!r} has no `answer:` key to store it"
                    )
            if (state.input is None) != (state.on_input is None):
                found.error(
                    content.where(file, "states", state_id),
                    f"state {state_id!r} needs both `input:` and `on_input:` (where a valid input leads)",
                )
            if state.on_input and not state.on_input.startswith("@") and state.on_input not in spec.states:
                found.error(
                    content.where(file, "states", state_id, "on_input"),
                    f"on_input leads to unknown state {state.on_input!r}",
                )
            if state.answer and all(b.value is None for b in state.buttons):
                found.error(
                    content.where(file, "states", state_id, "answer"),
                    f"state {state_id!r} stores an answer but none of its buttons has a `value:`",
                )
        _check_graph(content, spec, file, found)
    entered = {t[1:] for spec in flows.values() for _, t in iter_targets(spec) if t.startswith("@")}
    for name in flows:
        if name != MENU_FLOW and name not in entered:
            found.error(
                content.where(content.flow_files[name], "flow"),
                f"flow {name!r} is never offered: no button leads to @{name}",
            )


def _check_button(
    content: Content,
    spec: FlowSpec,
    button: ButtonSpec,
    *,
    answer_keys: set[str],
    at: Located,
    found: _Findings,
) -> None:
    to, branches = button.to, button.branches
    if (to is None) == (branches is None):
        found.error(at, "a button needs exactly one of `to:` or `branches:`")
        return
    targets = [to] if to else [b.to for b in branches or []]
    if branches:
        if branches[-1].when:
            found.error(at, "the last branch must have no `when:`, so the button always leads somewhere")
        for branch in branches:
            for key in branch.when:
                if key not in answer_keys:
                    found.error(at, f"branch condition uses {key!r}, which no state of this flow asks")
    for target in targets:
        if target.startswith("@"):
            if target[1:] not in content.flows:
                found.error(at, f"button leads to unknown flow {target!r}")
        elif target not in spec.states:
            found.error(at, f"button leads to unknown state {target!r}")


def _check_graph(content: Content, spec: FlowSpec, file: str, found: _Findings) -> None:
    edges: dict[str, set[str]] = {s: set() for s in spec.states}
    for source, target in iter_targets(spec):
        edges[source].add(target)
    reached = {spec.start}
    queue = deque([spec.start])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt in spec.states and nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    for state_id in spec.states:
        if state_id not in reached:
            found.error(
                content.where(file, "states", state_id),
                f"state {state_id!r} cannot be reached from the start state {spec.start!r}",
            )
    if spec.flow == MENU_FLOW:
        return
    # Every state must have a way out of the flow (back to the menu or on to another flow).
    leaves = {s for s, targets in edges.items() if any(t.startswith("@") for t in targets)}
    changed = True
    while changed:
        changed = False
        for state_id, targets in edges.items():
            if state_id not in leaves and targets & leaves:
                leaves.add(state_id)
                changed = True
    for state_id in spec.states:
        if state_id in reached and state_id not in leaves:
            found.error(
                content.where(file, "states", state_id),
                f"dead end: from state {state_id!r} no button leads back to the menu",
            )
    if not any(t == f"@{MENU_FLOW}" for _, t in iter_targets(spec)):
        found.error(content.where(file, "states"), f"flow {spec.flow!r} has no button back to @menu")


def _used_ids(content: Content) -> tuple[dict[str, Located], dict[str, Located]]:
    """Text ids and label ids that flows, rules and signs refer to, with where."""
    texts: dict[str, Located] = {}
    labels: dict[str, Located] = {}
    for name, spec in content.flows.items():
        file = content.flow_files[name]
        labels.setdefault(spec.title, content.where(file, "title"))
        for state_id, state in spec.states.items():
            for index, text_id in enumerate(state.say):
                texts.setdefault(text_id, content.where(file, "states", state_id, "say", index))
            for index, item in enumerate(state.checklist or ()):
                at = content.where(file, "states", state_id, "checklist", index)
                texts.setdefault(item.text, at)
                labels.setdefault(item.label, at)
            for index, button in enumerate(state.buttons):
                labels.setdefault(button.label, content.where(file, "states", state_id, "buttons", index))
    return texts, labels


def _rule_ids(content: Content, rules_file: str) -> dict[str, Located]:
    ids: dict[str, Located] = {}
    for index, rule in enumerate(content.rules.rules):
        ids.setdefault(rule.text, content.where(rules_file, "rules", index, "text"))
        if rule.ask:
            ids.setdefault(rule.ask, content.where(rules_file, "rules", index, "ask"))
    return ids


def _check_texts(content: Content, sources: SourceList, rules_file: str, found: _Findings) -> None:
    texts, labels = _used_ids(content)
    texts.update({k: v for k, v in _rule_ids(content, rules_file).items() if k not in texts})

    def listed(text_id: str) -> Located:
        return Located("flows/texts.py", line_of(text_id))

    for text_id in ENGINE_TEXTS:
        texts.setdefault(text_id, listed(text_id))
    reminder_texts = _reminder_only(content, texts) | _dated_texts(content)
    for text_id in SERVICE_TEXTS:
        texts.setdefault(text_id, listed(text_id))
    faq_texts, faq_labels = faq_ids(content)
    texts.update({k: v for k, v in faq_texts.items() if k not in texts})
    labels.update({k: v for k, v in faq_labels.items() if k not in labels})
    texts.update({k: v for k, v in _plan_messages(content).items() if k not in texts})
    if content.plan.reminders:
        labels.setdefault(ACK_LABEL, Located(content.plan_file, 1))
    if content.plan.checkin_keys:
        for text_id in CHECKIN_TEXTS:
            texts.setdefault(text_id, listed(text_id))
        for label_id in CHECKIN_LABELS:
            labels.setdefault(label_id, listed(label_id))
    labels.setdefault(f"{REMINDER_TITLE_PREFIX}notice", listed(REMINDER_TITLE_PREFIX))
    for label_id in SERVICE_LABELS:
        labels.setdefault(label_id, listed(label_id))
    for index, spec in enumerate(content.plan.reminders):
        labels.setdefault(
            f"{REMINDER_TITLE_PREFIX}{spec.id}", content.where(content.plan_file, "reminders", index)
        )
    _check_rule_keys(content, rules_file, found)
    known_params = set(clinic_params(content.clinic)) | set(LOCALE_PARAMS)
    base = content.locales.get(BASE_LOCALE)
    for code, locale in content.locales.items():
        for index, sign in enumerate(locale.signs.signs if locale.signs else ()):
            texts.setdefault(sign.text, Located(locale.signs_file or code, 1))
            labels.setdefault(sign.label, content.where(locale.signs_file or "", "signs", index, "label"))
        # In a translation, an id the English has is reported once, as a missing translation, below.
        english_ids = base.where.keys() if base is not None and locale is not base else set()
        for text_id, at in texts.items():
            if text_id not in locale.texts and text_id not in english_ids:
                kind = "a label" if text_id in locale.labels else "missing"
                found.error(
                    at, f"text id {text_id!r} is {kind} in locale {code!r} (add it under `texts:` or `ui:`)"
                )
        for label_id, at in labels.items():
            if label_id not in locale.labels and label_id not in english_ids:
                found.error(at, f"label id {label_id!r} is missing in locale {code!r}")
        if base is not None and locale is not base:
            _check_translation_complete(content, base, locale, found)
            _check_made_from(base, locale, found)
        for text_id, body in [*locale.texts.items(), *locale.labels.items()]:
            for name in placeholders(body):
                problem = _placeholder_problem(name, text_id, known_params, reminder_texts)
                if problem:
                    found.error(locale.where[text_id], problem)
        for text_id, cited in locale.sources.items():
            for source in cited:
                problem = _source_problem(source, sources)
                if problem:
                    found.error(locale.where[text_id], f"text {text_id!r}: {problem}")
        for text_id in locale.where.keys() - texts.keys() - labels.keys():
            found.warn(locale.where[text_id], f"text id {text_id!r} is not used by any flow")
    for code in content.locales:
        if content.locales[code].signs is None:
            found.error(Located(f"content/{code}", 1), f"locale {code!r} has no warning_signs.yaml")


def _check_translation_complete(content: Content, base: Locale, locale: Locale, found: _Findings) -> None:
    """Every English text and label has a translation; a missing one is named where it belongs."""
    for text_id in sorted(base.where.keys() - locale.where.keys()):
        english = base.where[text_id]
        counterpart = english.file.replace(f"/{BASE_LOCALE}/", f"/{locale.code}/", 1)
        section = "labels" if text_id in base.labels else ("texts" if text_id in base.sources else "ui")
        tree = content.trees.get(counterpart)
        at = content.where(counterpart, section) if tree is not None else Located(counterpart, 1)
        found.error(
            at,
            f"text id {text_id!r} is missing in locale {locale.code!r} "
            f"(under `{section}:`; the English is at {english.file}:{english.line})",
        )


def _check_made_from(base: Locale, locale: Locale, found: _Findings) -> None:
    """Warn about translations made from an English text that has changed since."""
    english = {**base.texts, **base.labels}
    for text_id, at in locale.where.items():
        if text_id not in english:
            continue
        recorded = locale.made_from.get(text_id)
        if recorded is None:
            found.warn(
                at,
                f"text {text_id!r} does not record which English text it was translated from "
                f"(run `vertebrobot content stamp {locale.code}` once it is checked)",
            )
        elif recorded != english_hash(english[text_id]):
            found.warn(
                at,
                f"text {text_id!r} was translated from an older English text; "
                f"check it against {base.where[text_id].file}:{base.where[text_id].line}, then stamp",
            )


def _check_rule_keys(content: Content, rules_file: str, found: _Findings) -> None:
    spec = content.flows.get("candidacy")
    if spec is None:
        return
    asked: dict[str, set[str]] = {}
    for state in spec.states.values():
        if state.answer:
            asked.setdefault(state.answer, set()).update(b.value for b in state.buttons if b.value)
    for index, rule in enumerate(content.rules.rules):
        for key, wanted in rule.when.items():
            at = content.where(rules_file, "rules", index, "when", key)
            if key not in asked:
                found.error(at, f"rule uses {key!r}, which the candidacy flow never asks")
                continue
            for value in wanted if isinstance(wanted, list) else [wanted]:
                if value not in asked[key]:
                    found.error(at, f"rule expects {key}={value!r}, but no button gives that answer")


def _source_problem(source: str, sources: SourceList) -> str | None:
    root, _, section = source.partition("-")
    entry = sources.sources.get(root)
    if entry is None:
        return f"unknown source {source!r} (see sources.yaml)"
    if section:
        match = re.fullmatch(r"([a-z]+)(\d+)", section)
        counts = entry.sections or {}
        if (
            not match
            or match.group(1) not in counts
            or not 1 <= int(match.group(2)) <= counts[match.group(1)]
        ):
            return f"unknown source section {source!r} (see sources.yaml)"
    return None


def _check_sizes(content: Content, found: _Findings) -> None:
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
                if len(message.text) > MAX_MESSAGE:
                    found.error(
                        at,
                        f"state {state_id!r} in {code!r} can reach {len(message.text)} characters; "
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
            len(renderer.text(rule.text, code)) + (len(renderer.text(rule.ask, code)) if rule.ask else 0) + 4
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
    "vague",
    "resolved",
    "general",
    "clause_breaks",
    "negated",
    "harmless",
    "firsthand",
)


def _check_patterns(content: Content, found: _Findings) -> None:
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


def _plan_messages(content: Content) -> dict[str, Located]:
    """Text ids the reminder plan sends, with where."""
    ids: dict[str, Located] = {}
    for index, spec in enumerate(content.plan.reminders):
        ids.setdefault(spec.message, content.where(content.plan_file, "reminders", index, "message"))
        if spec.message_if_same_cutoff:
            at = content.where(content.plan_file, "reminders", index, "message_if_same_cutoff")
            ids.setdefault(spec.message_if_same_cutoff, at)
    return ids


def _reminder_only(content: Content, shown: dict[str, Located]) -> set[str]:
    """Reminder messages that nothing else shows: only these get the reminder placeholders filled."""
    signs = {s.text for loc in content.locales.values() for s in (loc.signs.signs if loc.signs else ())}
    return _plan_messages(content).keys() - shown.keys() - signs


def _dated_texts(content: Content) -> set[str]:
    """Texts of flows where the patient sets their procedure: its date and times are known there."""
    return {
        text_id
        for spec in content.flows.values()
        if any(state.input == "procedure_time" for state in spec.states.values())
        for state in spec.states.values()
        for text_id in state.say
    } | set(DATED_SERVICE_TEXTS)


def _placeholder_problem(name: str, text_id: str, known: set[str], reminder_texts: set[str]) -> str | None:
    if name in known or (name in REMINDER_PARAMS and text_id in reminder_texts):
        return None
    if name == "about_time" and text_id.startswith(REMINDER_TITLE_PREFIX):
        return None  # a reminder's name in the patient's list says the time it is about
    if name in REMINDER_PARAMS:
        return f"text {text_id!r} uses {{{name}}}, which is filled only in reminders and the procedure flow"
    return f"text {text_id!r} uses unknown placeholder {{{name}}}"


def _check_plan(content: Content, found: _Findings) -> None:
    """Reminder ids are unique, and each message is a sourced text (a missing one is found above)."""
    seen: dict[str, Located] = {}
    for index, spec in enumerate(content.plan.reminders):
        at = content.where(content.plan_file, "reminders", index, "id")
        if spec.id in seen:
            first = seen[spec.id]
            found.error(at, f"reminder id {spec.id!r} is already used at {first.file}:{first.line}")
        seen.setdefault(spec.id, at)
    for text_id, at in _plan_messages(content).items():
        for code, locale in content.locales.items():
            if text_id in locale.texts and text_id not in locale.sources:
                found.error(
                    at, f"reminder message {text_id!r} in locale {code!r} must be under `texts:` with sources"
                )
