"""``dealgraph log`` and ``dealgraph undo``: the change log of the store and reverting a
change. The log itself: :mod:`dealgraph.graph.history`."""

from __future__ import annotations

import click

from dealgraph.cli.common import emit, format_option, pass_store
from dealgraph.cli.edit import dry_run_option, print_edit
from dealgraph.errors import EditError
from dealgraph.graph import history
from dealgraph.queries.output import clip, terminal_width


def _value(v) -> str:
    return "(empty)" if v is None or v == "" else repr(v)


#: A command in a log line is not shortened below this many characters (the counts go to a line of their own first).
MIN_COMMAND = 24


#: The counts of a change printed on a line of their own start under its time.
COUNTS_INDENT = 6


def change_lines(c: history.Change, undone: bool, width: int) -> list[str]:
    """One change as ``dealgraph log`` prints it: ``id  time  command  [counts]`` on one
    line when that fits ``width``; else the counts (and the undone mark) on a second line,
    indented to the time, and the command shortened with ``…`` to fit the first; a line still too long
    (a very narrow terminal) ends in ``…``."""
    head = f"{c.id:>4}  {c.time}  "
    tail = f"[{c.counts_text()}]" + ("  (undone)" if undone else "")
    line = f"{head}{c.command}  {tail}"
    if len(line) <= width:
        return [line]
    return [clip(head + clip(c.command, max(width - len(head), MIN_COMMAND)), width),
            clip(" " * COUNTS_INDENT + tail, width)]


@click.command("log")
@click.option("--deal", "deal_id", metavar="ID", help="The history of one deal (by deal_id), with its sources.")
@click.option("--entity", "entity_id", metavar="ID", help="The history of one entity (by id), with its sources.")
@format_option
@pass_store
def log_command(store, deal_id, entity_id, fmt) -> None:
    """List the changes made to the store, newest first: id, time (UTC), command, what changed.

    Every add, edit, delete, merge, undo and neo4j pull is recorded with its command line,
    its input files (name and sha256) and the rows it inserted, changed (old and new
    values) and deleted. `dealgraph undo ID` reverts one. Lines fit the terminal (a long
    command ends in …); --format csv/json/markdown gives every change whole (columns id,
    time, command, changes, undone, undoes).
    """
    if deal_id and entity_id:
        raise click.UsageError("give --deal or --entity, not both")
    if deal_id or entity_id:
        if fmt != "table":
            raise click.UsageError("--format applies to the list of changes, not to --deal / --entity")
        table, key = ("deals", deal_id) if deal_id else ("entities", entity_id)
        _fact(store, table, key)
        _observations(store, key)
        return
    log = store.log()
    gone = history.undone(log)
    if fmt != "table":
        import pandas as pd

        emit(pd.DataFrame([{"id": c.id, "time": c.time, "command": c.command, "changes": c.counts_text(),
                            "undone": c.id in gone, "undoes": c.undoes} for c in reversed(log)],
                          columns=["id", "time", "command", "changes", "undone", "undoes"]), fmt)
        return
    if not log:
        click.echo("no changes recorded")
        return
    width = terminal_width()
    for c in reversed(log):
        for line in change_lines(c, c.id in gone, width):
            click.echo(line)


def _fact(store, table: str, key: str) -> None:
    noun = "deal" if table == "deals" else "entity"
    events = store.fact_history(table, key)
    width = terminal_width()
    if not events:
        raise EditError(f"no {noun} {key!r} in the change log")
    click.echo(f"{noun} {key}: {len(events)} change{'s' if len(events) != 1 else ''}")
    for ev in events:
        c = ev.change
        click.echo(clip(f"{c.id:>4}  {c.time}  {history.OP_NAMES[ev.op]}  by {c.command}", width))
        for col, old, new in ev.fields:
            click.echo(f"      {col}: {_value(old)} -> {_value(new)}")
        if ev.row is not None and ev.row.get("source"):
            click.echo(f"      source: {ev.row['source']}")
        for f in c.files:
            if f.get("kind") not in (None, "", table):
                continue  # a file of another kind in the same add
            click.echo(f"      file: {f['name']}")   # whole: a path one opens
            click.echo(f"      sha256: {f['sha256']}")


def _observations(store, subject: str) -> None:
    """Under a deal's or entity's history: every stored observation of it, with its changes."""
    from dealgraph.queries.common import text
    from dealgraph.queries.observations import figure_text

    obs = store.observations
    mine = obs[obs["subject"] == subject]
    if not len(mine):
        return
    width = terminal_width()
    click.echo(f"observations of {subject}: {len(mine)}")
    for r in mine.to_dict("records"):
        when = f", published {text(r['published'])}" if text(r["published"]) else ""
        at = f" as of {r['as_of']}" if text(r["as_of"]) else ""
        click.echo(f"  {r['field']}{at}: {figure_text(r['field'], r['value'], r['value_qualifier'], r['value_usd'])} "
                   f"[{r['confidence']}{when}]")
        click.echo(f"      source: {r['source']}" + (f" {r['url']}" if text(r["url"]) else ""))
        key = "\x1f".join(text(r[k]) for k in history.table_keys("observations"))
        for ev in store.fact_history("observations", key):
            c = ev.change
            click.echo(clip(f"      {c.id:>4}  {c.time}  {history.OP_NAMES[ev.op]}  by {c.command}", width))


@click.command("undo")
@click.argument("change", type=int, required=False)
@dry_run_option
@pass_store
def undo_command(store, change, dry_run) -> None:
    """Revert CHANGE (an id from `dealgraph log`; default: the latest change not yet undone).

    The store goes back exactly to how it was before that change; the undo is itself a
    change in the log (undo it to re-apply). Refused, naming the later change, when a
    row it touched was changed since: undo that one first.
    """
    print_edit(store.undo(change, dry_run=dry_run), store)
