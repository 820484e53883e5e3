"""How well the shipped warning-sign patterns recognise what patients type.

Each locale has a phrase table in tests/fixtures/warning_signs/<locale>.yaml:
`alarms` (what a patient with a warning sign might write, and the sign expected)
and `ordinary` (everyday messages and questions that must not raise an alarm;
those marked `ambiguous: true` mention a sign in a question or a denial and may
match, because every reply is phrased "If you have ... now").

    python bench/warning_signs.py [--misses]

Figures per locale: alarms recognised (recall), alarms given the right sign,
ordinary messages raising an alarm (false-alarm rate), ambiguous ones matched.
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
    recognised = right = 0
    for row in alarms:
        found = matcher.match(row["text"])
        if found is not None:
            recognised += 1
        if found is not None and found.id == row["sign"]:
            right += 1
        else:
            misses.append(f"  alarm  {row['sign']:<14} got {found.id if found else None}: {row['text']}")
    false_alarms = 0
    for row in ordinary:
        found = matcher.match(row["text"])
        if found is not None:
            false_alarms += 1
            misses.append(f"  false  {found.id:<14}: {row['text']}")
    amb_matched = sum(1 for row in ambiguous if matcher.match(row["text"]) is not None)
    print(f"[{code}]")
    recall = _pct(recognised, len(alarms))
    print(f"  alarms recognised      {recognised:4d} / {len(alarms):<4d} recall {recall}")
    print(f"  right sign             {right:4d} / {len(alarms):<4d}        {_pct(right, len(alarms))}")
    print(
        f"  ordinary raising alarm {false_alarms:4d} / {len(ordinary):<4d} "
        f"false-alarm rate {_pct(false_alarms, len(ordinary))}"
    )
    print(f"  ambiguous matched      {amb_matched:4d} / {len(ambiguous):<4d}")
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
