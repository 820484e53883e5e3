"""How well typed questions reach the right FAQ topic.

Each locale has a question table in tests/fixtures/faq/<locale>.yaml (the tuning table: questions
worded differently from the example phrasings in content/<locale>/faq.yaml, which the phrasings
and settings were tuned against), earlier held-out tables in tests/fixtures/faq/holdout-N/ (each
written blind, run once, then looked at while the matcher was changed) and the held-out table in
tests/fixtures/faq/holdout/<locale>.yaml (written by someone who saw neither the phrasings nor the
other tables, and never used for tuning). Each row has the topic it
should reach, or `topic: null` for messages the FAQ should not answer confidently. The tables are
reported separately: only the held-out figures say how well the matcher does on questions nobody
tuned it for.

    python bench/faq.py [--misses] [--threshold N] [--margin N] [--tables DIR ...] [--no-holdout]

Figures per locale, for the questions with a topic: answered with the right topic, answered
with a wrong one, "not sure" (the closest topics offered as buttons instead), and how often the
right topic is among those offered. For the questions without a topic: how many the bot was not
sure about, as it should be. Last, how many questions the bot's engine hands to the FAQ at all
(a message that mentions a warning sign gets the warning-sign handling first). At the end, how
long building each language's matcher and one match take. `--tables` adds folders of tables of
the same shape (e.g. a scratch set of your own), each reported on its own; while tuning, run with
`--no-holdout` so that the held-out figures stay unseen until the end, and once they have been
looked at, write a new held-out table. When the figures are low, add or improve phrasings and
keywords in content/, never the questions here. Figures are printed, never asserted: the exit
status is always 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.check import load_content  # noqa: E402
from flows.content import Content  # noqa: E402
from flows.engine import Event, FlowEngine  # noqa: E402
from flows.faq import NOT_SURE, FaqMatch, FaqMatcher, faq_normalise  # noqa: E402

TABLES = ROOT / "tests" / "fixtures" / "faq"
# Held out once, looked at since; in the order they were written (holdout-2 before holdout-10).
SEEN = sorted(TABLES.glob("holdout-*"), key=lambda folder: int(folder.name.rsplit("-", 1)[1]))
HOLDOUT = TABLES / "holdout"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "   n/a"


def _reaches_faq(engine: FlowEngine, content: Content, code: str, text: str) -> bool:
    """Whether the engine answers this message from the FAQ (an answer or "not sure"), from the menu."""
    answers = {tuple(t.answer) for t in content.faq.topics} if content.faq else set()
    outcome = engine.handle(engine.new_session(), Event("text", text), code)
    first = tuple(line.text_id for line in outcome.replies[0].lines) if outcome.replies else ()
    return first == (NOT_SURE,) or first in answers


def _got(found: FaqMatch) -> str:
    """The best topic and its score to one decimal (a 61.7 is not a 62), and the runner-up's."""
    return f"{found.topic} {found.score:.1f}/{found.runner_up:.1f}"


def bench_locale(
    code: str, matcher: FaqMatcher, *, engine: FlowEngine, content: Content, table: dict, show_misses: bool
) -> None:
    """Print the figures for one locale's question table."""
    rows = table.get("questions", [])
    asked = [r for r in rows if r.get("topic")]
    others = [r for r in rows if not r.get("topic")]
    phrasings = content.locales[code].faq
    assert phrasings is not None
    said = {faq_normalise(e) for group in phrasings.phrasings.values() for e in group}
    verbatim = [r for r in asked if faq_normalise(r["text"]) in said]  # a phrasing says it word for word
    right = wrong = unsure = offered = right_verbatim = 0
    misses: list[str] = []
    for row in asked:
        found = matcher.match(row["text"])
        if found.confident and found.topic == row["topic"]:
            right += 1
            right_verbatim += row in verbatim
            continue
        if found.confident:
            wrong += 1
            misses.append(f"  wrong     want {row['topic']:<14} got  {_got(found):<26}: {row['text']}")
        else:
            unsure += 1
            offered += row["topic"] in found.closest
            misses.append(f"  not sure  want {row['topic']:<14} near {_got(found):<26}: {row['text']}")
    held_back = 0
    for row in others:
        found = matcher.match(row["text"])
        if found.confident:
            misses.append(f"  answered  want {'no topic':<14} got  {_got(found):<26}: {row['text']}")
        else:
            held_back += 1
    reach = sum(_reaches_faq(engine, content, code, row["text"]) for row in rows)
    print(f"[{code}] threshold {matcher.threshold:g}, margin {matcher.margin:g}")
    print(f"  right topic              {right:4d} / {len(asked):<4d} {_pct(right, len(asked))}")
    print(f"  wrong topic              {wrong:4d} / {len(asked):<4d} {_pct(wrong, len(asked))}")
    print(f"  not sure                 {unsure:4d} / {len(asked):<4d} {_pct(unsure, len(asked))}")
    print(f"    right topic offered    {offered:4d} / {unsure:<4d}")
    rest, right_rest = len(asked) - len(verbatim), right - right_verbatim
    print(f"  said by a phrasing       {len(verbatim):4d} / {len(asked):<4d} (word for word)")
    print(f"  right, the others        {right_rest:4d} / {rest:<4d} {_pct(right_rest, rest)}")
    print(f"  no topic, not sure       {held_back:4d} / {len(others):<4d}")
    print(f"  reach the FAQ (engine)   {reach:4d} / {len(rows):<4d}")
    if show_misses:
        for line in misses:
            print(line)


def bench_tables(
    label: str, folder: Path, content: Content, engine: FlowEngine, args: argparse.Namespace
) -> None:
    """Print the figures of every locale's table in a folder, under a heading."""
    assert content.faq is not None
    paths = sorted(folder.glob("*.yaml"))
    print(f"== {label} ({folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder})")
    if not paths:
        print("  no tables")
    for path in paths:
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        code = table.get("locale", path.stem)
        loc = content.locales.get(code)
        if loc is None or loc.faq is None:
            print(f"[{code}] no FAQ phrasings in the shipped content")
            continue
        latin = loc.signs.latin if loc.signs else ()
        matcher = FaqMatcher.of(loc.faq, content.faq, threshold=args.threshold, latin=latin)
        if args.margin is not None:
            matcher.margin = args.margin
        bench_locale(code, matcher, engine=engine, content=content, table=table, show_misses=args.misses)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every question not answered right")
    parser.add_argument("--threshold", type=float, help="score a confident answer needs (default: content's)")
    parser.add_argument("--margin", type=float, help="lead over the next topic it needs (default: content's)")
    parser.add_argument("--tables", type=Path, nargs="*", default=[], help="more folders of question tables")
    parser.add_argument(
        "--no-holdout", action="store_true", help="leave the held-out table unread (while tuning, always)"
    )
    args = parser.parse_args()
    content = load_content()
    if content.faq is None:
        print("the shipped content has no FAQ (content/faq.yaml)")
        return 0
    engine = FlowEngine(content)
    bench_tables("tuning table", TABLES, content, engine, args)
    for folder in SEEN:
        bench_tables(f"earlier held-out table {folder.name}, looked at since", folder, content, engine, args)
    if HOLDOUT.is_dir() and not args.no_holdout:
        bench_tables("held-out", HOLDOUT, content, engine, args)
    for folder in args.tables:
        bench_tables("extra table", folder.resolve(), content, engine, args)
    bench_speed(content)
    return 0


def bench_speed(content: Content) -> None:
    """How long building the matchers takes, and one match (the tuning table's questions)."""
    assert content.faq is not None
    faq = content.faq
    print("== speed")
    for path in sorted(TABLES.glob("*.yaml")):
        code = path.stem
        loc = content.locales.get(code)
        if loc is None or loc.faq is None:
            continue
        started = time.perf_counter()
        matcher = FaqMatcher.of(loc.faq, faq, latin=loc.signs.latin if loc.signs else ())
        built = time.perf_counter() - started
        questions = [r["text"] for r in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]]
        times = []
        for _ in range(5):
            for question in questions:
                started = time.perf_counter()
                matcher.match(question)
                times.append(time.perf_counter() - started)
        median = statistics.median(times) * 1000
        print(
            f"[{code}] built in {built * 1000:.0f} ms; one match: median {median:.2f} ms, "
            f"slowest {max(times) * 1000:.2f} ms ({len(times)} matches)"
        )


if __name__ == "__main__":
    sys.exit(main())
