"""The deal store: one SQLite file holding entities, deals, metrics and FX rates.

``open_store()`` opens (creating on first use, seeded with the sample data) the
store at ``--db``, ``$DEALGRAPH_DB`` or the user's data directory. Reading gives
pandas DataFrames (``store.deals``, ``store.entities``, ``store.metrics``,
``store.fx``) and a networkx graph (``store.graph()``).

Writing (``add`` / ``import_frames``) is all-or-nothing: every file is validated
first; any problem means nothing is written. A valid batch is applied in one
SQLite transaction (``BEGIN IMMEDIATE``: concurrent adds queue and both land;
a process killed mid-way leaves the store as it was). New rows are inserted,
rows whose key exists with other values are updated (and reported field by
field), identical rows are left alone, so re-running an add is safe.
"""

from __future__ import annotations

import json
import os
import sqlite3
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from typing import TYPE_CHECKING

from dealgraph import snapshot
from dealgraph.graph.schema import DEAL_METRIC_COLUMNS, FILE_KINDS
from dealgraph.loaders.amounts import format_amount, format_number
from dealgraph.loaders.csv import LoadError, Problem, read_csv_file
from dealgraph.loaders.resolve import convert_to_usd, entity_lookup, resolve_refs
from dealgraph.loaders.validate import DEAL_MONEY_COLUMNS, validate_table

if TYPE_CHECKING:
    import networkx as nx

# Tables: column -> SQL type; the first columns listed in KEYS form the primary key.
TABLES: dict[str, dict[str, str]] = {
    "entities": {"id": "TEXT", "name": "TEXT", "kind": "TEXT", "aliases": "TEXT", "ticker": "TEXT",
                 "country": "TEXT", "source": "TEXT", "notes": "TEXT", "extra": "TEXT"},
    "fx": {"currency": "TEXT", "date": "TEXT", "date_key": "INTEGER", "date_precision": "INTEGER",
           "usd_per_unit": "REAL", "source": "TEXT"},
    "deals": {"deal_id": "TEXT", "date": "TEXT", "date_key": "INTEGER", "date_precision": "INTEGER",
              "type": "TEXT", "payer": "TEXT", "payee": "TEXT", "amount": "REAL", "amount_qualifier": "TEXT",
              "currency": "TEXT", "fx_rate": "REAL", "fx_date": "TEXT", "amount_usd": "REAL", "status": "TEXT",
              "stake_pct": "REAL",
              "post_money_valuation": "REAL", "post_money_valuation_qualifier": "TEXT",
              "target_revenue": "REAL", "target_revenue_qualifier": "TEXT",
              "acquirer_market_cap": "REAL", "acquirer_market_cap_qualifier": "TEXT",
              "source": "TEXT", "notes": "TEXT", "extra": "TEXT"},
    "metrics": {"entity": "TEXT", "metric": "TEXT", "date": "TEXT", "source": "TEXT", "date_key": "INTEGER",
                "date_precision": "INTEGER", "value": "REAL", "value_qualifier": "TEXT", "currency": "TEXT",
                "fx_rate": "REAL", "value_usd": "REAL", "notes": "TEXT", "extra": "TEXT"},
}
KEYS: dict[str, tuple[str, ...]] = {
    "entities": ("id",), "fx": ("currency", "date"), "deals": ("deal_id",),
    "metrics": ("entity", "metric", "date", "source"),
}
#: Kinds in the order a batch applies them: what deals and metrics refer to comes first.
APPLY_ORDER = ("entities", "fx", "deals", "metrics")
SAMPLE_FILES = ("entities.csv", "fx.csv", "deals.csv", "metrics.csv")


def default_path() -> Path:
    """``$DEALGRAPH_DB``, else ``deals.db`` in the user's data directory."""
    env = os.environ.get("DEALGRAPH_DB")
    if env:
        return Path(env)
    from platformdirs import user_data_dir
    return Path(user_data_dir("dealgraph")) / "deals.db"


def sample_files() -> list[Path]:
    """The sample data CSVs shipped in ``data/``, in apply order."""
    root = resources.files("dealgraph.data")
    return [Path(str(root / f)) for f in SAMPLE_FILES if (root / f).is_file()]


def open_store(path: str | os.PathLike | None = None, *, seed: bool = True) -> "Store":
    """Open the store at ``path`` (see :func:`default_path`), creating it on first use.

    A new store is built in a temporary file beside the target and linked into place
    atomically, so two processes starting at once never see a half-made store.
    ``seed=False`` creates it empty instead of loading the sample data.
    """
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".dealgraph-", suffix=".db", dir=path.parent)
        os.close(fd)
        try:
            fresh = Store(tmp)
            fresh._create_schema()
            if seed:
                fresh.add(sample_files(), strict=True)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.unlink(tmp + suffix)
                except FileNotFoundError:
                    pass
            shutil.rmtree(snapshot._dir(Path(tmp)), ignore_errors=True)
    return Store(path)


@dataclass
class FileSummary:
    """What one input file did (or would do) to the store."""

    path: str
    kind: str
    rows: int
    inserted: int = 0
    updated: list[tuple[str, list[str]]] = field(default_factory=list)  # key, changed fields
    unchanged: int = 0


@dataclass
class AddSummary:
    files: list[FileSummary] = field(default_factory=list)
    new_entities: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    dry_run: bool = False


class Store:
    """A dealgraph store (a SQLite file). Use :func:`open_store` to get one."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._cache: dict[str, tuple[int, pd.DataFrame]] = {}
        self._store_id: str | None = None

    def __repr__(self) -> str:
        return f"<dealgraph Store {str(self.path)!r}>"

    # -- connection -------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=120, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA busy_timeout=120000")
        return con

    def _create_schema(self) -> None:
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            for table, cols in TABLES.items():
                body = ", ".join(f'"{c}" {t}' for c, t in cols.items())
                keys = ", ".join(f'"{k}"' for k in KEYS[table])
                con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body}, PRIMARY KEY ({keys})) WITHOUT ROWID")
            _ensure_meta(con)
            con.execute("COMMIT")
        finally:
            con.close()

    def _generation(self, con: sqlite3.Connection, name: str) -> int:
        """How many committed writes ``name`` has seen: the key of every cached copy."""
        row = con.execute("SELECT value FROM meta WHERE key = ?", (f"gen:{name}",)).fetchone()
        return int(row[0]) if row else 0

    def _tag(self, gen: int) -> str | None:
        """The key of a snapshot: store id and generation (None for a store made before
        stores had ids: no snapshots until its next write adds one)."""
        if self._store_id is None:
            con = sqlite3.connect(self.path)
            try:
                row = con.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
            finally:
                con.close()
            if row is None:
                return None
            self._store_id = row[0]
        return f"{self._store_id}:{gen}"

    def _cached(self, name: str, gen: int) -> pd.DataFrame | None:
        """The table at generation ``gen`` from memory or the columnar snapshot, if either has it."""
        hit = self._cache.get(name)
        if hit and hit[0] == gen:
            return hit[1]
        df = snapshot.load(self.path, name, self._tag(gen))
        if df is not None:
            self._cache[name] = (gen, df)
        return df

    def _load(self, con: sqlite3.Connection, name: str) -> tuple[int, pd.DataFrame]:
        gen = self._generation(con, name)
        df = self._cached(name, gen)
        if df is None:
            df = _read_table(con, name)
            self._cache[name] = (gen, df)
            snapshot.save(self.path, name, self._tag(gen), df)
        return gen, df

    # -- reading ----------------------------------------------------------
    def _table(self, name: str) -> pd.DataFrame:
        con = self._connect()
        try:
            return self._load(con, name)[1]
        finally:
            con.close()

    @property
    def entities(self) -> pd.DataFrame:
        """One row per entity: id, name, kind, aliases, ticker, country, source, notes, extra."""
        return self._table("entities")

    @property
    def fx(self) -> pd.DataFrame:
        """FX rates: currency, date, usd_per_unit, source."""
        return self._table("fx")

    @property
    def deals(self) -> pd.DataFrame:
        """One row per deal (see the README's CSV reference), with ``*_usd`` columns
        for every money figure (the deal's FX rate applied)."""
        return with_usd(self._table("deals"))

    @property
    def metrics(self) -> pd.DataFrame:
        """Every metric observation: see :func:`observations`."""
        return observations(self._table("metrics"), self.deals)

    def graph(self, *, as_of: str | None = None, status=None) -> "nx.MultiDiGraph":
        """The money graph: nodes are entity ids (entity columns as attributes), one
        edge per deal from payer to payee keyed by ``deal_id`` with every deal column
        as attributes. Rounds with no payer record valuations, not money edges, so
        they are not edges. ``as_of``/``status`` filter deals as queries do."""
        import networkx as nx

        from dealgraph.queries.filters import select_deals

        g = nx.MultiDiGraph()
        ents = self.entities.drop(columns=["extra"])
        g.add_nodes_from((r["id"], r) for r in _records(ents))
        deals = select_deals(self.deals, as_of=as_of, status=status)
        deals = deals[deals["payer"].notna()]
        g.add_edges_from((r["payer"], r["payee"], r["deal_id"], r) for r in _records(deals))
        return g

    # -- writing ----------------------------------------------------------
    def add(self, paths: Iterable[str | os.PathLike], *, strict: bool = False, dry_run: bool = False,
            encoding: str | None = None, progress: Callable[[str], None] | None = None) -> AddSummary:
        """Validate CSV files of any kind (recognised by header) and apply them together.

        Raises :class:`~dealgraph.loaders.csv.LoadError` listing every problem, having
        written nothing. ``dry_run`` validates and reports what would change.
        """
        tables, problems = [], []
        for p in paths:
            if progress:
                progress(f"reading {p}")
            try:
                tables.append(read_csv_file(p, encoding=encoding))
            except LoadError as e:
                problems.extend(e.problems)
        batches = []
        for t in tables:
            if progress:
                progress(f"validating {t.path}")
            rows, probs = validate_table(t)
            problems.extend(probs)
            batches.append((t, rows))
        if problems:
            raise LoadError(problems)
        return self._apply(batches, strict=strict, dry_run=dry_run, progress=progress)

    def import_frames(self, frames: dict[str, pd.DataFrame], *, replace: bool = False, strict: bool = True,
                      origin: str = "<frames>") -> AddSummary:
        """Validate and apply frames in the CSV schema (text cells), as ``add`` does
        for files. ``replace=True`` empties the store first, in the same transaction."""
        from dealgraph.loaders.csv import CsvTable

        batches, problems = [], []
        for kind in APPLY_ORDER:
            df = frames.get(kind)
            if df is None or len(df) == 0:
                continue
            df = df.astype("string").fillna("").reset_index(drop=True)
            t = CsvTable(f"{origin}/{kind}", kind, list(df.columns), df)
            t._lines = list(range(2, len(df) + 2))
            rows, probs = validate_table(t)
            problems.extend(probs)
            batches.append((t, rows))
        if problems:
            raise LoadError(problems)
        return self._apply(batches, strict=strict, dry_run=False, replace=replace)

    def _apply(self, batches, *, strict: bool, dry_run: bool, replace: bool = False,
               progress: Callable[[str], None] | None = None) -> AddSummary:
        batches = sorted(batches, key=lambda b: APPLY_ORDER.index(b[0].kind))
        con = self._connect()
        summary = AddSummary(dry_run=dry_run)
        try:
            con.execute("BEGIN IMMEDIATE")  # take the write lock before reading what we resolve against
            _ensure_meta(con)
            if replace:
                for table in TABLES:
                    con.execute(f"DELETE FROM {table}")
            current: dict[str, tuple[int, pd.DataFrame]] = {}  # table -> (generation, rows) as we write

            def table_now(name: str) -> tuple[int, pd.DataFrame]:
                if name not in current:
                    current[name] = (self._generation(con, name), _empty_table(name)) if replace else self._load(con, name)
                return current[name]

            entities, fx = table_now("entities")[1], table_now("fx")[1]
            incoming_entities = [r for t, r in batches if t.kind == "entities"]
            if incoming_entities:
                entities = pd.concat([entities] + [r.drop(columns="_row") for r in incoming_entities], ignore_index=True)
            incoming_fx = [r for t, r in batches if t.kind == "fx"]
            if incoming_fx:
                fx = pd.concat([fx] + [r.drop(columns="_row") for r in incoming_fx], ignore_index=True)
            lookup = entity_lookup(entities)
            created: dict[str, str] = {}
            problems: list[Problem] = []
            prepared = []
            written: dict[str, bool] = {}
            for t, rows in batches:
                if progress:
                    progress(f"resolving {t.path}")
                rows = _resolve(t, rows, lookup, fx, strict, created, problems)
                prepared.append((t, rows))
            if problems:
                raise LoadError(problems)
            if created:
                new = pd.DataFrame({"id": list(created), "name": list(created.values()), "kind": "company",
                                    "aliases": "", "ticker": "", "country": "",
                                    "source": "created by dealgraph add from a deal's payer/payee", "notes": "",
                                    "extra": "{}"})
                summary.new_entities = sorted(created.items())
                prepared.insert(0, (None, new.assign(_kind="entities")))
            for t, rows in prepared:
                kind = t.kind if t is not None else "entities"
                rows = rows.drop(columns=[c for c in ("_row", "_kind") if c in rows.columns])
                rows = rows.drop_duplicates(list(KEYS[kind]), keep="first")
                if progress and t is not None:
                    progress(f"writing {t.path}")
                gen, now = table_now(kind)
                fs, merged = _upsert(con, kind, rows, now)
                current[kind] = (gen, merged)
                written[kind] = True
                if t is not None:
                    fs.path, fs.rows = t.path, len(t.frame)
                    summary.files.append(fs)
            if dry_run:
                con.execute("ROLLBACK")
            else:
                changed = set(written) | (set(TABLES) if replace else set())
                for table in changed:
                    con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ?", (f"gen:{table}",))
                con.execute("COMMIT")
                for table in changed:  # the cached copies move to the committed generation
                    gen, rows = table_now(table)
                    self._cache[table] = (gen + 1, rows)
                    snapshot.save(self.path, table, self._tag(gen + 1), rows)
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()
        return summary

    # -- export -----------------------------------------------------------
    def export_frames(self) -> dict[str, pd.DataFrame]:
        """Every table as text in the CSV schema: adding these reproduces the store."""
        return frames_from_tables({kind: self._table(kind) for kind in APPLY_ORDER})

    def export_csv(self, outdir: str | os.PathLike, *, spreadsheet_safe: bool = False) -> list[Path]:
        """Write ``entities.csv``, ``fx.csv``, ``deals.csv``, ``metrics.csv`` to ``outdir``
        (each file written atomically). ``spreadsheet_safe`` neutralises cells a
        spreadsheet would run as a formula (leading ``= + - @``, tab, CR) with a ``'``."""
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        written = []
        for kind, df in self.export_frames().items():
            if spreadsheet_safe:
                df = df.map(_neutralise)
            target = outdir / f"{kind}.csv"
            fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".csv", dir=outdir)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                df.to_csv(f, index=False, lineterminator="\n")
            os.replace(tmp, target)
            written.append(target)
        return written


def _tuples(df: pd.DataFrame):
    """Rows as tuples with None for missing values, built column-wise (fast for big frames)."""
    cols = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_float_dtype(s):
            a = s.to_numpy(dtype=float)
            cols.append(np.where(np.isnan(a), None, a).tolist())
        elif pd.api.types.is_integer_dtype(s):
            cols.append(s.tolist())
        else:
            cols.append(s.astype(object).where(s.notna(), None).tolist())
    return zip(*cols)


def with_usd(deals: pd.DataFrame) -> pd.DataFrame:
    """Add ``<figure>_usd`` for every money figure of a deals table (once; the
    table is cached, so this runs once per generation)."""
    if "post_money_valuation_usd" not in deals.columns:
        for col in DEAL_MONEY_COLUMNS:
            deals[col + "_usd"] = deals[col] * deals["fx_rate"]
    return deals


def observations(metrics: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """Every metric observation: the metrics table plus the figures deal rows carry
    (``target_revenue`` -> revenue of the payee, ``acquirer_market_cap`` -> market cap
    of the payer, ``post_money_valuation`` -> of the payee, each at the deal date,
    with ``deal_id`` set). ``deals`` needs the ``*_usd`` columns of :func:`with_usd`."""
    own = metrics.assign(deal_id=pd.NA)
    parts = [own]
    for col, (metric, side) in DEAL_METRIC_COLUMNS.items():
        d = deals[deals[col].notna()]
        parts.append(pd.DataFrame({
            "entity": d[side], "metric": metric, "date": d["date"], "source": d["source"],
            "date_key": d["date_key"], "date_precision": d["date_precision"], "value": d[col],
            "value_qualifier": d[col + "_qualifier"], "currency": d["currency"], "fx_rate": d["fx_rate"],
            "value_usd": d[col + "_usd"], "notes": "", "extra": "{}", "deal_id": d["deal_id"]}))
    parts = [p for p in parts if len(p)]
    if not parts:
        return own
    return pd.concat(parts, ignore_index=True).astype({"deal_id": "string"})


def frames_from_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The CSV-schema text frames (what ``dealgraph export`` writes) for store tables
    (``entities``, ``fx``, ``deals``, ``metrics`` in the columns of :data:`TABLES`)."""
    out = {}
    for kind in APPLY_ORDER:
        df = tables[kind]
        text = pd.DataFrame(index=df.index)
        for c in FILE_KINDS[kind][0]:
            if kind == "deals" and c in ("amount",) + DEAL_MONEY_COLUMNS:
                text[c] = [format_amount(v, q) for v, q in zip(df[c], df[c + "_qualifier"])]
            elif kind == "metrics" and c == "value":
                text[c] = [format_amount(v, q) for v, q in zip(df["value"], df["value_qualifier"])]
            elif c in ("stake_pct", "usd_per_unit"):
                text[c] = [format_number(v) if pd.notna(v) else "" for v in df[c]]
            else:
                text[c] = df[c].astype("string").fillna("")
        if "extra" in df.columns:
            extras = [json.loads(e or "{}") for e in df["extra"].fillna("{}")]
            for k in sorted({k for e in extras for k in e}):
                text[k] = [e.get(k, "") for e in extras]
        out[kind] = text.reset_index(drop=True)
    return out


def _neutralise(v: str) -> str:
    return "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def _records(df: pd.DataFrame):
    """Rows as dicts with missing values as None (what networkx users expect)."""
    cols = list(df.columns)
    obj = df.astype(object).where(df.notna(), None)
    for row in obj.itertuples(index=False, name=None):
        yield dict(zip(cols, row))


def _ensure_meta(con: sqlite3.Connection) -> None:
    """The bookkeeping rows (idempotent, so older stores gain them on their next write)."""
    con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', '1')")
    con.execute("INSERT OR IGNORE INTO meta VALUES ('store_id', ?)", (uuid.uuid4().hex,))
    for table in TABLES:
        con.execute("INSERT OR IGNORE INTO meta VALUES (?, '0')", (f"gen:{table}",))


def _read_table(con: sqlite3.Connection, name: str) -> pd.DataFrame:
    cols = list(TABLES[name])
    cur = con.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM {name}")
    return as_table(pd.DataFrame.from_records(cur.fetchall(), columns=cols), name)


def _empty_table(name: str) -> pd.DataFrame:
    return as_table(pd.DataFrame(columns=list(TABLES[name])), name)


def as_table(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """``df`` with exactly the columns of store table ``name`` in their pandas dtypes
    (TEXT as string, REAL as float64 with NaN for missing, INTEGER as int64 with 0)."""
    df = df.reindex(columns=list(TABLES[name]))
    for c, t in TABLES[name].items():
        if t == "TEXT":
            df[c] = df[c].astype("string")
        elif t == "REAL":
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
        else:
            df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype("int64")
    return df


def _key_strings(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    if len(keys) == 1:
        return df[keys[0]].astype("string")
    out = df[keys[0]].astype("string")
    for k in keys[1:]:
        out = out.str.cat(df[k].astype("string").fillna(""), sep="\x1f")
    return out


def _resolve(t, rows: pd.DataFrame, lookup, fx, strict, created, problems) -> pd.DataFrame:
    """Entity ids for references and USD rates for non-USD rows; problems appended."""
    if t.kind in ("deals", "metrics"):
        for col in (("payer", "payee") if t.kind == "deals" else ("entity",)):
            ids, unknown = resolve_refs(rows[col], lookup, strict=strict, created=created)
            for i in np.flatnonzero(unknown.to_numpy())[:50]:
                problems.append(t.problem(int(rows["_row"].iloc[i]), col,
                                          f"unknown entity {rows[col].iloc[i]!r} (--strict: add it in an entities file first)"))
            rows = rows.assign(**{col: ids})
        if t.kind == "deals":
            same = rows["payer"].notna() & (rows["payer"] == rows["payee"])
            for i in np.flatnonzero(same.fillna(False).to_numpy())[:50]:
                problems.append(t.problem(int(rows["_row"].iloc[i]), "payee",
                                          f"payer and payee are the same entity ({rows['payee'].iloc[i]})"))
        rate, rate_date, missing = convert_to_usd(rows["currency"], rows["date_key"].to_numpy(),
                                                  rows["date_precision"].to_numpy(), fx)
        for i in np.flatnonzero(missing)[:50]:
            problems.append(t.problem(int(rows["_row"].iloc[i]), "currency",
                                      f"no FX rate for {rows['currency'].iloc[i]} on or before {rows['date'].iloc[i]}; "
                                      f"add one in an fx file (currency,date,usd_per_unit,source)"))
        rows = rows.assign(fx_rate=rate)
        if t.kind == "deals":
            rows = rows.assign(fx_date=rate_date, amount_usd=rows["amount"] * rate)
        else:
            rows = rows.assign(value_usd=rows["value"] * rate)
    return rows


def _upsert(con: sqlite3.Connection, table: str, rows: pd.DataFrame,
            current: pd.DataFrame) -> tuple[FileSummary, pd.DataFrame]:
    """Insert new rows and replace changed ones in ``table`` (inside the caller's
    transaction); identical rows are not written. ``current`` is the table's content
    now; returns the summary and the content after."""
    cols = list(TABLES[table])
    keys = list(KEYS[table])
    rows = as_table(rows, table).reset_index(drop=True)
    fs = FileSummary("", table, len(rows))
    k_rows = _key_strings(rows, keys)
    pos = pd.Index(_key_strings(current, keys)).get_indexer(k_rows) if len(current) else np.full(len(rows), -1)
    is_new = pos < 0
    both = rows[~is_new].reset_index(drop=True)
    old = current.iloc[pos[~is_new]].reset_index(drop=True)
    differs = np.zeros((len(both), len(cols)), dtype=bool)
    for j, c in enumerate(cols):
        if c in keys:
            continue
        a, b = both[c], old[c]
        ne = (a != b).fillna(True).to_numpy(dtype=bool) if len(a) else np.zeros(0, dtype=bool)
        differs[:, j] = ne & ~(a.isna() & b.isna()).to_numpy(dtype=bool)
    changed = differs.any(axis=1)
    for i in np.flatnonzero(changed):
        key = "/".join(str(both[k].iloc[i]) for k in keys)
        fs.updated.append((key, [c for j, c in enumerate(cols) if differs[i, j]]))
    qmarks = ", ".join("?" * len(cols))
    new_rows = rows[is_new]
    if len(new_rows):
        con.executemany(f"INSERT INTO main.{table} VALUES ({qmarks})", _tuples(new_rows))
    if changed.any():
        con.executemany(f"INSERT OR REPLACE INTO main.{table} VALUES ({qmarks})", _tuples(both[changed]))
    fs.inserted = int(is_new.sum())
    fs.unchanged = len(rows) - fs.inserted - int(changed.sum())
    if not len(new_rows) and not changed.any():
        return fs, current
    kept = current
    if changed.any():
        kept = current[~_key_strings(current, keys).isin(set(k_rows[~is_new][changed]))]
    merged = pd.concat([x for x in (kept, both[changed], new_rows) if len(x)], ignore_index=True)
    return fs, as_table(merged.sort_values(keys, ignore_index=True), table)
