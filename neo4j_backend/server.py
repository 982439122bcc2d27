"""A local Neo4j 5.26 server for tests and for trying the backend out.

There is no Neo4j server tarball on Maven Central, but the embedded database
(``org.neo4j:neo4j``, Bolt included) is. ``neo4j_backend/server/pom.xml`` names it;
:func:`ensure_jars` fetches the jars with ``mvn dependency:copy-dependencies``
into the git-ignored ``neo4j_backend/server/lib/`` once (about 120 MB), and
:class:`LocalNeo4j` runs ``neo4j_backend/server/Launcher.java`` as a single source file:
Bolt on ``127.0.0.1:PORT``, authentication disabled, 256 MB page cache,
``-Xmx2g``, usage reporting off. The launcher prints a ready line; SIGTERM
shuts the database down cleanly.

This is a scratch server: it listens on loopback only and has no password.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from dealgraph.errors import DealgraphError

#: Where pom.xml and Launcher.java live (package data beside this module),
#: overridable with ``DEALGRAPH_NEO4J_SERVER_DIR``.
SERVER_DIR = Path(os.environ.get("DEALGRAPH_NEO4J_SERVER_DIR",
                                 Path(__file__).resolve().parent / "server"))
NEO4J_VERSION = "5.26.31"
READY_PREFIX = "DEALGRAPH-NEO4J READY"
#: Written into lib/ after a complete fetch: a fetch killed half-way has no marker and is redone.
_COMPLETE_MARKER = ".complete"

#: JVM flags. The ``--add-opens`` / ``--enable-native-access`` / log4j flags are the ones Neo4j 5's
#: own start script passes (``server.jvm.additional`` in its default neo4j.conf) on Java 17+.
JVM_FLAGS: tuple[str, ...] = (
    "-Xms512m",
    "-Xmx2g",
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
)


class ServerError(DealgraphError):
    """The local server could not be fetched or started (message is one clear line)."""


def lib_dir(server_dir: Path = SERVER_DIR) -> Path:
    return Path(server_dir) / "lib"


def jars_present(server_dir: Path = SERVER_DIR) -> bool:
    lib = lib_dir(server_dir)
    return (lib / _COMPLETE_MARKER).exists() and (lib / f"neo4j-{NEO4J_VERSION}.jar").exists()


def ensure_jars(server_dir: Path = SERVER_DIR, *, echo=None) -> Path:
    """Fetch Neo4j's jars into ``server_dir/lib`` unless they are already there.

    Safe to call from several processes at once (a file lock serialises the
    fetch). Returns the lib directory. Raises :class:`ServerError` when Maven
    is missing or the fetch fails.
    """
    server_dir = Path(server_dir)
    lib = lib_dir(server_dir)
    if jars_present(server_dir):
        return lib
    if not (server_dir / "pom.xml").exists():
        raise ServerError(f"no pom.xml in {server_dir} (set DEALGRAPH_NEO4J_SERVER_DIR to the repository's neo4j_backend/server/)")
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerError("Maven (mvn) is needed to fetch Neo4j's jars; install it (e.g. apt-get install maven)")
    lib.mkdir(parents=True, exist_ok=True)
    with open(server_dir / ".fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if jars_present(server_dir):  # another process fetched them while we waited
            return lib
        if echo:
            echo(f"Fetching Neo4j {NEO4J_VERSION} jars from Maven Central into {lib} (once, ~120 MB)...")
        proc = subprocess.run(
            [mvn, "-q", "-B", "-f", str(server_dir / "pom.xml"), "dependency:copy-dependencies"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        if proc.returncode != 0:
            tail = " | ".join(line.strip() for line in proc.stdout.strip().splitlines()[-3:])
            raise ServerError(f"mvn could not fetch Neo4j's jars (exit {proc.returncode}): {tail}")
        (lib / _COMPLETE_MARKER).write_text(NEO4J_VERSION + "\n")
    return lib


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def java_command(port: int, data_dir: Path | None, server_dir: Path = SERVER_DIR) -> list[str]:
    java = shutil.which("java")
    if java is None:
        raise ServerError("a Java 17+ JDK is needed to run the local Neo4j (e.g. apt-get install openjdk-17-jdk-headless)")
    cmd = [java, *JVM_FLAGS, "-cp", str(lib_dir(server_dir) / "*"), str(Path(server_dir) / "Launcher.java"), str(port)]
    if data_dir is not None:
        cmd.append(str(data_dir))
    return cmd


class LocalNeo4j:
    """One launcher process. Use as a context manager or call :meth:`start` / :meth:`stop`.

    ``data_dir=None`` uses a throw-away directory (deleted on clean shutdown);
    a given directory keeps the database across restarts. ``uri`` is
    ``bolt://127.0.0.1:PORT``; there is no authentication unless ``password`` is given
    (then user ``neo4j`` has that password).
    """

    def __init__(self, port: int | None = None, data_dir: str | Path | None = None,
                 server_dir: Path = SERVER_DIR, log_path: str | Path | None = None,
                 password: str | None = None):
        self.port = port or free_port()
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.server_dir = Path(server_dir)
        self.log_path = Path(log_path) if log_path else Path(tempfile.gettempdir()) / f"dealgraph-neo4j-{self.port}.log"
        self.password = password  # None: no authentication; else user "neo4j" with it
        self.proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._stdout_lines: list[str] = []

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, timeout: float = 300.0, *, echo=None, new_session: bool = True) -> "LocalNeo4j":
        """Start the launcher and wait for its ready line (raises :class:`ServerError` on failure)."""
        ensure_jars(self.server_dir, echo=echo)
        log = open(self.log_path, "w")
        env = dict(os.environ)
        env.pop("DEALGRAPH_NEO4J_PASSWORD", None)
        if self.password:
            env["DEALGRAPH_NEO4J_PASSWORD"] = self.password  # environment, not argv: not in `ps`
        env["DEALGRAPH_NEO4J_WATCH_STDIN"] = "1"  # stop when our end of the stdin pipe closes (we died)
        self.proc = subprocess.Popen(
            java_command(self.port, self.data_dir, self.server_dir),
            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.PIPE, text=True, env=env,
            start_new_session=new_session,  # a terminal's Ctrl-C is forwarded by us, not delivered twice
        )
        log.close()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if self.proc.poll() is not None:
                raise ServerError(f"the local Neo4j exited with code {self.proc.returncode} before it was ready: "
                                  f"{self._log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise ServerError(f"the local Neo4j was not ready within {timeout:.0f}s (log: {self.log_path})")
        return self

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._stdout_lines.append(line.rstrip("\n"))
            if line.startswith(READY_PREFIX):
                self._ready.set()

    def _log_tail(self) -> str:
        try:
            lines = [ln for ln in self.log_path.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return "(no log)"
        useful = [ln for ln in lines if not ln.lstrip().startswith("at ")]
        return " | ".join(useful[-3:]) or "(empty log)"

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM and wait for the clean shutdown; SIGKILL if it does not come."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: the crash a test uses to interrupt a push."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def wait(self) -> int:
        assert self.proc is not None
        return self.proc.wait()

    def __enter__(self) -> "LocalNeo4j":
        return self.start()

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            self.stop()
