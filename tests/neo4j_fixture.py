"""pytest plugin: a real Neo4j for the tests (loaded from conftest.py via ``pytest_plugins``).

With ``NEO4J_URI`` set, tests use that server (``NEO4J_USER`` / ``NEO4J_PASSWORD`` /
``NEO4J_DATABASE``); the tests then delete and rewrite dealgraph's own nodes there,
so point it at a scratch database. Otherwise one local Neo4j 5.26 is started for the
whole session on a free port (jars fetched from Maven Central into the user cache
on first use, see ``dealgraph.neo4j_backend.server``) and stopped at the end. The
tests using these fixtures are marked ``neo4j`` (tests/groups.py skips them, with
one reason line, where no Java can run the server).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

import pytest

from dealgraph.neo4j_backend.server import LocalNeo4j


@dataclass
class Neo4jTarget:
    uri: str
    user: str | None
    password: str | None
    database: str | None
    local: LocalNeo4j | None  # None when NEO4J_URI points elsewhere

    @property
    def auth(self):
        return (self.user, self.password) if self.password is not None else None

    def cli_args(self) -> list[str]:
        """The connection flags for ``dealgraph neo4j ...`` (the password goes in :meth:`cli_env`:
        the CLI refuses one on its command line)."""
        args = ["--uri", self.uri]
        if self.user:
            args += ["--user", self.user]
        if self.database:
            args += ["--database", self.database]
        return args

    def cli_env(self) -> dict[str, str]:
        """The environment for ``dealgraph neo4j ...``: ``NEO4J_PASSWORD`` (empty: none)."""
        return {"NEO4J_PASSWORD": self.password or ""}


@pytest.fixture(scope="session")
def neo4j_target():
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield Neo4jTarget(uri, os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD"),
                          os.environ.get("NEO4J_DATABASE"), None)
        return
    # With authentication on, like a real server (the wrong-password test uses it too).
    password = secrets.token_urlsafe(12)
    server = LocalNeo4j(password=password)
    server.start(timeout=600)
    try:
        yield Neo4jTarget(server.uri, "neo4j", password, None, server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_target):
    from neo4j import GraphDatabase

    driver = GraphDatabase.driver(neo4j_target.uri, auth=neo4j_target.auth)
    try:
        yield driver
    finally:
        driver.close()


def self_signed_certificate(directory) -> "Path":
    """Write a new self-signed certificate for 127.0.0.1 / localhost (``public.crt``) and its
    unencrypted PKCS#8 RSA key (``private.key``) into ``directory``, as Neo4j's Bolt SSL policy
    reads them; returns the directory. Made fresh by each test run, valid for one day."""
    import datetime
    import ipaddress
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    (d / "public.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "private.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    return d
