"""Neo4j backend benchmark: push throughput and circular-flows in Cypher vs embedded.

    python3 bench/neo4j_bench.py [--deals 100000] [--max-length 3 4] [--timeout 900] [--out BENCHMARKS-neo4j.md]

One run, one graph: synthetic deals from ``dealgraph synth`` (loaders/synth.py) are
loaded into a fresh store, pushed into a local Neo4j 5.26 started for the run (or
the server in ``NEO4J_URI`` / ``NEO4J_USER`` / ``NEO4J_PASSWORD``), pushed a second
time (idempotent: no changes), then circular-flows runs on both backends for each
``--max-length``. Prints the numbers and writes them as a markdown table; nothing is
asserted (speed is not a test).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deals", type=int, default=100_000)
    ap.add_argument("--entities", type=int, default=None, help="default: deals / 5")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-length", type=int, nargs="+", default=[3, 4])
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per circular-flows run")
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--out", default=str(REPO / "BENCHMARKS-neo4j.md"))
    args = ap.parse_args(argv)

    from dealgraph.loaders import synth
    from dealgraph.neo4j_backend.circular import circular_flows as cypher_cycles
    from dealgraph.neo4j_backend.connection import Settings, connect
    from dealgraph.neo4j_backend.push import push
    from dealgraph.neo4j_backend.server import NEO4J_VERSION, LocalNeo4j
    from dealgraph.queries.circular import circular_flows as embedded_cycles
    from dealgraph.graph.store import open_store

    n_ent = args.entities or max(20, args.deals // 5)
    rows: list[tuple[str, str]] = []

    def note(label: str, value: str) -> None:
        print(f"{label}: {value}", flush=True)
        rows.append((label, value))

    from dealgraph.errors import LoadError

    work = Path(tempfile.mkdtemp(prefix="dealgraph-neo4j-bench-"))
    t = time.perf_counter()
    seed = args.seed
    for attempt in range(5):
        ep, dp = synth.write(work / f"seed{seed}", args.deals, n_ent, seed)
        store = open_store(work / f"bench-{seed}.db", seed=False)
        try:
            store.add([ep, dp])
            break
        except LoadError as e:  # a generator row the loader rejects: say so, try the next seed
            print(f"seed {seed}: the loader rejects the synthetic data ({str(e).splitlines()[0]}); "
                  f"trying seed {seed + 1}", file=sys.stderr)
            seed += 1
    else:
        raise SystemExit("no loadable synthetic data in 5 seeds")
    deals = store.deals
    note("graph", f"{len(deals):,} synthetic deals (`dealgraph synth --seed {seed}`), {len(store.entities):,} "
                  f"entities, {int(deals['payer'].isna().sum()):,} payer-less rounds "
                  f"(generated and loaded in {time.perf_counter() - t:.1f} s)")

    server = None
    if os.environ.get("NEO4J_URI"):
        settings = Settings.from_env()
        where = "server at NEO4J_URI"
    else:
        t = time.perf_counter()
        server = LocalNeo4j(data_dir=work / "neo4j", log_path=work / "neo4j.log").start(echo=print)
        note("local Neo4j start", f"{time.perf_counter() - t:.1f} s (Neo4j {NEO4J_VERSION} community, embedded "
                                  f"launcher, 256 MB page cache, -Xmx2g)")
        settings = Settings(uri=server.uri)
        where = "local server"
    driver = connect(settings)
    try:
        t = time.perf_counter()
        first = push(store, driver, database=settings.database, replace=True, batch=args.batch)
        el = time.perf_counter() - t
        c = first.counters
        note("push (first, --replace)", f"{el:.1f} s = **{len(deals) / el:,.0f} deals/s** "
                                       f"({c['nodes_created']:,} nodes, {c['relationships_created']:,} relationships "
                                       f"created; batches of {args.batch}; {where})")
        t = time.perf_counter()
        second = push(store, driver, database=settings.database, batch=args.batch)
        el = time.perf_counter() - t
        note("push (second, idempotent)", f"{el:.1f} s = {len(deals) / el:,.0f} deals/s, "
                                         f"{'no changes' if not second.changed else second.counters}")

        for k in args.max_length:
            t = time.perf_counter()
            emb = embedded_cycles(store, max_length=k, top=100, timeout=args.timeout)
            te = time.perf_counter() - t
            note(f"circular-flows k={k}, embedded", f"{te:.2f} s, {emb.attrs['total_cycles']:,} cycles "
                                                   f"({'complete' if emb.attrs['complete'] else 'TIMEOUT'})")
            t = time.perf_counter()
            try:
                cy = cypher_cycles(driver, database=settings.database, max_length=k, top=100, timeout=args.timeout)
                tc = time.perf_counter() - t
                same = (cy.attrs["total_cycles"] == emb.attrs["total_cycles"]
                        and list(cy["cycle"]) == list(emb["cycle"]))
                note(f"circular-flows k={k}, Cypher", f"{tc:.2f} s, {cy.attrs['total_cycles']:,} cycles, "
                                                     f"{'same cycles and top-100 as embedded' if same else 'DIFFERS from embedded'}"
                                                     f" ({tc / max(te, 1e-9):,.0f}x the embedded time)")
            except Exception as e:  # a timeout is a result worth recording
                tc = time.perf_counter() - t
                note(f"circular-flows k={k}, Cypher", f"not finished: {type(e).__name__} after {tc:.0f} s "
                                                     f"(timeout {args.timeout:.0f} s)")
    finally:
        driver.close()
        if server is not None:
            server.stop()

    import os as _os

    machine = f"{platform.machine()}, {_os.cpu_count()} cores, Python {platform.python_version()}"
    text = ["# Neo4j backend benchmark", "",
            f"`python3 bench/neo4j_bench.py --deals {args.deals} --max-length {' '.join(map(str, args.max_length))}` "
            f"on {machine}, {time.strftime('%Y-%m-%d')}. One run, one graph.", "",
            "| measure | result |", "| --- | --- |"]
    text += [f"| {a} | {b} |" for a, b in rows]
    text += ["", "Push: constraints, then `UNWIND $rows ... MERGE` batches in managed write transactions "
                 "(entities, FX rates, deals with a misplaced-deal check, metrics). Circular-flows in Cypher: "
                 "one fixed-length pattern per length from each cycle's smallest entity id, one deal per ordered "
                 "pair while expanding, distinct nodes, hops collapsed in a second MATCH (dealgraph/neo4j/circular.py); "
                 "embedded: compiled bounded DFS (queries/circular.py).", ""]
    Path(args.out).write_text("\n".join(text))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
