"""What every ``dealgraph`` command shares: options, the store, printing tables, and
the one place errors become messages and exit codes.

Exit codes (:class:`Group` applies them to every command below the root):

* **0** -- done.
* **1** -- bad input or a failed check: the command line parsed but dealgraph refused
  what it says (an unknown entity, a bad ``--as-of`` date or ``--status``, an option
  value out of range, a CSV file that does not validate, an unreachable Neo4j) or
  ``check --strict`` found an unsupported claim. Any
  :class:`~dealgraph.errors.DealgraphError` prints ``error: <message>`` (a
  :class:`~dealgraph.errors.LoadError` first lists its ``file:line:column: reason``
  problems) and exits 1.
* **2** -- usage: click could not parse the command line (unknown command or
  option, missing argument, a value of the wrong type or not among the choices, a
  file that does not exist); click prints the usage and the reason.

Anything else that escapes a command is a bug in dealgraph and shows as one: a
traceback, never a one-line "error".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import click
import pandas as pd

from dealgraph.errors import DealgraphError, LoadError, QueryError
from dealgraph.queries.output import DEFAULT_LAYOUT, FORMATS, Layout, render
from dealgraph.queries.registry import COMMON_OPTIONS, Option

# ---------------------------------------------------------------------------
# errors -> messages and exit codes
# ---------------------------------------------------------------------------


def error_lines(e: DealgraphError) -> list[str]:
    """What the terminal shows for ``e``: a LoadError's problems, then one ``error:`` line."""
    if isinstance(e, LoadError):
        n, total = len(e.problems), getattr(e, "total", len(e.problems))
        counted = f"{total} problem{'s' if total != 1 else ''} found" if total == n \
            else f"showing {n} of {total} problems"
        return [str(p) for p in e.problems] + [f"error: {counted}; nothing was written"]
    return [f"error: {e}"]


class Refused(click.ClickException):
    """A :class:`DealgraphError` on its way out of click: shown as :func:`error_lines`, exit 1."""

    exit_code = 1

    def __init__(self, error: DealgraphError):
        super().__init__(str(error))
        self.error = error

    def show(self, file=None) -> None:
        for line in error_lines(self.error):
            click.echo(line, err=True)


class Group(click.Group):
    """A click group that turns each :class:`DealgraphError` raised below it into
    :class:`Refused` (exit 1). Click's own errors keep their codes; any other
    exception propagates (a bug)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DealgraphError as e:
            raise Refused(e) from e


# ---------------------------------------------------------------------------
# options
# ---------------------------------------------------------------------------

_HELP = {o.name: o.help for o in COMMON_OPTIONS}


def format_option(f):
    """``--format table|csv|json|markdown`` (as ``fmt``)."""
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="Output format.")(f)


def as_of_option(f):
    """``--as-of DATE``: only deals dated on or before it."""
    return click.option("--as-of", "as_of", default=None, metavar="DATE", help=_HELP["as_of"])(f)


def status_option(default: str | None = None):
    """``--status``: which deal statuses count; ``default=None`` is the queries' default
    (all but terminated), a string is this command's own default."""
    help = _HELP["status"] if default is None else f"Comma-separated deal statuses, or 'all' (default: {default})."
    return click.option("--status", default=default, help=help)


def confidence_option(f):
    """``--min-confidence LEVEL``: only deals and sourced figures this sure or surer."""
    from dealgraph.graph.schema import CONFIDENCES

    return click.option("--min-confidence", "min_confidence", type=click.Choice(CONFIDENCES), default=None,
                        help=_HELP["min_confidence"])(f)


def explain_option(f):
    """``--explain``: below the result, the source of each figure it used and the alternatives."""
    return click.option("--explain", is_flag=True, help="Below the result: each figure used, the source it came "
                                                        "from and the other sources' figures (docs/queries.md).")(f)


def selection_options(f):
    """``--as-of``, ``--status`` and ``--min-confidence`` as every query takes them."""
    return as_of_option(status_option()(confidence_option(f)))


@dataclass(frozen=True)
class View:
    """What of a result to print: ``--columns``, ``--sort``, ``--limit`` (every format)
    and ``--wide`` (tables: every column at full width)."""

    wide: bool = False
    columns: str | None = None
    sort: str | None = None
    limit: int | None = None


def view_options(f):
    """``--wide``, ``--columns A,B``, ``--sort [-]COL``, ``--limit N``, given to ``f`` as
    one ``view`` (:class:`View`)."""

    @functools.wraps(f)
    def with_view(*args, wide, columns, sort, limit, **kwargs):
        return f(*args, view=View(wide, columns, sort, limit), **kwargs)

    for opt in reversed((
            click.option("--wide", is_flag=True, help="Table: every column, each at full width (lines may be "
                                                      "wider than the terminal)."),
            click.option("--columns", metavar="A,B,...", help="Only these columns, in this order (names as in "
                                                              "the header or the CSV; any format)."),
            click.option("--sort", metavar="[-]COL", help="Sort rows by COL (-COL: descending; missing last)."),
            click.option("--limit", type=int, metavar="N", help="At most N rows (after --sort; any format)."))):
        with_view = opt(with_view)
    return with_view


_CLICK_TYPES = {"int": int, "float": float, "str": str, "entity": str}


def registry_options(options: tuple[Option, ...]):
    """The click parameters of a registered query's own options (:mod:`dealgraph.queries.registry`)."""

    def param(o: Option):
        if o.argument:
            return click.argument(o.name, required=o.required, type=_CLICK_TYPES.get(o.type, str))
        if o.type == "bool":
            return click.option(o.flag, o.name, is_flag=True, default=bool(o.default), help=o.help)
        return click.option(o.flag, o.name, type=_CLICK_TYPES[o.type], default=o.default,
                            show_default=o.default is not None, required=o.required, help=o.help,
                            metavar="ENTITY" if o.type == "entity" else None)

    def apply(f):
        for o in reversed(options):
            f = param(o)(f)
        return format_option(view_options(selection_options(f)))
    return apply


class GeneratedGroup(click.Group):
    """A group whose subcommands are made when asked for: ``make(name)`` for each of ``names``
    (the queries of a registry, each with its own options), then any added with ``add_command``."""

    def __init__(self, name: str, names, make, **kwargs):
        super().__init__(name=name, **kwargs)
        self.names, self.make = tuple(names), make

    def list_commands(self, ctx):
        return list(self.names) + [n for n in self.commands if n not in self.names]

    def get_command(self, ctx, name):
        return self.make(name) if name in self.names else super().get_command(ctx, name)


# ---------------------------------------------------------------------------
# the store, entities, printing
# ---------------------------------------------------------------------------


def db_path() -> str | None:
    """The root command's ``--db`` (or ``$DEALGRAPH_DB``); None for the default store
    (also when a command runs on its own, outside the ``dealgraph`` group). A store
    file named in a directory that does not exist is refused (:func:`in_existing_dir`)."""
    db = click.get_current_context().find_root().params.get("db")
    return None if db is None else str(in_existing_dir(db, "--db"))


def in_existing_dir(path, option: str, *, file: bool = True):
    """``path`` as a :class:`~pathlib.Path` when its parent directory exists.

    The rule for every file or directory a command writes (``--db``, ``-o``,
    ``export OUTDIR``, ``synth -o``): the thing named may be created, the directory
    it goes in must exist -- a typo in a path is refused (exit 1), never a silently
    made directory tree. The default store (in the user data directory) is the
    exception: dealgraph makes its directory itself. ``file``: ``path`` must not be an
    existing directory (for OUTDIR options, pass False)."""
    from pathlib import Path

    if not str(path).strip():
        raise DealgraphError(f"{option}: an empty path")
    p = Path(path).expanduser()
    if file and p.is_dir():
        raise DealgraphError(f"{option}: {str(p)!r} is a directory; name a file")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise DealgraphError(f"{option}: directory {str(parent)!r} does not exist (for {str(p)!r}); create it first")
    return p


def pass_store(f):
    """Call ``f`` with the store named by :func:`db_path` as its first argument."""

    @functools.wraps(f)
    def with_store(*args, **kwargs):
        from dealgraph.graph.history import command_line
        from dealgraph.graph.store import open_store

        store = open_store(db_path())
        store.command = command_line()  # what the change log records for any write it makes
        return f(store, *args, **kwargs)
    return with_store


def known_values(option: str, given, allowed, *, noun: str) -> tuple[str, ...]:
    """``given`` (repeated and/or comma-separated values of ``option``) when each is one
    of ``allowed``; else :class:`QueryError` naming the value and listing the allowed
    ones (``--type merger`` is refused, never an empty result)."""
    values = tuple(v.strip() for g in (given or ()) for v in str(g).split(",") if v.strip())
    for v in values:
        if v not in allowed:
            raise QueryError(f"unknown {noun} {v!r}; expected one of {', '.join(allowed)}")
    return values


def entity_id(entities: pd.DataFrame, text: str, *, where: str = "") -> str:
    """The id of the entity ``text`` names (id, name or alias, any case) among
    ``entities``; :class:`QueryError` when none does."""
    from dealgraph.loaders.resolve import entity_lookup

    ident = entity_lookup(entities).get(text.strip().lower())
    if ident is None:
        raise QueryError(f"no entity {where}matches {text!r} (by id, name or alias)")
    return ident


def resolve_entities(options: tuple[Option, ...], values: dict, entities, *, where: str = "") -> None:
    """Replace, in ``values``, each entity option given by the id of the entity it names
    (``entities()`` gives the table to look in, fetched only when needed)."""
    for o in options:
        if o.type == "entity" and values.get(o.name) is not None:
            values[o.name] = entity_id(entities(), values[o.name], where=where)


def note(text: str) -> str:
    """``text`` wrapped between words to the terminal's width
    (:func:`~dealgraph.queries.output.terminal_width`): what a query says on stderr."""
    import textwrap

    from dealgraph.queries.output import terminal_width

    return "\n".join(textwrap.fill(p, terminal_width(), break_on_hyphens=False, break_long_words=False)
                     for p in text.splitlines()) if text.strip() else text


def emit(df: pd.DataFrame, fmt: str, *, title: str | None = None, markdown_title: bool = True,
         layout: Layout = DEFAULT_LAYOUT, entities: pd.DataFrame | None = None, view: View = View(),
         summary: str | None = None) -> None:
    """Print ``df`` as a terminal table, CSV, JSON or Markdown (:func:`~dealgraph.queries.output.render`).

    ``title`` heads a table, and a Markdown table unless ``markdown_title`` is false;
    ``layout`` says how a table fits the terminal; ``entities`` (the store's table)
    gives the display names a table shows for the layout's id columns; ``view`` is
    the command line's ``--columns/--sort/--limit/--wide``; ``summary`` replaces the
    row count in a table's last line. A query's note (``df.attrs["message"]``, e.g. a
    partial result) goes to stderr, wrapped to the terminal's width (:func:`note`)."""
    shown = title if fmt == "table" or (fmt == "markdown" and markdown_title) else None
    names = None
    if fmt == "table" and entities is not None and layout.names:
        names = dict(zip(entities["id"], entities["name"]))
    text = render(df, fmt, title=shown, layout=layout, names=names, wide=view.wide, columns=view.columns,
                  sort=view.sort, limit=view.limit, summary=summary)
    gap = fmt == "table" and text.endswith("\n\n")   # the note goes under the table, before its blank line
    click.echo(text[:-1] if gap else text, nl=False)
    message = df.attrs.get("message")
    if message:
        click.echo(note(str(message)), err=True)
    if gap:
        click.echo("")
