"""The content check: the schema pass, then every reference resolves and every state leads on."""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from pathlib import Path

from flows.check_limits import (
    Findings,
    check_patterns,
    check_plan,
    check_sizes,
    dated_texts,
    placeholder_problem,
    plan_messages,
    reminder_only,
)
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
from flows.faq_check import check_faq, faq_ids
from flows.machines import iter_targets
from flows.models import DEFAULT_NO_ZONE, MENU_FLOW, ButtonSpec, FlowSpec, SourceList
from flows.planning import ACK_LABEL
from flows.render import LOCALE_PARAMS, clinic_params
from flows.texts import (
    CHECKIN_LABELS,
    CHECKIN_TEXTS,
    COMPANION_LABELS,
    COMPANION_TEXTS,
    ENGINE_TEXTS,
    REMINDER_TITLE_PREFIX,
    SERVICE_LABELS,
    SERVICE_TEXTS,
    line_of,
)


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
    found = Findings()
    _check_flows(content, found)
    _check_texts(content, sources, content.rules_file, found)
    check_sizes(content, found)
    check_patterns(content, found)
    check_plan(content, found)
    found.items.extend(check_faq(content))
    if not content.clinic.timezone:
        clinic_file = str(Path(content.rules_file).parent.parent / "clinic.yaml")
        found.warn(content.where(clinic_file, "clinic", "timezone"), f"the default clinic: {DEFAULT_NO_ZONE}")
    return found.items


def _check_flows(content: Content, found: Findings) -> None:
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
    found: Findings,
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


def _check_graph(content: Content, spec: FlowSpec, file: str, found: Findings) -> None:
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


def _check_texts(content: Content, sources: SourceList, rules_file: str, found: Findings) -> None:
    texts, labels = _used_ids(content)
    texts.update({k: v for k, v in _rule_ids(content, rules_file).items() if k not in texts})

    def listed(text_id: str) -> Located:
        return Located("flows/texts.py", line_of(text_id))

    for text_id in ENGINE_TEXTS:
        texts.setdefault(text_id, listed(text_id))
    reminder_texts = reminder_only(content, texts) | dated_texts(content)
    for text_id in SERVICE_TEXTS:
        texts.setdefault(text_id, listed(text_id))
    faq_texts, faq_labels = faq_ids(content)
    texts.update({k: v for k, v in faq_texts.items() if k not in texts})
    labels.update({k: v for k, v in faq_labels.items() if k not in labels})
    texts.update({k: v for k, v in plan_messages(content).items() if k not in texts})
    if content.plan.reminders:
        labels.setdefault(ACK_LABEL, Located(content.plan_file, 1))
    if content.plan.checkin_keys:
        for text_id in CHECKIN_TEXTS:
            texts.setdefault(text_id, listed(text_id))
        for label_id in CHECKIN_LABELS:
            labels.setdefault(label_id, listed(label_id))
    if content.plan.companion:
        for text_id in COMPANION_TEXTS:
            texts.setdefault(text_id, listed(text_id))
        for label_id in COMPANION_LABELS:
            labels.setdefault(label_id, listed(label_id))
    labels.setdefault(f"{REMINDER_TITLE_PREFIX}notice", listed(REMINDER_TITLE_PREFIX))
    for label_id in SERVICE_LABELS:
        labels.setdefault(label_id, listed(label_id))
    for part, index, spec in content.plan.entries():
        labels.setdefault(f"{REMINDER_TITLE_PREFIX}{spec.id}", content.where(content.plan_file, part, index))
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
                problem = placeholder_problem(name, text_id, known_params, reminder_texts)
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


def _check_translation_complete(content: Content, base: Locale, locale: Locale, found: Findings) -> None:
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


def _check_made_from(base: Locale, locale: Locale, found: Findings) -> None:
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


def _check_rule_keys(content: Content, rules_file: str, found: Findings) -> None:
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
