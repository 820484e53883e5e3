"""How well typed questions reach the right FAQ topic.

Each locale has a held-out question table in tests/fixtures/faq/<locale>.yaml: questions worded
differently from the example phrasings in content/<locale>/faq.yaml, each with the topic it
should reach, or `topic: null` for messages the FAQ should not answer confidently.

    python bench/faq.py [--misses] [--threshold N]

Figures per locale, for the questions with a topic: answered with the right topic, answered
with a wrong one, "not sure" (the closest topics offered as buttons instead), and how often the
right topic is among those offered. For the questions without a topic: how many the bot was not
sure about, as it should be. Last, how many questions the bot's engine hands to the FAQ at all
(a message that mentions a warning sign gets the warning-sign handling first).
When the figures are low, add or improve phrasings in content/, never the questions here.
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
from flows.content import Content  # noqa: E402
from flows.engine import Event, FlowEngine  # noqa: E402
from flows.faq import NOT_SURE, FaqMatcher  # noqa: E402

TABLES = ROOT / "tests" / "fixtures" / "faq"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "   n/a"


def _reaches_faq(engine: FlowEngine, content: Content, code: str, text: str) -> bool:
    """Whether the engine answers this message from the FAQ (an answer or "not sure"), from the menu."""
    answers = {tuple(t.answer) for t in content.faq.topics} if content.faq else set()
    outcome = engine.handle(engine.new_session(), Event("text", text), code)
    first = tuple(line.text_id for line in outcome.replies[0].lines) if outcome.replies else ()
    return first == (NOT_SURE,) or first in answers


def bench_locale(
    code: str, matcher: FaqMatcher, *, engine: FlowEngine, content: Content, table: dict, show_misses: bool
) -> None:
    """Print the figures for one locale's question table."""
    rows = table.get("questions", [])
    asked = [r for r in rows if r.get("topic")]
    others = [r for r in rows if not r.get("topic")]
    right = wrong = unsure = offered = 0
    misses: list[str] = []
    for row in asked:
        found = matcher.match(row["text"])
        got = f"{found.topic} {found.score:.0f}"
        if found.confident and found.topic == row["topic"]:
            right += 1
            continue
        if found.confident:
            wrong += 1
            misses.append(f"  wrong     want {row['topic']:<14} got {got:<18}: {row['text']}")
        else:
            unsure += 1
            offered += row["topic"] in found.closest
            misses.append(f"  not sure  want {row['topic']:<14} near {got:<17}: {row['text']}")
    held_back = 0
    for row in others:
        found = matcher.match(row["text"])
        if found.confident:
            got = f"{found.topic} {found.score:.0f}"
            misses.append(f"  answered  want {'no topic':<14} got {got:<18}: {row['text']}")
        else:
            held_back += 1
    reach = sum(_reaches_faq(engine, content, code, row["text"]) for row in rows)
    print(f"[{code}] threshold {matcher.threshold:g}")
    print(f"  right topic              {right:4d} / {len(asked):<4d} {_pct(right, len(asked))}")
    print(f"  wrong topic              {wrong:4d} / {len(asked):<4d} {_pct(wrong, len(asked))}")
    print(f"  not sure                 {unsure:4d} / {len(asked):<4d} {_pct(unsure, len(asked))}")
    print(f"    right topic offered    {offered:4d} / {unsure:<4d}")
    print(f"  no topic, not sure       {held_back:4d} / {len(others):<4d}")
    print(f"  reach the FAQ (engine)   {reach:4d} / {len(rows):<4d}")
    if show_misses:
        for line in misses:
            print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every question not answered right")
    parser.add_argument("--threshold", type=float, help="score a confident answer needs (default: content's)")
    args = parser.parse_args()
    content = load_content()
    if content.faq is None:
        print("the shipped content has no FAQ (content/faq.yaml)")
        return 0
    engine = FlowEngine(content)
    threshold = content.faq.threshold if args.threshold is None else args.threshold
    for path in sorted(TABLES.glob("*.yaml")):
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        code = table.get("locale", path.stem)
        loc = content.locales.get(code)
        if loc is None or loc.faq is None:
            print(f"[{code}] no FAQ phrasings in the shipped content")
            continue
        matcher = FaqMatcher.of(loc.faq, threshold)
        bench_locale(code, matcher, engine=engine, content=content, table=table, show_misses=args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
