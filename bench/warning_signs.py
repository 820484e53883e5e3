"""How well the shipped warning-sign patterns recognise what patients type.

Each locale has a phrase table in tests/fixtures/warning_signs/<locale>.yaml:
`alarms` (what a patient with a warning sign might write, and the sign expected)
and `ordinary` (everyday messages and questions that must not raise an alarm;
those marked `ambiguous: true` mention a sign in a denial, a question or a
"what if", and should get the one-tap "do you have it now?" question).

    python bench/warning_signs.py [--misses]

Figures per locale: alarms given urgent guidance at once (recall) and with the
right sign, alarms only asked about; ordinary messages given urgent guidance
(false-alarm rate) or asked about; `confirm` rows (denials, what-ifs, vague
complaints) given the right one-tap question; what the ambiguous ones got.
Figures are printed, never asserted: the exit status is always 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.check import load_content  # noqa: E402
from flows.redflags import SignMatcher  # noqa: E402

TABLES = ROOT / "tests" / "fixtures" / "warning_signs"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "   n/a"


def bench_locale(code: str, matcher: SignMatcher, table: dict, show_misses: bool) -> None:
    """Print the figures for one locale's phrase table."""
    alarms = table.get("alarms", [])
    ordinary = [o for o in table.get("ordinary", []) if not o.get("ambiguous")]
    ambiguous = [o for o in table.get("ordinary", []) if o.get("ambiguous")]
    misses: list[str] = []
    urgent = right = asked = 0
    for row in alarms:
        verdict = matcher.triage(row["text"])
        sign = verdict.sign.id if verdict.sign else None
        if verdict.action == "urgent":
            urgent += 1
            right += sign == row["sign"]
        elif verdict.action != "none":
            asked += 1
        if verdict.action != "urgent" or sign != row["sign"]:
            misses.append(f"  alarm  {row['sign']:<14} got {verdict.action} {sign}: {row['text']}")
    false_alarms = ordinary_asked = 0
    for row in ordinary:
        verdict = matcher.triage(row["text"])
        if verdict.action == "urgent":
            false_alarms += 1
        elif verdict.action != "none":
            ordinary_asked += 1
        if verdict.action != "none":
            misses.append(
                f"  ordinary got {verdict.action} {verdict.sign.id if verdict.sign else ''}: {row['text']}"
            )
    confirm = table.get("confirm", [])
    asked_right = 0
    for row in confirm:
        verdict = matcher.triage(row["text"])
        got = "any" if verdict.action == "ask_any" else (verdict.sign.id if verdict.sign else None)
        if verdict.action in ("ask_one", "ask_any") and got == row["ask"]:
            asked_right += 1
        else:
            misses.append(f"  confirm want ask {row['ask']} got {verdict.action} {got}: {row['text']}")
    amb = [matcher.triage(row["text"]).action for row in ambiguous]
    print(f"[{code}]")
    print(f"  alarms: urgent guidance  {urgent:4d} / {len(alarms):<4d} recall {_pct(urgent, len(alarms))}")
    print(f"  alarms: right sign       {right:4d} / {len(alarms):<4d}        {_pct(right, len(alarms))}")
    print(f"  alarms: asked to confirm {asked:4d} / {len(alarms):<4d}        {_pct(asked, len(alarms))}")
    print(
        f"  ordinary: urgent         {false_alarms:4d} / {len(ordinary):<4d} "
        f"false-alarm rate {_pct(false_alarms, len(ordinary))}"
    )
    print(
        f"  ordinary: asked          {ordinary_asked:4d} / {len(ordinary):<4d}        "
        f"{_pct(ordinary_asked, len(ordinary))}"
    )
    print(
        f"  denials, what-ifs, vague: asked the right question {asked_right:4d} / {len(confirm):<4d} "
        f"{_pct(asked_right, len(confirm))}"
    )
    print(
        f"  ambiguous (denials, what-ifs): urgent {amb.count('urgent')}, asked "
        f"{amb.count('ask_one') + amb.count('ask_any')}, nothing {amb.count('none')} of {len(amb)}"
    )
    if show_misses:
        for line in misses:
            print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every miss and false alarm")
    args = parser.parse_args()
    content = load_content()
    for path in sorted(TABLES.glob("*.yaml")):
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        code = table.get("locale", path.stem)
        loc = content.locales.get(code)
        if loc is None or not loc.signs:
            print(f"[{code}] no warning signs in the shipped content")
            continue
        bench_locale(code, SignMatcher(loc.signs), table, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
