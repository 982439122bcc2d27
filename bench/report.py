"""``dealgraph report`` generation time (not part of the test suite).

    python bench/report.py [--deals 100000] [--repeats 3]

On the sample data and on a ``dealgraph synth`` store (``--deals``, entities = deals / 10, seed 7), with the
store open and its tables read once: the report's queries alone (:func:`dealgraph.viz.report.run_queries`,
the baseline, measured in the same run), the whole page (:func:`render_report`: the same queries plus the
network view, the matplotlib charts and the HTML), the ratio of the two, the page size, and the
``dealgraph report`` command as a new process (interpreter start and store read included). Prints a
Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from common import dealgraph_cmd, fmt_s, load_avg, timed  # noqa: E402


def one_store(label: str, store, repeats: int, work: Path) -> str:
    from dealgraph.queries.common import deals_of
    from dealgraph.viz.report import render_report, run_queries

    store.deals, store.entities, store.metrics  # read once, as a long-lived process would
    n = len(deals_of(store))
    base = timed(lambda: run_queries(store, n_deals=n), repeats)
    page = [""]

    def full():
        page[0], _ = render_report(store)
    t = timed(full, repeats)
    out = work / "report.html"
    t0 = time.perf_counter()
    p = subprocess.run(dealgraph_cmd() + ["--db", str(store.path), "report", "-o", str(out)],
                       capture_output=True, text=True)
    cmd = time.perf_counter() - t0
    assert p.returncode == 0, p.stderr
    return (f"| {label} | {base} | {t} | {t.median / base.median:.2f}x | {len(page[0].encode()) / 1e6:.1f} MB "
            f"| {fmt_s(cmd)} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deals", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from dealgraph.graph.store import open_store
    from dealgraph.loaders.synth import write

    print(f"load average at start: {load_avg()}")
    rows = ["| store | the report's queries alone (baseline) | whole report (`render_report`) | ratio | page "
            "| `dealgraph report` command |", "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows.append(one_store("sample data", open_store(work / "sample.db"), args.repeats, work))
        ents, deals = write(work / "synth", args.deals, max(20, args.deals // 10), 7)
        big = open_store(work / "big.db", seed=False)
        big.add([ents, deals])
        rows.append(one_store(f"{args.deals:,} synthetic deals", big, max(1, args.repeats // 3), work))
    print("\n".join(rows))
    print(f"load average at end: {load_avg()}")


if __name__ == "__main__":
    main()
