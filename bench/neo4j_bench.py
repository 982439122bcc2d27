"""Neo4j backend benchmark: push throughput and the circular-flows engines side by side.

    python3 bench/neo4j_bench.py [--deals 100000] [--max-length 3 4] [--engines embedded projection cypher]
                                 [--baseline-push OLD_PUSH.py] [--page-cache 1g] [--out BENCHMARKS-neo4j.md]

One run, one graph: synthetic deals from ``dealgraph synth`` (loaders/synth.py) are
loaded into a fresh store and pushed into a local Neo4j 5.26 started for the run (or
the server in ``NEO4J_URI`` / ``NEO4J_PASSWORD``):

* **push, first** into the empty database (all ``CREATE``), **unchanged** (fingerprints
  read and compared, nothing sent) and **1 % changed** (1 % of the deals get new notes
  locally; only they are sent), each with deals/s;
* the server's own **write ceiling** on this machine: relationships with as many
  properties as a deal, created by the server from ``UNWIND range(...)`` (no client, no
  parameters) -- what a push cannot beat;
* ``--baseline-push FILE``: another push implementation (a ``push.py`` from an earlier
  commit, e.g. ``git show REV:neo4j_backend/push.py > old_push.py``) timed in the same run
  into a second empty database directory (first push and unchanged re-push), so old and
  new code are compared under the same load;
* circular-flows for each ``--max-length`` with each engine: embedded (the local store),
  ``projection`` (hops selected and streamed by Cypher, searched by the embedded kernels)
  and ``cypher`` (the whole search in Cypher), with each time's ratio to embedded and
  whether the results are the same; embedded and projection alternated ``--repeat`` times
  (medians), Cypher once;
* ``--queries``: the other graph searches (concentration, hubs, timeline, circularity ...)
  embedded and on the server with each engine, ratios and whether the tables are the same;
* ``--sweep ROUNDS``: first pushes with each batch size / statements per transaction /
  parallel sessions setting (:data:`SWEEP`), rotated, medians and CPU seconds;
* ``--bulk``: the offline bulk push (``neo4j-admin database import full``) into a second
  local server's empty database, its phases, and a Bolt push after it (nothing to send).

The load average of the machine is recorded next to every timing (a shared machine
slows everything, the server most). Prints the numbers and writes them as a markdown
table; nothing is asserted (speed is not a test).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load() -> str:
    return "load {:.1f}".format(os.getloadavg()[0])


def _load_module(path: str):
    spec = importlib.util.spec_from_file_location("dealgraph_baseline_push", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


_PROBE_PROPS = ("deal_id: toString(i), type: 'investment', date: '2024-06', date_key: 20240600, "
                "date_precision: 2, amount: 1.5e8, amount_qualifier: 'exact', currency: 'USD', fx_rate: 1.0, "
                "amount_usd: 1.5e8, status: 'completed', source: 'https://example.org/some/source/page', "
                "notes: 'a synthetic note of some length', _fp: i")


def write_ceiling(driver, database, n: int, batch: int) -> float:
    """Relationships/s the server creates on its own (no client rows): ``n`` relationships
    between existing entities, as many properties as a pushed deal, ``batch`` per transaction;
    deleted afterwards."""
    q = (f"MATCH (a:Entity) WITH collect(a) AS es UNWIND range($lo, $hi) AS i "
         f"WITH es[i % size(es)] AS a, es[(i * 7919) % size(es)] AS b, i "
         f"CREATE (a)-[r:DEALGRAPH_BENCH_PROBE]->(b) SET r = {{{_PROBE_PROPS}}}")
    t = time.perf_counter()
    with driver.session(database=database) as s:
        for lo in range(0, n, batch):
            s.execute_write(lambda tx: tx.run(q, lo=lo, hi=min(lo + batch, n) - 1).consume())
    el = time.perf_counter() - t
    with driver.session(database=database) as s:
        while s.execute_write(lambda tx: tx.run("MATCH ()-[r:DEALGRAPH_BENCH_PROBE]->() WITH r LIMIT 20000 "
                                                "DELETE r RETURN count(*) AS n").single()["n"]):
            pass
    return n / el


#: ``--sweep``: (rows per UNWIND, statements per transaction, parallel sessions)
SWEEP = ((5_000, 1, 1), (10_000, 1, 1), (20_000, 1, 1), (50_000, 1, 1), (10_000, 5, 1), (10_000, 1, 2),
         (20_000, 1, 2))


def sweep(store, driver, database, server_pid, rounds: int, note) -> None:
    """First pushes of ``store`` into the emptied database with each :data:`SWEEP` setting
    (after two warm-up pushes), ``rounds`` times in rotated order (so slow and fast moments of a shared machine fall on
    every setting); the median wall time and deals/s, and the server's and the client's CPU
    seconds per push (less sensitive to the other load than wall time)."""
    import statistics

    import psutil

    from dealgraph.neo4j_backend.push import delete_own, push

    server = psutil.Process(server_pid) if server_pid else None
    me = psutil.Process()
    got: dict[tuple, list[tuple[float, float, float]]] = {c: [] for c in SWEEP}
    for _ in range(2):  # warm the server's JIT first: its first pushes are 2-3x slower than later ones
        delete_own(driver, database)
        push(store, driver, database=database)
    for r in range(rounds):
        for c in SWEEP[r % len(SWEEP):] + SWEEP[:r % len(SWEEP)]:
            delete_own(driver, database)
            b, tx, w = c
            s0 = server.cpu_times() if server else None
            c0 = me.cpu_times()
            t = time.perf_counter()
            push(store, driver, database=database, batch=b, tx_batches=tx, workers=w)
            el = time.perf_counter() - t
            c1 = me.cpu_times()
            s1 = server.cpu_times() if server else None
            scpu = (s1.user + s1.system - s0.user - s0.system) if server else float("nan")
            got[c].append((el, scpu, c1.user + c1.system - c0.user - c0.system))
            print(f"sweep round {r + 1}: batch {b}, {tx} per tx, {w} sessions: {el:.1f} s ({load()})", flush=True)
    nd = len(store.deals)
    for (b, tx, w), runs in got.items():
        el = statistics.median(x[0] for x in runs)
        note(f"sweep: {b:,} rows per UNWIND, {tx} per transaction ({b * tx:,} rows), {w} session{'s' * (w > 1)}",
             f"median {el:.1f} s = **{nd / el:,.0f} deals/s** (runs: {', '.join(f'{x[0]:.1f}' for x in runs)} s); "
             f"server CPU {statistics.median(x[1] for x in runs):.1f} s, client CPU "
             f"{statistics.median(x[2] for x in runs):.1f} s ({load()})")


def compare_engines(name: str, opts: dict, store, driver, database, note) -> None:
    """``name`` embedded on the store, then on the server with each of its engines (the
    projection, and Cypher where there is one); time, ratio to embedded, same table or not."""
    import pandas as pd

    from dealgraph.neo4j_backend.registry import ENGINES, run_cypher_query
    from dealgraph.queries.registry import run_query

    t = time.perf_counter()
    emb = run_query(name, store, **opts)
    te = time.perf_counter() - t
    shown = f"{name}{' ' + ' '.join(f'--{k} {v}' for k, v in opts.items()) if opts else ''}"
    note(f"{shown}, embedded", f"{te:.2f} s, {len(emb):,} rows ({load()})")
    for engine in (ENGINES[name][0] if name in ENGINES else ("projection",)):
        extra = {"engine": engine} if name in ENGINES else {}
        t = time.perf_counter()
        df = run_cypher_query(name, driver, database=database, **opts, **extra)
        el = time.perf_counter() - t
        try:
            pd.testing.assert_frame_equal(emb.reset_index(drop=True), df.reset_index(drop=True), check_dtype=False)
            same = "same table as embedded"
        except AssertionError:
            same = "DIFFERS from embedded"
        read = f" (of which reading the hops {df.attrs['read_s']:.2f} s)" if "read_s" in df.attrs else ""
        note(f"{shown}, {engine}", f"{el:.2f} s, {same}, **{el / max(te, 1e-9):,.1f}x** the embedded time{read} "
                                   f"({load()})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deals", type=int, default=100_000)
    ap.add_argument("--entities", type=int, default=None, help="default: deals / 5")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-length", type=int, nargs="*", default=[3, 4])
    ap.add_argument("--engines", nargs="+", default=["embedded", "projection", "cypher"])
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per circular-flows run")
    ap.add_argument("--batch", type=int, default=None, help="push batch (default: push.BATCH)")
    ap.add_argument("--baseline-push", default=None, help="another push.py to time in the same run")
    ap.add_argument("--page-cache", default="1g", help="local server's page cache (default 1g)")
    ap.add_argument("--store", default=None, help="an existing store of synthetic deals (skips synth + add)")
    ap.add_argument("--queries", nargs="*", default=["concentration", "hubs", "timeline", "circularity:samples=100"],
                    help="other queries to time embedded vs on the server (NAME or NAME:opt=v,opt=v)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of circular-flows embedded/projection (medians)")
    ap.add_argument("--sweep", type=int, default=0, metavar="ROUNDS",
                    help="first pushes with each batch/transaction/session setting, ROUNDS times each")
    ap.add_argument("--bulk", action="store_true", help="also time the offline bulk import (local server only)")
    ap.add_argument("--out", default=str(REPO / "BENCHMARKS-neo4j.md"))
    args = ap.parse_args(argv)

    from dealgraph.graph.store import open_store
    from dealgraph.loaders import synth
    from dealgraph.neo4j_backend.circular import circular_flows as server_cycles
    from dealgraph.neo4j_backend.connection import Settings, connect
    from dealgraph.neo4j_backend.push import BATCH, push
    from dealgraph.neo4j_backend.server import NEO4J_VERSION, LocalNeo4j
    from dealgraph.queries.circular import circular_flows as embedded_cycles

    batch = args.batch or BATCH
    n_ent = args.entities or max(20, args.deals // 5)
    rows: list[tuple[str, str]] = []
    load_start = os.getloadavg()

    def note(label: str, value: str) -> None:
        print(f"{label}: {value}", flush=True)
        rows.append((label, value))

    from dealgraph.errors import LoadError

    work = Path(tempfile.mkdtemp(prefix="dealgraph-neo4j-bench-"))
    t = time.perf_counter()
    seed = args.seed
    if args.store:  # a copy: the 1% edit below must not change the given store
        import shutil

        shutil.copyfile(args.store, work / "bench.db")
        store = open_store(work / "bench.db", seed=False)
        how = f"a copy of the store {args.store}"
    else:
        for _attempt in range(5):
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
        how = f"`dealgraph synth --seed {seed}`"
    deals = store.deals
    nd = len(deals)
    note("graph", f"{nd:,} synthetic deals ({how}), {len(store.entities):,} entities, "
                  f"{int(deals['payer'].isna().sum()):,} payer-less rounds ({time.perf_counter() - t:.1f} s)")
    try:
        from neo4j._codec.packstream import RUST_AVAILABLE
    except ImportError:
        RUST_AVAILABLE = False
    note("driver", f"neo4j {__import__('neo4j').__version__}, Rust extension "
                   f"{'on (neo4j-rust-ext)' if RUST_AVAILABLE else 'off'}")

    servers = []

    def start(name: str):
        if os.environ.get("NEO4J_URI"):
            return Settings.from_env(), "server at NEO4J_URI"
        t = time.perf_counter()
        srv = LocalNeo4j(data_dir=work / name, log_path=work / f"{name}.log", page_cache=args.page_cache).start()
        servers.append(srv)
        note(f"local Neo4j start ({name})", f"{time.perf_counter() - t:.1f} s (Neo4j {NEO4J_VERSION} community, "
                                            f"embedded launcher, {args.page_cache} page cache, -Xmx2g; {load()})")
        return Settings(uri=srv.uri), "local server"

    def timed_push(label, fn, driver, settings, **kw):
        t = time.perf_counter()
        s = fn(store, driver, database=settings.database, batch=batch, **kw)
        el = time.perf_counter() - t
        sent = getattr(s, "sent", {}).get("deals")
        what = (f"{sent['created']:,} created, {sent['updated']:,} updated, {sent['unchanged']:,} unchanged"
                if sent else ", ".join(f"{k} {v:,}" for k, v in s.counters.items() if v and k != "properties_set"))
        note(label, f"{el:.1f} s = **{nd / el:,.0f} deals/s** ({what}; {'no changes' if not s.changed else 'changed'};"
                    f" batches of {batch}; {load()})")
        return s

    try:
        settings, where = start("neo4j")
        driver = connect(settings)
        try:
            if os.environ.get("NEO4J_URI"):
                from dealgraph.neo4j_backend.push import delete_own

                delete_own(driver, settings.database)
            if args.sweep:
                sweep(store, driver, settings.database, servers[0].pid if servers else None, args.sweep, note)
                from dealgraph.neo4j_backend.push import delete_own

                delete_own(driver, settings.database)
            timed_push("push, first (empty database: CREATE)", push, driver, settings)
            timed_push("push, unchanged (fingerprints compared, nothing sent)", push, driver, settings)
            ceiling = write_ceiling(driver, settings.database, min(nd, 100_000), batch)
            note("server write ceiling", f"**{ceiling:,.0f} relationships/s** created by the server itself "
                                         f"(`UNWIND range(..) CREATE`, deal-sized property maps, no client; "
                                         f"{load()})")

            frames = store.export_frames()
            changed = frames["deals"].sample(frac=0.01, random_state=1).copy()
            changed["notes"] = f"changed for the benchmark at {time.time():.0f}"  # new each run
            store.import_frames({"deals": changed})
            timed_push(f"push, 1% changed ({len(changed):,} deals edited locally)", push, driver, settings)

            if args.max_length:  # compile (or load the cached) kernels outside the timings
                embedded_cycles(store, max_length=2, top=1)
            for k in args.max_length:
                base = None
                fast = [e for e in args.engines if e != "cypher"]
                runs: dict[str, list[float]] = {e: [] for e in args.engines}
                got: dict = {}
                # embedded and projection alternated --repeat times (medians); cypher once (it is slow)
                order = [e for _ in range(args.repeat) for e in fast] + [e for e in args.engines if e == "cypher"]
                failed: dict[str, str] = {}
                for engine in order:
                    if engine in failed:
                        continue
                    t = time.perf_counter()
                    try:
                        if engine == "embedded":
                            df = embedded_cycles(store, max_length=k, top=100, timeout=args.timeout)
                        else:
                            df = server_cycles(driver, database=settings.database, max_length=k, top=100,
                                               timeout=args.timeout, engine=engine)
                    except Exception as e:  # a timeout is a result worth recording
                        failed[engine] = (f"not finished: {type(e).__name__} after {time.perf_counter() - t:.0f} s "
                                          f"({load()})")
                        continue
                    runs[engine].append(time.perf_counter() - t)
                    got[engine] = df
                for engine in args.engines:
                    if engine in failed:
                        note(f"circular-flows k={k}, {engine}", failed[engine])
                        continue
                    el, df = statistics.median(runs[engine]), got[engine]
                    each = f" (median of {', '.join(f'{x:.2f}' for x in runs[engine])})" if len(runs[engine]) > 1 else ""
                    extra = ""
                    if base is None:
                        base = (el, df)
                    else:
                        te, emb = base
                        same = (df.attrs["total_cycles"] == emb.attrs["total_cycles"]
                                and list(df["cycle"]) == list(emb["cycle"]))
                        extra = (f", {'same cycles and top-100 as embedded' if same else 'DIFFERS from embedded'}"
                                 f", **{el / max(te, 1e-9):,.1f}x** the embedded time")
                        if "read_s" in df.attrs:
                            extra += f" (of which reading the hops {df.attrs['read_s']:.2f} s in the last run)"
                    note(f"circular-flows k={k}, {engine}",
                         f"{el:.2f} s{each}, {df.attrs['total_cycles']:,} cycles "
                         f"({'complete' if df.attrs['complete'] else 'TIMEOUT'}){extra} ({load()})")
            for spec in args.queries:  # the other graph searches: embedded vs projection (vs cypher)
                name, _, opt = spec.partition(":")
                opts = dict(kv.split("=") for kv in opt.split(",") if kv)
                opts = {k: int(v) if v.isdigit() else v for k, v in opts.items()}
                compare_engines(name, opts, store, driver, settings.database, note)
        finally:
            driver.close()

        if args.bulk and not os.environ.get("NEO4J_URI"):
            from dealgraph.neo4j_backend.bulk import bulk_push

            start("neo4j-bulk")
            srv = servers[-1]
            t = time.perf_counter()
            s = bulk_push(store, srv)
            el = time.perf_counter() - t
            tm = s.timings
            note("bulk push, first (offline `neo4j-admin database import full`, server stopped and restarted)",
                 f"{el:.1f} s = **{nd / el:,.0f} deals/s** (CSV files {tm['csv_s']:.1f} s, import "
                 f"{tm['import_s']:.1f} s = {nd / tm['import_s']:,.0f} deals/s, server stop {tm['stop_s']:.1f} s and "
                 f"start {tm['start_s']:.1f} s, constraints {tm['constraints_s']:.1f} s; {load()})")
            driver = connect(Settings(uri=srv.uri))
            try:
                timed_push("push after the bulk push (fingerprints compared, nothing sent)", push, driver,
                           Settings(uri=srv.uri))
            finally:
                driver.close()

        if args.baseline_push:
            old = _load_module(args.baseline_push)
            settings2, _ = start("neo4j-baseline")
            driver = connect(settings2)
            try:
                if os.environ.get("NEO4J_URI"):
                    from dealgraph.neo4j_backend.push import delete_own

                    delete_own(driver, settings2.database)
                timed_push(f"baseline push ({args.baseline_push}), first", old.push, driver, settings2)
                timed_push(f"baseline push ({args.baseline_push}), unchanged", old.push, driver, settings2)
            finally:
                driver.close()
    finally:
        for srv in servers:
            srv.stop()

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    cmd = " ".join(["python3 bench/neo4j_bench.py", *(argv if argv is not None else sys.argv[1:])])
    text = ["# Neo4j backend benchmark", "",
            f"`{cmd}` on {machine}, {time.strftime('%Y-%m-%d %H:%M')}. One run, one graph. Load average "
            f"at the start {load_start[0]:.1f} (1 min) / {load_start[1]:.1f} (5 min) on {os.cpu_count()} cores; "
            f"each line says the 1-minute load when it was measured.", "",
            "| measure | result |", "| --- | --- |"]
    text += [f"| {a} | {b} |" for a, b in rows]
    text.append("")
    Path(args.out).write_text("\n".join(text))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
