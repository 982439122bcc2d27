"""What the value-choice rule costs the queries (not part of the test suite).

    python bench/sources.py --deals 1000000 --queries 100000

In one process, on a store of ``--deals`` synthetic deals (entities = deals / 10):

* ``deals_of`` as the queries call it, through :func:`dealgraph.queries.observations.effective`,
  with no observations (the hot path: the store is used as it is) against ``deals_of`` on the
  bare store (the baseline, same run);
* the same with ``--min-confidence reported`` (a filter of the deals);
* after adding ``--observations`` observations of random deals' amounts (half more
  confident than the deal row, half less) and as many entity revenues: the rule applied;
* on a store of ``--queries`` deals, ``query multiples`` (which reads deals and metrics)
  before and after the observations.

Prints medians [min, max] over ``--repeats`` and each ratio to its baseline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from common import fmt_s, load_avg, timed  # noqa: E402


def build(work: Path, n_deals: int, seed: int):
    from dealgraph.graph.store import open_store

    out = work / f"synth-{n_deals}"
    import subprocess

    subprocess.run([sys.executable, "-c", "from dealgraph.cli import main; main()", "synth", "--deals", str(n_deals), "--entities",
                    str(max(n_deals // 10, 10)), "--seed", str(seed), "-o", str(out)], check=True,
                   capture_output=True)
    store = open_store(work / f"s-{n_deals}.db", seed=False)
    store.history = False
    store.add([out / "entities.csv", out / "deals.csv"])
    return store


def observations_file(store, path: Path, n: int, seed: int) -> Path:
    import numpy as np

    rng = np.random.default_rng(seed)
    deals = store.deals
    pick = deals.iloc[rng.choice(len(deals), size=min(n, len(deals)), replace=False)]
    ents = store.entities["id"].to_numpy()[rng.choice(len(store.entities), size=n, replace=True)]
    lines = ["subject,field,as_of,value,source,published,confidence"]
    for i, d in enumerate(pick.itertuples()):
        conf = "confirmed" if i % 2 else "rumoured"
        lines.append(f"{d.deal_id},amount,,{1_000_000 + i},Bench source {i % 7},2025-0{1 + i % 9},{conf}")
    for i, e in enumerate(dict.fromkeys(ents)):
        lines.append(f"{e},revenue,2024,{5_000_000 + i},Bench source {i % 5},2025-03,reported")
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--deals", type=int, default=1_000_000)
    p.add_argument("--queries", type=int, default=100_000)
    p.add_argument("--observations", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)

    from dealgraph.queries.common import deals_of
    from dealgraph.queries.observations import effective
    from dealgraph.queries.registry import run_query

    print(f"load average at start: {load_avg()}")
    with tempfile.TemporaryDirectory(prefix="dealgraph-bench-sources-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        big = build(work, a.deals, a.seed)
        print(f"store of {a.deals:,} deals built in {fmt_s(time.perf_counter() - t0)}")
        big.deals  # noqa: B018 - loaded once, as a query process does
        base = timed(lambda: deals_of(big, slim=True), a.repeats)
        none = timed(lambda: deals_of(effective(big), slim=True), a.repeats)
        conf = timed(lambda: deals_of(effective(big, "reported"), slim=True), a.repeats)
        print(f"deals_of, bare store (baseline):             {base}")
        print(f"deals_of through effective(), no observations: {none}  ({none.median / base.median:.2f}x)")
        print(f"  ... with --min-confidence reported:           {conf}  ({conf.median / base.median:.2f}x)")
        f = observations_file(big, work / "obs.csv", a.observations, a.seed)
        big.add([f])
        with_obs = timed(lambda: deals_of(effective(big), slim=True), a.repeats)
        print(f"  ... with {a.observations} deal + entity observations:  {with_obs}  "
              f"({with_obs.median / base.median:.2f}x)")

        small = build(work, a.queries, a.seed)
        q0 = timed(lambda: run_query("multiples", small), a.repeats)
        small.add([observations_file(small, work / "obs-small.csv", a.observations, a.seed)])
        q1 = timed(lambda: run_query("multiples", small), a.repeats)
        print(f"query multiples at {a.queries:,} deals, no observations: {q0}")
        print(f"query multiples at {a.queries:,} deals, {a.observations} observations: {q1}  "
              f"({q1.median / q0.median:.2f}x)")
    print(f"load average at end: {load_avg()}")


if __name__ == "__main__":
    main()
