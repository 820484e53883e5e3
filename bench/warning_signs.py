"""How well the bot recognises warning signs in what patients type, and how fast.

Tables, per language (`<locale>.yaml`):
- tuning: content/<locale>/warning_examples.yaml, the example messages (the patterns were
  written against them and the model learns from them, so its figures describe fitting only);
- tests/fixtures/warning_signs/blind-<n>/: tables written blind (by writers who had not read
  the patterns, the phrasings or earlier tables), run once on the final code of the session
  that added them, and "looked at since" afterwards (see their header comments).

    python bench/warning_signs.py [--misses] [--table NAME]

Each message is sent to the real flow engine at the main menu, after the procedure (the
blind tables are written for the days after it). Per table and language:
- alarms: urgent guidance at once (recall, direct), or after one tap (the one-tap question
  names the expected sign, or asks about every sign), and with the expected sign;
- ordinary messages: urgent guidance (direct false alarms) and one-tap questions;
- silences: messages that got no reply at all (must be 0);
- the detector's time per message (SignMatcher.triage): median and slowest, on a detector that
  has read none of the table's messages before (the words it remembers are only those of the
  table's earlier messages, as in a bot that has just started);
- first, the learned layer's training time per language (once per process, at start-up).
Figures are printed, never asserted: the exit status is always 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.check import load_content  # noqa: E402
from flows.engine import ASK_ANY, ASK_ONE, SIGN_NO, SIGN_PREFIX, Event, FlowEngine, Outcome  # noqa: E402

TABLES = ROOT / "tests" / "fixtures" / "warning_signs"
CONTENT = ROOT / "content"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "   n/a"


def verdict(outcome: Outcome) -> tuple[str, set[str]]:
    """What a message got: urgent (with the sign), ask (with the signs offered), silent, or other."""
    if outcome.warning_sign:
        return "urgent", {outcome.warning_sign}
    if not outcome.replies:
        return "silent", set()
    first = outcome.replies[0]
    if first.lines and first.lines[0].text_id in (ASK_ONE, ASK_ANY):
        offered = {b.data.removeprefix(SIGN_PREFIX) for b in first.buttons if b.data != SIGN_NO}
        return "ask", offered
    return "other", set()


def bench_table(engine: FlowEngine, code: str, table: dict[str, Any], show: bool) -> None:
    """Print one language's figures for one table."""
    session = engine.new_session()
    matcher = FlowEngine(engine.content).matchers[code]  # timed fresh: not warmed by the replies below
    alarms = table.get("alarms", [])
    ordinary = [row for row in table.get("ordinary", []) if not row.get("ambiguous")]
    misses: list[str] = []
    direct = tapped = right = silent = 0
    for row in alarms:
        got, signs = verdict(engine.handle(session, Event("text", row["text"], after_procedure=True), code))
        direct += got == "urgent"
        tapped += got == "ask" and row["sign"] in signs
        right += got == "urgent" and row["sign"] in signs
        silent += got == "silent"
        if got != "urgent" or row["sign"] not in signs:
            misses.append(f"  alarm    {row['sign']:<14} got {got} {sorted(signs)}: {row['text']}")
    false_alarms = asked = 0
    for row in ordinary:
        got, signs = verdict(engine.handle(session, Event("text", row["text"], after_procedure=True), code))
        false_alarms += got == "urgent"
        asked += got == "ask"
        silent += got == "silent"
        if got in ("urgent", "ask"):
            misses.append(f"  ordinary {row.get('kind', ''):<14} got {got} {sorted(signs)}: {row['text']}")
    times = []
    for row in [*alarms, *ordinary]:
        start = time.perf_counter()
        matcher.triage(row["text"], after_procedure=True)
        times.append((time.perf_counter() - start) * 1000)
    n, m = len(alarms), len(ordinary)
    print(f"  [{code}] alarms {n}, ordinary {m}")
    print(f"    recall, direct             {direct:4d} / {n:<4d} {_pct(direct, n)}")
    print(f"    recall, direct or one tap  {direct + tapped:4d} / {n:<4d} {_pct(direct + tapped, n)}")
    print(f"    urgent with the right sign {right:4d} / {n:<4d} {_pct(right, n)}")
    print(f"    ordinary: direct alarms    {false_alarms:4d} / {m:<4d} {_pct(false_alarms, m)}")
    print(f"    ordinary: one-tap question {asked:4d} / {m:<4d} {_pct(asked, m)}")
    print(f"    silences                   {silent:4d} / {n + m}")
    if times:
        print(
            f"    detector time per message  median {statistics.median(times):.3f} ms, "
            f"slowest {max(times):.3f} ms"
        )
    if show:
        print("\n".join(misses))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every miss, alarm and question")
    parser.add_argument("--table", help="only this table: tuning, or a folder name such as blind-1")
    args = parser.parse_args()
    engine = FlowEngine(load_content())
    print("== training the learned layer (once per process, at start-up)")
    for code, matcher in engine.matchers.items():
        if matcher.model is not None:
            started = time.perf_counter()
            matcher.model.train()
            took = time.perf_counter() - started
            print(f"  [{code}] {matcher.model.rows} example rows: {took:.2f} s")
    tuning = sorted(CONTENT.glob("*/warning_examples.yaml"))
    blind = sorted(p for p in TABLES.iterdir() if p.is_dir()) if TABLES.is_dir() else []
    tables = [("tuning", "content/*/warning_examples.yaml", tuning)]
    tables += [(p.name, str(p.relative_to(ROOT)), sorted(p.glob("*.yaml"))) for p in blind]
    for name, where, paths in tables:
        if args.table and args.table != name:
            continue
        print(f"== {name} ({where})")
        for path in paths:
            table = yaml.safe_load(path.read_text(encoding="utf-8"))
            code = table.get("locale", path.stem)
            if code not in engine.matchers:
                print(f"  [{code}] no warning signs in the shipped content")
                continue
            bench_table(engine, code, table, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
