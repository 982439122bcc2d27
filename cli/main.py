"""The ``dealgraph`` root group and the store commands (init, add, validate, deals,
show, export); the other command families load from their own modules on first use.
Options, the store and error handling: :mod:`dealgraph.cli.common`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from dealgraph.cli.common import Group, View, as_of_option, confidence_option, db_path, emit, entity_id, format_option, \
    in_existing_dir, known_values, pass_store, status_option, view_options
from dealgraph.graph.schema import DEAL_COLUMNS, DEAL_TYPES, DEALS, ENTITY_COLUMNS, NON_MONEY_TYPES, \
    UNDIRECTED_TYPES
from dealgraph.graph.store import AddSummary, Store, default_path, open_store
from dealgraph.queries.output import Layout

#: ``dealgraph --help`` lists the commands in these sections, in this order.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Store", ("init", "add", "validate", "export", "synth")),
    ("Browse", ("deals", "show")),
    ("Correct", ("entity", "deal", "log", "undo")),
    ("Queries", ("queries", "query", "check", "lint", "sql")),
    ("Views", ("viz", "report")),
    ("Neo4j", ("neo4j",)),
)


class LazyGroup(Group):
    """A group whose heavier commands (queries, views, Neo4j) are imported only when
    used, so `dealgraph deals` does not pay for pyvis, numba or the Neo4j driver."""

    lazy: dict[str, tuple[str, str]] = {
        "queries": ("dealgraph.cli.query:queries_command", "List the canned queries, one line each."),
        "query": ("dealgraph.cli.query:query_command", "Run a canned query (circular-flows, multiples, returns, ...)."),
        "check": ("dealgraph.cli.query:check_command", "Check stated figures in a claims CSV against recomputed ones."),
        "lint": ("dealgraph.cli.lint:lint_command", "Find likely duplicate deals and entities, and gaps; each with its fix."),
        "sql": ("dealgraph.cli.sql:sql_command", "Run one read-only SQL SELECT (DuckDB) over the store's tables."),
        "synth": ("dealgraph.cli.synth:synth_command", "Write realistic synthetic deal CSVs (for scale tests)."),
        "viz": ("dealgraph.cli.viz:viz_command", "Interactive network view of the deals in a browser (HTML)."),
        "report": ("dealgraph.cli.viz:report_command", "One self-contained HTML report: findings, charts, tables, network."),
        "neo4j": ("dealgraph.cli.neo4j:neo4j_group", "Push to / pull from Neo4j and run the canned queries in Cypher."),
        "entity": ("dealgraph.cli.edit:entity_group", "Merge, rename, alias or delete entities (undoable)."),
        "deal": ("dealgraph.cli.edit:deal_group", "Delete deals (undoable)."),
        "log": ("dealgraph.cli.history:log_command", "The changes made to the store, newest first; one deal's or entity's history."),
        "undo": ("dealgraph.cli.history:undo_command", "Revert a change from the log exactly (default: the latest)."),
    }

    def list_commands(self, ctx):
        return [name for _, names in SECTIONS for name in names]

    def get_command(self, ctx, name):
        if name in self.lazy and name not in self.commands:
            import importlib

            module, attr = self.lazy[name][0].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx, formatter):
        for section, names in SECTIONS:
            rows = [(name, self.commands[name].get_short_help_str(limit=150) if name in self.commands
                     else self.lazy[name][1]) for name in names]
            with formatter.section(section):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="DEALGRAPH_DB", type=click.Path(dir_okay=False),
              help="Store file (default: $DEALGRAPH_DB or deals.db in your user data directory).")
@click.version_option(package_name="dealgraph")
def main(db: str | None) -> None:
    """dealgraph: the money of the AI industry as a property graph.

    Deals (funding rounds, investments, acquisitions, licences, chip purchases, compute
    contracts, debt) flow from payer to payee. Load them from CSV, ask where money goes
    round in circles, what multiples buyers paid and what investors made.

    Exit status: 0 done, 1 bad input or a failed check (one `error:` line), 2 usage.
    """


@main.command()
@click.option("--empty", is_flag=True, help="Create the store without the sample data.")
def init(empty: bool) -> None:
    """Create the store (seeded with the article's sample deals unless --empty)."""
    path = Path(db_path() or default_path())
    if path.exists():
        click.echo(f"store already exists: {path}")
        return
    store = open_store(path, seed=not empty)
    click.echo(f"created {store.path} with {len(store.deals)} deals and {len(store.entities)} entities")


#: What a `deals` table shows (every column in the other formats).
DEAL_VIEW = ["deal_id", "date", "type", "payer", "payee", "amount_usd", "amount_qualifier", "amount_usd_low",
             "amount_usd_high", "status", "confidence", "source"]  # the interval folds into the amount: $1.0–2.0bn
DEALS_LAYOUT = Layout(("date", "payer", "payee", "amount_usd", "type", "flows", "status", "deal_id", "confidence",
                       "source"),
                      names=("payer", "payee"), noun="deals", total="amount_usd")


@main.command()
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help=f"Only deals of this type (repeatable or comma-separated): {', '.join(DEAL_TYPES)}.")
@click.option("--entity", help="Only deals where this entity pays or is paid.")
@as_of_option
@status_option(default="all")
@confidence_option
@format_option
@view_options
@pass_store
def deals(store: Store, types, entity, as_of, status, min_confidence, fmt, view: View) -> None:
    """List deals, oldest first, with the figures queries use (docs/queries.md#sources)."""
    from dealgraph.queries.filters import select_deals
    from dealgraph.queries.observations import effective

    store = effective(store, min_confidence)
    types = known_values("--type", types, tuple(DEAL_TYPES), noun="deal type")
    df = select_deals(store.deals, as_of=as_of, status=status)
    if types:
        df = df[df["type"].isin(types)]
    if entity:
        ident = entity_id(store.entities, entity)
        df = df[(df["payer"] == ident) | (df["payee"] == ident)]
    df = df.sort_values(["date_key", "deal_id"])
    df = df[DEAL_VIEW] if fmt == "table" else df.drop(columns=["date_key", "date_precision"])
    df = with_flows(df)
    emit(df.reset_index(drop=True), fmt, title="deals", layout=DEALS_LAYOUT, entities=store.entities, view=view)


def with_flows(df: pd.DataFrame) -> pd.DataFrame:
    """Deals with a ``flows`` column after ``type`` (``DealType.flow_text``: ``money``,
    ``nothing, undirected`` for a partnership) when any of them moves no money; else as
    they are (a money-only listing reads as before)."""
    if not df["type"].isin(NON_MONEY_TYPES).any():
        return df
    flows = df["type"].map(lambda t: DEAL_TYPES[t].flow_text if t in DEAL_TYPES else "")
    return df.assign(flows=flows)[[*df.columns[:list(df.columns).index("type") + 1], "flows",
                                   *df.columns[list(df.columns).index("type") + 1:]]]


#: The tables of `show`, in order; `--part` picks one (CSV prints one table: deals unless told).
SHOW_PARTS = ("entity", "deals", "metrics", "sources", "observations")
SHOW_LAYOUTS = {
    "entity": Layout(("field", "value"), noun="fields"),
    "deals": Layout(("date", "direction", "counterparty", "amount_usd", "type", "status", "deal_id", "confidence",
                     "source"),
                    names=("counterparty",), noun="deals", total="amount_usd"),
    "metrics": Layout(("metric", "date", "value_usd", "value", "deal_id", "source"), noun="observations"),
    "sources": Layout(("source",), noun="sources"),
    "observations": Layout(("chosen", "field", "figure", "source", "confidence", "published", "given_by", "subject",
                            "as_of", "url", "quote"), noun="observations"),
}
ROUND_COUNTERPARTY = "(round, no single investor)"


def _show_parts(store: Store, ident: str, as_of, status) -> dict[str, pd.DataFrame]:
    from dealgraph.queries.filters import select_deals

    ent = store.entities.set_index("id").loc[ident]
    d = select_deals(store.deals, as_of=as_of, status="all" if status is None else status)
    mine = d[(d["payer"] == ident) | (d["payee"] == ident)].sort_values(["date_key", "deal_id"])
    payer = mine["payer"].fillna("")
    undirected = mine["type"].isin(UNDIRECTED_TYPES).tolist()
    mine = mine.assign(direction=["partners with" if u else "pays" if p == ident else "paid by"
                                  for p, u in zip(payer, undirected)],
                       counterparty=[(e if p == ident else (p or ROUND_COUNTERPARTY))
                                     for p, e in zip(payer, mine["payee"])])
    mine = mine[["deal_id", "date", "direction", "counterparty", "type", "amount_usd", "amount_qualifier",
                 "amount_usd_low", "amount_usd_high", "status", "confidence", "source"]]
    m = store.metrics
    m = m[m["entity"] == ident].sort_values(["metric", "date_key"])
    if as_of is not None:
        from dealgraph.queries.filters import parse_as_of
        from dealgraph.graph.dates import truncate_key

        key, prec = parse_as_of(as_of)
        p = m["date_precision"].to_numpy().clip(max=prec)
        m = m[truncate_key(m["date_key"].to_numpy(), p) <= truncate_key(pd.Series(key, index=m.index).to_numpy(), p)]
    metrics = m[["metric", "date", "value", "value_qualifier", "value_low", "value_high", "currency", "value_usd",
                 "value_usd_low", "value_usd_high", "deal_id", "source"]]
    sources = sorted(set(mine["source"].dropna()) | set(m["source"].dropna()) |
                     ({ent["source"]} if pd.notna(ent["source"]) and ent["source"] else set()))
    fields = [c for c in ENTITY_COLUMNS if c != "notes"]  # id first, then what the entity file says
    head = pd.DataFrame({"field": fields, "value": [ident] + [ent[c] for c in fields[1:]]})
    return {"entity": head, "deals": mine.reset_index(drop=True), "metrics": metrics.reset_index(drop=True),
            "sources": pd.DataFrame({"source": sources}),
            "observations": observation_table(store, [ident] + list(mine["deal_id"]))}


def observation_table(store, subjects: list[str]) -> pd.DataFrame:
    """Every candidate figure of the facts of ``subjects`` (deal ids, entity ids) that
    observations give: the row's own and each source's, the one queries use marked
    ``chosen`` (docs/queries.md#sources), in rule order."""
    from dealgraph.queries.observations import PROVENANCE_COLUMNS, Effective

    from dealgraph.queries.observations import figure_text

    cols = ["chosen", "subject", "field", "as_of", "figure", "given_by"] + [c for c in PROVENANCE_COLUMNS if c not in (
        "chosen", "subject", "field", "as_of")]
    if not len(store.observations):
        return pd.DataFrame(columns=cols)
    view = store if isinstance(store, Effective) else Effective(store)
    p = view.provenance
    p = p[p["subject"].isin(subjects)]
    order = {s: i for i, s in enumerate(subjects)}
    p = p.assign(_o=p["subject"].map(order)).sort_values("_o", kind="stable").drop(columns="_o")
    p = p.assign(figure=[figure_text(f, v, q, u) for f, v, q, u in
                         zip(p["field"], p["value"], p["value_qualifier"], p["value_usd"])],
                 given_by=["the row" if own else "observation" for own in p["own"]])
    return p[cols].reset_index(drop=True)


@main.command()
@click.argument("entity")
@click.option("--part", type=click.Choice(SHOW_PARTS), default=None,
              help="Only this table (CSV prints one table: 'deals' unless --part says another).")
@as_of_option
@status_option(default="all")
@confidence_option
@format_option
@view_options
@pass_store
def show(store: Store, entity: str, part, as_of, status, min_confidence, fmt: str, view: View) -> None:
    """One entity or deal: who it is, its deals both ways, its metrics and sources, and
    every sourced observation of its figures (the one queries use marked chosen).

    --columns, --sort and --limit apply to the deals table (or to the --part shown);
    CSV prints one table, the deals unless --part names another.
    """
    from dealgraph.queries.observations import effective

    store = effective(store, min_confidence)
    if entity in set(store.deals["deal_id"]) and entity.lower() not in set(store.entities["id"]):
        return _show_deal(store, entity, fmt, view)
    ident = entity_id(store.entities, entity)
    parts = _show_parts(store, ident, as_of, status)
    if fmt == "csv" and part is None:
        part = "deals"
        click.echo("note: CSV is one table: the deals (--part entity|metrics|sources for the others)", err=True)
    chosen = (part,) if part else tuple(k for k in SHOW_PARTS if k != "observations" or len(parts[k]))
    name = store.entities.set_index("id").loc[ident, "name"]
    if fmt == "json":
        import json

        from dealgraph.queries.output import select, to_records
        out = {k: to_records(select(parts[k], **_view_args(view)) if k == (part or "deals") else parts[k])
               for k in chosen}
        if "entity" in out:
            out["entity"] = {r["field"]: r["value"] for r in out["entity"]}
        if "sources" in out:
            out["sources"] = [r["source"] for r in out["sources"]]
        click.echo(json.dumps(out if part is None else out[part], indent=2, ensure_ascii=False))
        return
    if fmt == "table":  # amounts in dollars with their qualifier; the other formats keep value and currency
        parts["metrics"] = parts["metrics"][["metric", "date", "value_usd", "value_qualifier", "value_usd_low",
                                             "value_usd_high", "deal_id", "source"]]
    for k in chosen:
        title = f"{name} ({ident})" if k == "entity" else k
        emit(parts[k], fmt, title=title, layout=SHOW_LAYOUTS[k], entities=store.entities,
             view=view if k == (part or "deals") else View(wide=view.wide))


def _show_deal(store, deal_id: str, fmt: str, view: View) -> None:
    """``show DEAL_ID``: the deal's fields, then every observation of its figures."""
    from dealgraph.queries.observations import figure_text

    d = store.deals.set_index("deal_id").loc[deal_id]
    fields = [c for c in DEAL_COLUMNS if c != "deal_id"]

    def shown(c: str) -> str:
        if pd.isna(d.get(c)):
            return ""
        if c in DEALS.amounts or c == "stake_pct":  # the figure queries use, as money (or a percentage)
            return figure_text(c, d[c], d.get(c + "_qualifier"), d.get(c + "_usd", d[c]))
        return str(d[c])
    head = pd.DataFrame({"field": ["deal_id"] + fields, "value": [deal_id] + [shown(c) for c in fields]})
    obs = observation_table(store, [deal_id])
    if fmt == "json":
        import json

        from dealgraph.queries.output import to_records
        click.echo(json.dumps({"deal": {r["field"]: r["value"] for r in to_records(head)},
                               "observations": to_records(obs)}, indent=2, ensure_ascii=False))
        return
    if fmt != "csv":
        emit(head, fmt, title=f"deal {deal_id}", layout=SHOW_LAYOUTS["entity"], view=View(wide=view.wide))
    emit(obs, fmt, title="observations", layout=SHOW_LAYOUTS["observations"], view=view)


def _view_args(view: View) -> dict:
    return {"columns": view.columns, "sort": view.sort, "limit": view.limit}


def _print_summary(summary: AddSummary, *, verb: str) -> None:
    for f in summary.files:
        click.echo(f"{f.path}: {f.kind}, {f.rows} rows: {f.inserted} new, {len(f.updated)} changed, "
                   f"{f.unchanged} unchanged")
        for key, fields in f.updated[:20]:
            click.echo(f"  changed {key}: {', '.join(fields)}")
        if len(f.updated) > 20:
            click.echo(f"  ... and {len(f.updated) - 20} more changed")
    if summary.new_entities:
        n = len(summary.new_entities)
        verb_ = "would be" if summary.dry_run else ("was" if n == 1 else "were")
        click.echo(f"NEW ENTITIES: {n} name{'s' if n != 1 else ''} matched no known entity and {verb_} created "
                   "(kind company); check none is a misspelling:")
        for i, name in summary.new_entities[:20]:
            click.echo(f"  + {i} ({name})")
        if n > 20:
            click.echo(f"  ... and {n - 20} more")
    click.echo(verb)


def _progress(n_files: int):
    """A progress bar on stderr over the stages of an add (read, validate, resolve,
    write each file), shown only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    task = bar.add_task("starting", total=4 * n_files)
    bar.start()

    seen: list[str] = []

    def step(msg: str) -> None:
        bar.update(task, description=msg, advance=1 if seen else 0)
        seen.append(msg)
    return bar, step


def _file_options(f):
    """What `add` and `validate` both take."""
    f = click.option("--encoding", help="The files' encoding when it is not UTF-8 (e.g. cp1252).")(f)
    f = click.option("--strict", is_flag=True, help="Refuse payer/payee names that match no known entity.")(f)
    f = click.option("--as-new", is_flag=True,
                     help="Add rows without a deal_id that match a stored deal's date, type, payer and payee "
                          "as new deals (they are refused as probable edits otherwise).")(f)
    f = click.option("--new-entity", "new_entities", multiple=True, metavar="NAME",
                     help="Accept this payer/payee name as a new entity although it is close to a known one "
                          "(repeatable).")(f)
    # directories too: read_csv_file refuses one with a `path: is a directory` line (exit 1)
    return click.argument("files", nargs=-1, required=True, type=click.Path())(f)


@main.command()
@_file_options
@pass_store
def add(store: Store, files, strict, encoding, new_entities, as_new) -> None:
    """Validate CSV files and xlsx workbooks and add them to the store, all or nothing.

    Each file's (or sheet's) kind (entities, deals, metrics, FX rates) is recognised by
    its header. Any problem in any file: every problem is listed as file:line:column:
    reason (file.xlsx:sheet!row:COLUMN: reason), exit code 1, nothing written. Re-adding
    a file changes nothing.
    """
    bar, progress = _progress(len(files))
    try:
        summary = store.add(files, strict=strict, encoding=encoding, progress=progress, new_entities=new_entities,
                            as_new=as_new)
    finally:
        if bar:
            bar.stop()
    _print_summary(summary, verb=f"added to {store.path}")


@main.command()
@_file_options
@pass_store
def validate(store: Store, files, strict, encoding, new_entities, as_new) -> None:
    """Run every check `add` runs and report what it would change; write nothing."""
    summary = store.add(files, strict=strict, encoding=encoding, dry_run=True, new_entities=new_entities,
                        as_new=as_new)
    _print_summary(summary, verb="valid; nothing written")


EXPORT_FORMATS: tuple[str, ...] = ("csv", "xlsx", "gexf", "graphml")


@main.command()
@click.argument("target", metavar="OUT", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True,
              help="csv: a folder of CSV files; xlsx: one workbook, a sheet per table; gexf/graphml: the network "
                   "for Gephi / Cytoscape.")
@click.option("--spreadsheet-safe", is_flag=True,
              help="csv only: prefix cells starting with = + - @ with ' so spreadsheets do not run them "
                   "(xlsx always writes such cells as quoted text).")
@click.option("--max-length", default=4, show_default=True, type=click.IntRange(2, 6),
              help="gexf/graphml: mark cycles of up to this many hops.")
@click.option("--cycles-top", default=100, show_default=True, type=click.IntRange(1),
              help="gexf/graphml: mark the top N cycles by bottleneck (as `query circular-flows --top N`).")
@pass_store
def export(store: Store, target, fmt, spreadsheet_safe, max_length, cycles_top) -> None:
    """Write the store: CSV files in the input schema (adding them reproduces the store),
    an Excel workbook (adding it does too) or a GEXF / GraphML network.

    OUT (a folder for csv, a file otherwise) is created when missing; the directory it is
    in must exist."""
    if spreadsheet_safe and fmt != "csv":
        raise click.UsageError("--spreadsheet-safe is for --format csv (xlsx always quotes such cells)")
    if fmt == "csv":
        in_existing_dir(target, "OUT", file=False)  # a mistyped path is refused, not created (exports.py: the others)
        for p in store.export_csv(target, spreadsheet_safe=spreadsheet_safe):
            click.echo(str(p))
        return
    from dealgraph.graph import exports

    if fmt == "xlsx":
        click.echo(str(exports.write_xlsx(store, target)))
    else:
        click.echo(str(exports.write_network(store, target, fmt, max_length=max_length, cycles_top=cycles_top)))
