"""Candidacy rules: which answers fit the usual profile and which the doctor must weigh."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows.models import Rule, RuleBook
from flows.replies import Line

BULLET = "\u2022"
SERVICE_LINE = "cand.result.service"


def rule_matches(rule: Rule, answers: Mapping[str, Any]) -> bool:
    """True when every condition of the rule holds for the answers."""
    for key, wanted in rule.when.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if answers.get(key) not in values:
            return False
    return True


@dataclass(frozen=True)
class CandidacyResult:
    """The matched rules, grouped: urgent first, then what fits, what needs a close look."""

    urgent: tuple[Rule, ...]
    fits: tuple[Rule, ...]
    check: tuple[Rule, ...]

    @property
    def questions(self) -> tuple[str, ...]:
        """Questions to take to the appointment, each once, in rule order."""
        seen: dict[str, None] = {}
        for rule in (*self.urgent, *self.check, *self.fits):
            if rule.ask:
                seen.setdefault(rule.ask, None)
        return tuple(seen)

    def lines(self) -> list[Line]:
        """The result as paragraphs under headings; it never says "you are a candidate"."""
        out: list[Line] = []
        for heading, rules in (
            # What needs acting on, then what the doctor will look at closely, then what fits.
            ("cand.result.urgent", self.urgent),
            ("cand.result.check", self.check),
            ("cand.result.fits", self.fits),
        ):
            if rules:
                out.append(Line(heading))
                out.extend(Line(rule.text, BULLET) for rule in rules)
        if not (self.urgent or self.fits or self.check):
            out.append(Line("cand.result.nothing"))
        if self.questions:
            out.append(Line("cand.result.ask"))
            out.extend(Line(text_id, BULLET) for text_id in self.questions)
        out.append(Line(SERVICE_LINE))  # every result ends by saying what the bot is and is not
        return out


def evaluate_candidacy(book: RuleBook, answers: Mapping[str, Any]) -> CandidacyResult:
    """Apply every rule to the answers."""
    matched = [rule for rule in book.rules if rule_matches(rule, answers)]
    return CandidacyResult(
        urgent=tuple(r for r in matched if r.outcome == "urgent"),
        fits=tuple(r for r in matched if r.outcome == "fits"),
        check=tuple(r for r in matched if r.outcome == "check"),
    )
