"""The jars of the local Neo4j server: a pinned, checksummed list, fetched once into a cache.

``neo4j_backend/server/jars.txt`` (package data) names every jar the embedded
Neo4j 5.26 needs, one ``sha256  group:artifact:version[:classifier]`` a line.
:func:`ensure_jars` puts exactly those files into ``<cache>/lib``: a jar already
there with the right checksum is kept, one in the local Maven repository
(``~/.m2/repository``) with the right checksum is copied, any other is downloaded
over HTTPS from Maven Central. Every file is verified before it is moved into
place (written as ``NAME.part``, then renamed), so a fetch that is killed half-way
leaves no bad jar and the next call fetches only what is missing. No Maven is needed.

The cache is ``platformdirs.user_cache_dir("dealgraph")/neo4j-<version>``, or the
directory named by ``DEALGRAPH_NEO4J_CACHE``: never the installed package, which
may be read-only.

``python -m dealgraph.neo4j_backend.jars pin`` rewrites jars.txt from
``server/pom.xml`` (maintainers only: it needs Maven, and the jars in ~/.m2).
"""

from __future__ import annotations

import concurrent.futures
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from dealgraph.errors import DealgraphError

NEO4J_VERSION = "5.26.31"
#: pom.xml, jars.txt and Launcher.java: package data beside this module.
SOURCE_DIR = Path(__file__).resolve().parent / "server"
PINS = SOURCE_DIR / "jars.txt"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
LOCAL_MAVEN_REPO = Path.home() / ".m2" / "repository"
#: Written into lib/ after a complete, verified fetch; holds the sha256 of the pin list it satisfies.
_COMPLETE_MARKER = ".complete"
_DOWNLOAD_TRIES = 3


class ServerError(DealgraphError):
    """The local server could not be fetched or started (message is one clear line)."""


@dataclass(frozen=True)
class Jar:
    """One pinned Maven artifact (a jar) and the sha256 its file must have."""

    group: str
    artifact: str
    version: str
    classifier: str
    sha256: str

    @property
    def file_name(self) -> str:
        suffix = f"-{self.classifier}" if self.classifier else ""
        return f"{self.artifact}-{self.version}{suffix}.jar"

    @property
    def repo_path(self) -> str:
        """The path of the file in a Maven repository (Maven Central's or ~/.m2's layout)."""
        return f"{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.file_name}"

    @property
    def coordinates(self) -> str:
        tail = f":{self.classifier}" if self.classifier else ""
        return f"{self.group}:{self.artifact}:{self.version}{tail}"


def cache_dir() -> Path:
    """Where the jars and the compiled launcher are kept (``DEALGRAPH_NEO4J_CACHE`` overrides)."""
    override = os.environ.get("DEALGRAPH_NEO4J_CACHE")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dealgraph")) / f"neo4j-{NEO4J_VERSION}"


def read_pins(path: Path = PINS) -> list[Jar]:
    """Parse a pin list; a malformed line is a :class:`ServerError` naming file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ServerError(f"no jars.txt at {path}: the pinned list of Neo4j's jars is missing") from None
    jars = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        parts = fields[1].split(":") if len(fields) == 2 else []
        if len(fields) != 2 or len(fields[0]) != 64 or len(parts) not in (3, 4):
            raise ServerError(f"{path}:{number}: expected 'SHA256  group:artifact:version[:classifier]', got {line!r}")
        jars.append(Jar(*parts[:3], parts[3] if len(parts) == 4 else "", fields[0].lower()))
    return jars


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_final(error: OSError) -> bool:
    """A "no" that another try would not change: a 4xx answer, or a missing file (file:// repositories)."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code < 500
    return isinstance(getattr(error, "reason", None), FileNotFoundError)


def fetch_jar(jar: Jar, lib: Path, central: str) -> None:
    """Put ``jar`` into ``lib`` verified: keep it, copy it from ~/.m2, or download it."""
    target = lib / jar.file_name
    if target.exists() and sha256_of(target) == jar.sha256:
        return
    part = target.with_name(target.name + ".part")
    local = LOCAL_MAVEN_REPO / jar.repo_path
    if local.exists() and sha256_of(local) == jar.sha256:
        shutil.copyfile(local, part)
    else:
        url = f"{central}/{jar.repo_path}"
        for attempt in range(1, _DOWNLOAD_TRIES + 1):
            try:
                with urllib.request.urlopen(url, timeout=60) as response, open(part, "wb") as out:
                    shutil.copyfileobj(response, out, 1 << 20)
                break
            except OSError as e:
                if attempt == _DOWNLOAD_TRIES or _is_final(e):
                    raise ServerError(f"could not download {url}: {e}") from None
                time.sleep(2 * attempt)
        got = sha256_of(part)
        if got != jar.sha256:
            part.unlink()
            raise ServerError(f"{url} has sha256 {got}, but jars.txt pins {jar.sha256}: not used")
    os.replace(part, target)


def jars_present(lib: Path, pins: Path = PINS) -> bool:
    """True when ``lib`` holds a complete, verified fetch of exactly this pin list."""
    marker = Path(lib) / _COMPLETE_MARKER
    return marker.exists() and marker.read_text().strip() == sha256_of(pins)


def ensure_jars(cache: Path | None = None, *, pins: Path = PINS, echo=None, central: str = MAVEN_CENTRAL) -> Path:
    """Make ``<cache>/lib`` hold exactly the jars of ``pins``, verified; returns that directory.

    Safe to call from several processes at once (a file lock serialises the
    fetch). Raises :class:`ServerError` with one clear line when a jar cannot be
    had or does not match its checksum.
    """
    jars = read_pins(pins)
    lib = (Path(cache) if cache is not None else cache_dir()) / "lib"
    if jars_present(lib, pins):
        return lib
    lib.mkdir(parents=True, exist_ok=True)
    with open(lib.parent / ".fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if jars_present(lib, pins):  # another process fetched them while we waited
            return lib
        if echo:
            echo(f"Fetching Neo4j {NEO4J_VERSION}'s {len(jars)} jars from Maven Central into {lib} (once, ~120 MB)...")
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            for done in concurrent.futures.as_completed([pool.submit(fetch_jar, j, lib, central) for j in jars]):
                done.result()
        wanted = {j.file_name for j in jars}
        for stray in lib.iterdir():  # the classpath is lib/*: nothing but the pinned jars
            if stray.name not in wanted and stray.name != _COMPLETE_MARKER:
                stray.unlink()
        (lib / _COMPLETE_MARKER).write_text(sha256_of(pins) + "\n")
    return lib


def pin(pom: Path = SOURCE_DIR / "pom.xml", out: Path = PINS) -> int:
    """Rewrite ``out`` from the runtime dependencies Maven resolves for ``pom`` (needs mvn)."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as listing:
        subprocess.run(["mvn", "-q", "-B", "-f", str(pom), "dependency:list", "-DincludeScope=runtime",
                        "-DoutputAbsoluteArtifactFilename=true", f"-DoutputFile={listing.name}"], check=True)
        lines = []
        for row in listing.read().splitlines():
            fields = row.strip().split(" -- ")[0].split(":")
            if len(fields) < 6 or fields[2] != "jar":
                continue
            group, artifact, _, *rest = fields
            classifier, version = (rest[0], rest[1]) if len(rest) == 4 else ("", rest[0])
            jar = Jar(group, artifact, version, classifier, sha256_of(Path(rest[-1])))
            lines.append(f"{jar.sha256}  {jar.coordinates}")
    header = (f"# Neo4j {NEO4J_VERSION}'s runtime jars (from server/pom.xml), fetched from Maven Central and checked\n"
              "# against these sha256 sums. Regenerate: python -m dealgraph.neo4j_backend.jars pin\n")
    out.write_text(header + "\n".join(sorted(lines, key=lambda line: line.split()[1])) + "\n")
    return len(lines)


if __name__ == "__main__":
    if sys.argv[1:] != ["pin"]:
        sys.exit("usage: python -m dealgraph.neo4j_backend.jars pin")
    print(f"wrote {pin()} jars to {PINS}")
