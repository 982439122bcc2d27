"""``dealgraph entity merge|rename|alias|delete`` and ``dealgraph deal delete``: correcting
the store. Each is one transaction, recorded in the change log (``dealgraph log``) and
revertible (``dealgraph undo``); ``--dry-run`` reports what it would change and writes
nothing. The operations themselves: :mod:`dealgraph.graph.edit`."""

from __future__ import annotations

import click

from dealgraph.cli.common import Group, pass_store
from dealgraph.graph.edit import EditSummary
from dealgraph.graph.schema import APPLY_ORDER

SHOWN = 20  # rows named per table before "... and N more"


def print_edit(summary: EditSummary, store) -> None:
    """What an edit or undo changed, as ``add`` reports it: a line per table (new, changed,
    deleted), the rows by key (changed ones with their changed columns), then where it
    was recorded."""
    click.echo(f"{summary.what}:")
    for table in APPLY_ORDER:
        r = summary.tables.get(table)
        if r is None:
            continue
        i, c, d = r.counts
        click.echo(f"{table}: {i} new, {c} changed, {d} deleted")
        for key in r.inserted:
            click.echo(f"  new {key}")
        for key, fields in r.changed:
            click.echo(f"  changed {key}: {', '.join(fields)}")
        for key in r.deleted:
            click.echo(f"  deleted {key}")
        hidden = sum(r.counts) - len(r.inserted) - len(r.changed) - len(r.deleted)
        if hidden > 0:
            click.echo(f"  ... and {hidden} more")
    if not summary.changed:
        click.echo("nothing to change; nothing written")
    elif summary.dry_run:
        click.echo("dry run; nothing written")
    else:
        click.echo(f"recorded as change {summary.change} in {store.path} (dealgraph undo {summary.change} reverts it)")


def dry_run_option(f):
    return click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")(f)


@click.group(cls=Group)
def entity_group() -> None:
    """Correct entities: merge a duplicate into the right one, rename, add an alias, delete.

    Entities are given by id (`dealgraph show NAME` tells an entity's id). Every
    command is one transaction, recorded in `dealgraph log` and revertible with
    `dealgraph undo`; --dry-run shows what it would change.
    """


@entity_group.command("merge", short_help="Merge a duplicate entity SOURCE into INTO (its deals and metrics re-pointed).")
@click.argument("source")
@click.argument("into")
@dry_run_option
@pass_store
def merge(store, source, into, dry_run) -> None:
    """Merge entity SOURCE into INTO: every deal and metric of SOURCE is re-pointed to INTO,
    SOURCE's id, name and aliases become aliases of INTO, and SOURCE is removed.

    Refused when a deal between the two would then pay itself (the deals are named).
    Example: dealgraph entity merge nvidai nvidia
    """
    print_edit(store.merge(source, into, dry_run=dry_run), store)


@entity_group.command("rename", short_help="Give an entity a new id everywhere (the old id stays an alias).")
@click.argument("ident", metavar="ID")
@click.argument("new_id", metavar="NEW-ID")
@dry_run_option
@pass_store
def rename(store, ident, new_id, dry_run) -> None:
    """Give entity ID the id NEW-ID, in every deal and metric too; the old id stays as an alias."""
    print_edit(store.rename(ident, new_id, dry_run=dry_run), store)


@entity_group.command("alias", short_help="Add a name an entity answers to in the files you add.")
@click.argument("ident", metavar="ID")
@click.argument("alias")
@dry_run_option
@pass_store
def alias(store, ident, alias, dry_run) -> None:
    """Let entity ID also be called ALIAS in files you add (refused if ALIAS names another entity)."""
    print_edit(store.alias(ident, alias, dry_run=dry_run), store)


@entity_group.command("delete", short_help="Delete an entity (refused while deals use it, unless --cascade).")
@click.argument("ident", metavar="ID")
@click.option("--cascade", is_flag=True, help="Also delete the deals and metrics that refer to it.")
@dry_run_option
@pass_store
def delete_entity(store, ident, cascade, dry_run) -> None:
    """Delete entity ID. Refused while deals or metrics refer to it (they are listed), unless --cascade."""
    print_edit(store.delete_entity(ident, cascade=cascade, dry_run=dry_run), store)


@click.group(cls=Group)
def deal_group() -> None:
    """Correct deals: delete wrong ones (to change a deal, add a file with its deal_id and the new values)."""


@deal_group.command("delete", short_help="Delete deals by id.")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@dry_run_option
@pass_store
def delete_deals(store, ids, dry_run) -> None:
    """Delete the deals with these ids (`dealgraph deals` lists ids); any unknown id: nothing is deleted."""
    print_edit(store.delete_deals(list(ids), dry_run=dry_run), store)
