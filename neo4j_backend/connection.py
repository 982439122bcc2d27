"""Connecting to Neo4j with errors a user can act on.

Every failure to connect becomes one :class:`Neo4jError` whose message is a
single line naming the server and the cause -- never the password.
Works with ``bolt://``, ``bolt+s://``, ``neo4j://`` and ``neo4j+s://`` URIs
(the driver picks direct vs routed connections from the scheme).
"""

from __future__ import annotations

import logging
import os
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import neo4j
from neo4j import exceptions as nx

from dealgraph.errors import Neo4jError


#: URI schemes the driver accepts (+s: TLS with verified certificates, +ssc: self-signed).
SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")

# The driver logs connection failures as warnings; without a handler Python would print
# them to stderr next to our one-line error. Applications that configure logging still
# get them (the record propagates to their handlers).
logging.getLogger("neo4j").addHandler(logging.NullHandler())


@dataclass
class Settings:
    """Where to connect. Defaults come from ``NEO4J_URI`` / ``NEO4J_USER`` /
    ``NEO4J_PASSWORD`` / ``NEO4J_DATABASE``."""

    uri: str = "bolt://localhost:7687"
    user: str = "neo4j"
    password: str | None = None
    database: str | None = None
    #: How long the driver keeps retrying a transaction on transient errors / lost connections.
    retry_seconds: float = 30.0

    @classmethod
    def from_env(cls, uri=None, user=None, password=None, database=None) -> "Settings":
        return cls(
            uri=uri or os.environ.get("NEO4J_URI") or cls.uri,
            user=user or os.environ.get("NEO4J_USER") or cls.user,
            password=password if password is not None else os.environ.get("NEO4J_PASSWORD"),
            database=database or os.environ.get("NEO4J_DATABASE") or None,
        )

    def __repr__(self) -> str:  # never show the password
        return f"Settings(uri={self.uri!r}, user={self.user!r}, password={'***' if self.password else None}, " \
               f"database={self.database!r})"


def connect(settings: Settings) -> neo4j.Driver:
    """A driver that has reached the server (raises :class:`Neo4jError` otherwise).

    No password means no authentication (e.g. the local ``dealgraph neo4j serve``).
    """
    scheme = urlsplit(settings.uri).scheme if "://" in settings.uri else ""
    if scheme not in SCHEMES:
        raise Neo4jError(f"invalid Neo4j URI {settings.uri!r}: expected one of "
                         f"{', '.join(s + '://' for s in SCHEMES)}")
    auth = (settings.user, settings.password) if settings.password is not None else None
    try:
        driver = neo4j.GraphDatabase.driver(settings.uri, auth=auth, connection_timeout=10,
                                            max_transaction_retry_time=settings.retry_seconds)
    except (nx.ConfigurationError, ValueError) as e:
        raise Neo4jError(f"invalid Neo4j URI {settings.uri!r}: {_first_line(e)}") from None
    try:
        driver.verify_connectivity(database=settings.database) if settings.database else driver.verify_connectivity()
        # verify_connectivity may not authenticate against every server: run a trivial query.
        driver.execute_query("RETURN 1", database_=settings.database)
    except BaseException as e:
        driver.close()
        raise translate(e, settings) from None
    return driver


#: What the driver raises when the server or the connection fails: :func:`translate` turns
#: each into a :class:`Neo4jError`.
DRIVER_ERRORS: tuple[type[BaseException], ...] = (nx.Neo4jError, nx.DriverError, OSError)


def translate(e: BaseException, settings: Settings) -> BaseException:
    """The one-line error for a driver exception (other exceptions pass through)."""
    where = f"Neo4j at {settings.uri}"
    if isinstance(e, nx.AuthError) and settings.password is None:
        return Neo4jError(f"{where} requires authentication: set NEO4J_PASSWORD (or --password)")
    if isinstance(e, nx.AuthError):
        return Neo4jError(f"{where} refused the credentials of user {settings.user!r} "
                          f"(check NEO4J_USER / NEO4J_PASSWORD)")
    if isinstance(e, nx.ServiceUnavailable | nx.SessionExpired | OSError):
        tls = _tls_problem(e, settings)
        if tls:
            return Neo4jError(f"cannot connect to {where}: {tls}")
        return Neo4jError(f"cannot reach {where}: is the server running? ({_first_line(e)})")
    if isinstance(e, nx.ClientError) and "database" in str(getattr(e, "code", "")).lower():
        return Neo4jError(f"{where}: database {settings.database!r} is not available ({_first_line(e)})")
    if isinstance(e, nx.Neo4jError | nx.DriverError):
        return Neo4jError(f"{where}: {_first_line(e)}")
    return e


def _causes(e: BaseException):
    """``e`` and every exception behind it (causes, contexts, members of exception groups)."""
    seen, todo = set(), [e]
    while todo:
        x = todo.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        yield x
        todo += [x.__cause__, x.__context__, *getattr(x, "exceptions", ())]


def _tls_problem(e: BaseException, settings: Settings) -> str | None:
    """What went wrong with TLS, when that is why the connection failed (else None)."""
    scheme = urlsplit(settings.uri).scheme
    tls = "+" in scheme
    base = scheme.split("+")[0]
    for x in _causes(e):
        if isinstance(x, ssl.SSLCertVerificationError):
            reason = getattr(x, "verify_message", None) or _first_line(x)
            return (f"its TLS certificate is not trusted ({reason}); for a self-signed certificate use "
                    f"{base}+ssc://")
        if tls and isinstance(x, ssl.SSLError):
            return f"the TLS handshake failed ({_first_line(x)}); does the server have Bolt TLS on? (else {base}://)"
        if not tls and "incomplete handshake" in str(x):
            return (f"the server closed the connection during the Bolt handshake: it probably requires TLS "
                    f"(use {base}+s://, or {base}+ssc:// for a self-signed certificate)")
    return None


def _first_line(e: BaseException) -> str:
    text = getattr(e, "message", None) or str(e) or type(e).__name__
    return text.strip().splitlines()[0] if text.strip() else type(e).__name__
