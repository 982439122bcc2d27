"""Benchmark of the formats (not part of the test suite): xlsx out and in, GEXF and
GraphML out, and `dealgraph sql`, on a synthetic store.

    python bench/formats.py --deals 100000            # writes BENCHMARKS-formats.md

Each measure is in this process with the store open (wall-clock median with min/max
over ``--repeats``, and CPU time), on ``dealgraph synth --seed S`` data with entities =
deals / 10. The xlsx read is ``store.add`` of the exported workbook into an empty store
(reading, validation, resolution, the SQLite commit), and its CSV export is compared with
the original's (they must be identical). The machine may be shared: the load average at
start and end is recorded.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from common import load_avg, machine_info, timed  # noqa: E402

from dealgraph.graph import exports  # noqa: E402
from dealgraph.graph.store import open_store  # noqa: E402
from dealgraph.loaders.synth import write  # noqa: E402
from dealgraph.queries.sql import run_sql  # noqa: E402

SQL = "select payer, sum(amount_usd) from deals group by 1"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--deals", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", default=str(REPO / "BENCHMARKS-formats.md"))
    a = p.parse_args(argv)
    info = machine_info()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write(work, a.deals, a.deals // 10, a.seed)
        store = open_store(work / "s.db", seed=False)
        store.add([work / "entities.csv", work / "deals.csv"])
        rows = []
        t = timed(lambda: exports.write_xlsx(store, work / "s.xlsx"), a.repeats)
        rows.append(("export --format xlsx", t, f"{(work / 's.xlsx').stat().st_size / 1e6:.1f} MB"))

        def read_back():
            db = work / "back.db"
            db.unlink(missing_ok=True)
            back = open_store(db, seed=False)
            back.add([work / "s.xlsx"])
            return back
        t = timed(read_back, a.repeats)
        back = open_store(work / "back.db")
        store.export_csv(work / "a")
        back.export_csv(work / "b")
        same = all(filecmp.cmp(work / "a" / f, work / "b" / f, shallow=False) for f in os.listdir(work / "a"))
        rows.append(("add FILE.xlsx (into an empty store)", t, f"CSV export identical to the original's: {same}"))
        for fmt in exports.NETWORK_FORMATS:
            t = timed(lambda: exports.write_network(store, work / f"s.{fmt}", fmt), a.repeats)
            rows.append((f"export --format {fmt}", t, f"{(work / f's.{fmt}').stat().st_size / 1e6:.1f} MB"))
        t = timed(lambda: run_sql(store, SQL), a.repeats)
        rows.append((f"sql \"{SQL}\"", t, f"{len(run_sql(store, SQL)):,} rows"))
    lines = [
        "# Formats benchmark", "",
        f"`python3 bench/formats.py --deals {a.deals} --repeats {a.repeats}`: {a.deals:,} synthetic deals, "
        f"{a.deals // 10:,} entities (seed {a.seed}); in one process with the store open; wall-clock median "
        f"[min, max] and CPU time, {info['date']}. Machine: {info['cpu']}, {info['memory']}, Python "
        f"{info['python']}; load average {info['load average at start']} at start, {load_avg()} at end (a shared "
        "machine: CPU time is what the code costs).", "",
        "| measure | time | result |", "| --- | --- | --- |"]
    lines += [f"| {m} | {t} | {r} |" for m, t, r in rows]
    lines += ["", "The xlsx and network times are openpyxl and networkx writing and reading cell by cell / "
              "element by element in Python (networkx's GEXF and GraphML writers build the whole document in "
              "memory first).", ""]
    Path(a.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
