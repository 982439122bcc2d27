"""First push into an empty database of a server dealgraph runs: Neo4j's offline bulk import.

``neo4j-admin database import full`` writes the store files directly from CSV, without
transactions, and is the fastest way into an *empty* database. It needs the database
offline and its files on this machine, so it is only for a server dealgraph manages
(``dealgraph neo4j serve``'s data directory, the test and benchmark servers): the
import tool's classes (``org.neo4j.importer`` in ``neo4j-import-tool``, run through
``org.neo4j.cli.AdminTool`` of ``neo4j-command-line``) are already among the server's
pinned jars (``server/jars.txt``), so nothing more is fetched.

The graph is exactly the one :func:`dealgraph.neo4j_backend.push.push` builds (layout in
:mod:`dealgraph.neo4j_backend.model`): the same rows (``push._kinds``), the same property
maps (a missing value or an empty ``extra`` is an absent property, every other value as
stored, strings with their exact text), the same fingerprints (:data:`model.FINGERPRINT`),
so a Bolt push after a bulk push finds every row unchanged and sends nothing, and later
pushes are incremental as usual. The constraints are created after the import (with them
the indexes every later ``MERGE`` uses).

How the files encode that: one CSV per node label / relationship type, each with a typed
header (``amount_usd:double``, ``date_key:long``); strings always quoted (an empty
string is ``""``), a missing value an empty unquoted field (the import tool leaves the
property out); floats in their shortest round-trip form, so every figure arrives exactly;
``--multiline-fields`` only when some text has a line break. pyarrow writes them
(``pyarrow.csv``, RFC 4180 quoting).

Convergence: the import replaces the database's files whole (``--overwrite-destination``)
and is refused unless the database holds nothing, so a bulk push killed at any moment
leaves a database that the next bulk push (or ``push --replace``) rewrites from scratch.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from dealgraph.errors import Neo4jError
from dealgraph.neo4j_backend import model as m
from dealgraph.neo4j_backend.push import EMPTY_EXTRA, PushSummary, _kinds, ensure_constraints

#: The import tool's entry point: ``neo4j-admin`` itself (neo4j-command-line).
ADMIN_MAIN = "org.neo4j.cli.AdminTool"
DATABASE = "neo4j"  # the community edition's one user database
_ARROW_TYPES = {pa.string(): "string", pa.large_string(): "string", pa.int64(): "long", pa.int32(): "long",
                pa.float64(): "double", pa.bool_(): "boolean"}


@dataclass
class ImportFiles:
    """The CSV files of one import and the tool's arguments for them."""

    args: list[str] = field(default_factory=list)
    multiline: bool = False
    rows: dict[str, int] = field(default_factory=dict)


def _props_table(df, skip, fp: np.ndarray) -> pa.Table:
    """The property columns of ``df`` (the columns push sends) plus the fingerprint, as Arrow;
    an empty ``extra`` is null (absent), as in :func:`push.prop_rows`."""
    cols = [c for c in df.columns if c not in skip]
    table = pa.Table.from_pandas(df[cols], preserve_index=False)
    if "extra" in cols:
        import pyarrow.compute as pc

        extra = table.column("extra")
        empty = pc.is_in(extra, pa.array(EMPTY_EXTRA))
        table = table.set_column(cols.index("extra"), "extra",
                                 pc.if_else(pc.fill_null(empty, False), pa.scalar(None, pa.string()), extra))
    return table.append_column(m.FINGERPRINT, pa.array(fp, pa.int64()))


def _header(table: pa.Table, ids: dict[str, str]) -> list[str]:
    """Typed header fields; ``ids``: column -> the import tool's role (``ID(Entity)``, ...)."""
    out = []
    for f in table.schema:
        if f.name in ids:
            out.append(f"{f.name}:{ids[f.name]}" if not f.name.startswith("_role") else f":{ids[f.name]}")
            continue
        t = _ARROW_TYPES.get(f.type)
        if t is None:
            raise Neo4jError(f"bulk import: no CSV type for column {f.name!r} ({f.type})")
        out.append(f"{f.name}:{t}")
    return out


def _write(path: Path, table: pa.Table, ids: dict[str, str]) -> bool:
    """Write ``table`` as a headed CSV; True when a text value has a line break."""
    header = _header(table, ids)
    with open(path, "wb") as f:
        f.write((",".join(header) + "\n").encode())
        pacsv.write_csv(table, f, pacsv.WriteOptions(include_header=False))
    import pyarrow.compute as pc

    return any(pa.types.is_string(c.type) and pc.any(pc.match_substring_regex(c, r"[\r\n]")).as_py()
               for c in table.columns)


def write_import_files(store, folder: Path) -> ImportFiles:
    """The store as the import tool's CSV files in ``folder`` (the graph :func:`push.push` builds)."""
    from dealgraph.graph.schema import relationship_type

    folder = Path(folder)
    out = ImportFiles()
    multiline = False
    kinds = {k.name: k for k in _kinds(store)}
    out.rows = {name: len(k.df) for name, k in kinds.items()}

    def nodes(name: str, labels: str, table: pa.Table, ids: dict[str, str]) -> None:
        nonlocal multiline
        path = folder / f"{name}.csv"
        multiline |= _write(path, table, ids)
        out.args.append(f"--nodes={labels}={path}")

    def rels(name: str, rel: str, table: pa.Table, ids: dict[str, str]) -> None:
        nonlocal multiline
        path = folder / f"{name}.csv"
        multiline |= _write(path, table, ids)
        out.args.append(f"--relationships={rel}={path}")

    ents = kinds["entities"]
    et = _props_table(ents.df, ents.skip, ents.fp)
    kind_col = ents.df["kind"].to_numpy(dtype=object)
    for kind, label in m.KIND_LABELS.items():
        sel = np.flatnonzero(kind_col == kind)
        if len(sel):
            nodes(f"entities-{kind}", f"{m.ENTITY}:{label}", et.take(sel), {"id": f"ID({m.ENTITY})"})

    fx = kinds["fx"]
    if len(fx.df):
        nodes("fx", m.FXRATE, _props_table(fx.df, fx.skip, fx.fp), {})

    deals = kinds["deals"]
    dt = _props_table(deals.df, deals.skip, deals.fp)
    payer = deals.df["payer"]
    named = payer.notna().to_numpy()
    types_ = pd.Categorical(deals.df["type"])  # a relationship type per distinct deal type, not per deal
    rel_of = np.array([relationship_type(t) for t in types_.categories], dtype=object)[types_.codes]
    for rel in m.DEAL_REL_TYPES:
        sel = np.flatnonzero(named & (rel_of == rel))
        if len(sel):
            ends = pa.table({"_role_start": pa.array(payer.iloc[sel].astype(object).tolist(), pa.string()),
                             "_role_end": pa.array(deals.df["payee"].iloc[sel].astype(object).tolist(), pa.string())})
            t = pa.Table.from_arrays(ends.columns + dt.take(sel).columns, names=ends.column_names + dt.column_names)
            rels(f"deals-{rel}", rel, t, {"_role_start": f"START_ID({m.ENTITY})", "_role_end": f"END_ID({m.ENTITY})"})
    rounds = np.flatnonzero(~named)
    if len(rounds):
        nodes("rounds", m.ROUND, dt.take(rounds), {"deal_id": f"ID({m.ROUND})"})
        raised = pa.table({"_role_start": pa.array(deals.df["payee"].iloc[rounds].astype(object).tolist(), pa.string()),
                           "_role_end": pa.array(deals.df["deal_id"].iloc[rounds].astype(object).tolist(),
                                                 pa.string())})
        rels("raised", m.RAISED, raised, {"_role_start": f"START_ID({m.ENTITY})", "_role_end": f"END_ID({m.ROUND})"})

    mets = kinds["metrics"]
    if len(mets.df):
        n = len(mets.df)
        mt = _props_table(mets.df, mets.skip, mets.fp)
        ids = pa.array([str(i) for i in range(n)], pa.string())
        nodes("metrics", m.METRIC, pa.Table.from_arrays([ids, *mt.columns], names=["_role_id", *mt.column_names]),
              {"_role_id": f"ID({m.METRIC})"})
        has = pa.table({"_role_start": pa.array(mets.df["entity"].astype(object).tolist(), pa.string()),
                        "_role_end": ids})
        rels("has-metric", m.HAS_METRIC, has,
             {"_role_start": f"START_ID({m.ENTITY})", "_role_end": f"END_ID({m.METRIC})"})
    out.multiline = multiline
    return out


def import_command(java: str, lib: Path, files: ImportFiles, report: Path) -> list[str]:
    """The command line of ``neo4j-admin database import full`` for ``files``."""
    cmd = [java, "-Xmx1g", "-XX:+UseG1GC", "-cp", str(Path(lib) / "*"), ADMIN_MAIN,
           "database", "import", "full", DATABASE, "--overwrite-destination=true", "--max-off-heap-memory=2g",
           f"--report-file={report}", *files.args]
    if files.multiline:
        cmd.append("--multiline-fields=true")
    return cmd  # the database name comes first: --nodes/--relationships take several files each


def is_empty(driver, database=None) -> bool:
    """True when the database holds no node at all (the import replaces everything in it)."""
    records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) > 0 AS any", database_=database)
    return not records[0]["any"]


def import_offline(store, data_dir: Path, *, cache: Path | None = None, echo=None) -> dict[str, float]:
    """Write the store into the (stopped) local server's database in ``data_dir`` with the
    import tool; returns seconds spent writing the CSV files and importing. The caller makes
    sure the database is empty and not in use (:func:`bulk_push` does)."""
    from dealgraph.neo4j_backend.java import prepare

    java, lib, _ = prepare(cache, echo=echo)
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dealgraph-import-") as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        files = write_import_files(store, tmp)
        csv_s = time.perf_counter() - t
        (tmp / "conf").mkdir()
        (tmp / "conf" / "neo4j.conf").write_text("")
        env = {**os.environ, "NEO4J_HOME": str(data_dir.resolve()), "NEO4J_CONF": str(tmp / "conf")}
        t = time.perf_counter()
        proc = subprocess.run(import_command(java, lib, files, tmp / "import.report"), env=env,
                              capture_output=True, text=True)
        import_s = time.perf_counter() - t
        (data_dir / "import.log").write_text(proc.stdout + proc.stderr)  # the tool's own report of its phases
        if proc.returncode != 0:
            lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()
                     and not ln.lstrip().startswith("at ")]
            raise Neo4jError(f"the bulk import into {data_dir} failed (exit {proc.returncode}): "
                             f"{' | '.join(lines[-3:]) or 'no output'}")
    done = re.search(r"Imported:\s+(\d+) nodes\s+(\d+) relationships\s+(\d+) properties", proc.stdout)
    counts = dict(zip(("nodes_created", "relationships_created", "properties_set"), map(int, done.groups()))) \
        if done else {}
    return {"csv_s": csv_s, "import_s": import_s, "rows": files.rows, "counts": counts}


#: Written into the data directory while a bulk push runs, removed when it is complete: a database
#: with this file is a bulk push's unfinished work, which the next bulk push may overwrite.
INCOMPLETE = "dealgraph-bulk-push.incomplete"


def bulk_push(store, server, *, echo=None) -> PushSummary:
    """First push of ``store`` into the empty database of ``server`` (a
    :class:`~dealgraph.neo4j_backend.server.LocalNeo4j` with a data directory, running or
    not): checks that the database is empty, stops the server, imports, starts it again
    and creates the constraints; a server that was not running is left stopped. Refused
    (:class:`Neo4jError`, nothing changed) when the database holds anything -- unless it is
    an unfinished bulk push (:data:`INCOMPLETE`), which is replaced. Returns a summary like
    :func:`push.push`'s (every row created) with the phases' seconds in ``timings``."""
    from dealgraph.neo4j_backend.connection import Settings, connect

    if server.data_dir is None:
        raise Neo4jError("a bulk push needs the server's data directory (a server dealgraph manages)")
    marker = Path(server.data_dir) / INCOMPLETE
    running = server.proc is not None and server.proc.poll() is None
    settings = Settings(uri=server.uri, user="neo4j", password=server.password)
    timings: dict = {}
    if not marker.exists():
        if not running:
            server.start()
        with connect(settings) as driver:
            empty = is_empty(driver)
        if not empty:
            if not running:
                server.stop()
            raise Neo4jError(f"the database in {server.data_dir} is not empty: a bulk push only fills an empty "
                             f"one (a plain push sends only what changed)")
        marker.write_text("a bulk push is writing this database; the next bulk push replaces it\n")
    t = time.perf_counter()
    server.stop()
    timings["stop_s"] = time.perf_counter() - t
    got = import_offline(store, server.data_dir, cache=server.cache, echo=echo)
    t = time.perf_counter()
    server.start()
    timings["start_s"] = time.perf_counter() - t
    summary = PushSummary()
    try:
        with connect(settings) as driver:
            t = time.perf_counter()
            ensure_constraints(driver, None, summary)
            timings["constraints_s"] = time.perf_counter() - t
    finally:
        if not running:
            server.stop()
    marker.unlink()
    rows = got.pop("rows")
    summary.rows = rows
    summary.sent = {k: {"created": n, "updated": 0, "unchanged": 0, "pruned": 0} for k, n in rows.items()}
    summary.counters.update(got.pop("counts"))
    summary.timings = {**timings, **got}
    return summary
