"""The package layout: one ``dealgraph`` namespace, resolvable by static tools from a fresh clone,
and installable as a wheel whose ``dealgraph neo4j serve`` works outside the checkout."""

from __future__ import annotations

import os
import shutil
import signal
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOP_LEVEL = ("graph", "loaders", "queries", "viz", "cli", "neo4j_backend", "data", "bench")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The repository's files (tracked or new, as the working tree has them), copied like a fresh clone:
    symlinks stay symlinks; nothing built, installed or ignored (no egg-info, no jars) comes along."""
    if not (REPO / ".git").exists():
        pytest.skip("layout: needs the git checkout (run the tests from a clone of the repository)")
    files = ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    listing = subprocess.run(files, capture_output=True, check=True).stdout
    root = tmp_path_factory.mktemp("clone") / "dealgraph-clone"
    for rel in filter(None, listing.decode().split("\0")):
        src, dst = REPO / rel, root / rel
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
    return root


def test_packages_live_under_one_namespace(tmp_path):
    """Outside the repository only ``dealgraph`` imports: no top-level folder of the repo is a package."""
    code = ("import importlib.util,sys; import dealgraph.graph, dealgraph.queries, dealgraph.loaders\n"
            f"print([n for n in {TOP_LEVEL!r} if importlib.util.find_spec(n) is not None])")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert r.stdout.strip() == "[]", r.stderr
    r = subprocess.run([sys.executable, "-c", "import graph"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode != 0 and "No module named 'graph'" in r.stderr


STATIC_IMPORTS = [  # (import line, name to resolve, where it is defined, relative to the clone)
    ("from dealgraph.loaders.csv import read_csv_file", "read_csv_file", "loaders/csv.py"),
    ("from dealgraph.graph.store import open_store", "open_store", "graph/store.py"),
    ("from dealgraph.queries.circular import circular_flows", "circular_flows", "queries/circular.py"),
    ("from dealgraph.cli import main", "main", "cli/main.py"),
]


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """A new venv with nothing installed (not even pip): the interpreter of a machine without dealgraph.
    (The test environment's own interpreter would not do: its editable install's import hook lets jedi,
    which asks the interpreter to find modules, see dealgraph from anywhere.)"""
    root = tmp_path_factory.mktemp("bare") / "venv"
    venv.EnvBuilder(with_pip=False).create(root)
    return root


def static_definition(project_root: Path, environment: Path, code: str, name: str, *, smart: bool):
    """Where jedi (static analysis, nothing imported) says ``name`` in ``code`` is defined, or None.
    ``smart``: add the project root to the search path, as an editor opening the folder does."""
    import jedi

    project = jedi.Project(project_root, environment_path=str(environment), smart_sys_path=smart)
    script = jedi.Script(code, path=project_root / "probe.py", project=project)
    found = script.goto(1, code.index(name) + 1, follow_imports=True)
    return found[0].module_path if found and found[0].module_path else None


@pytest.mark.parametrize("code,name,defined_in", STATIC_IMPORTS, ids=[s[1] for s in STATIC_IMPORTS])
def test_imports_resolve_statically_from_a_fresh_clone(clone, bare_python, code, name, defined_in):
    """An editor opening the clone with an interpreter that has nothing installed finds the definitions
    through the ``dealgraph/`` symlinks; jedi reports the path through the symlink
    (``<clone>/dealgraph/loaders/csv.py``), which is the real file ``<clone>/loaders/csv.py``."""
    where = static_definition(clone, bare_python, code, name, smart=True)
    assert where is not None, f"jedi could not resolve {code!r} from {clone}"
    assert Path(where).resolve() == (clone / defined_in).resolve()
    assert Path(where).is_relative_to(clone)
    # and it is the clone that does it: the same interpreter, without the clone's root, finds nothing
    assert static_definition(clone.parent, bare_python, code, name, smart=False) is None


def test_the_installed_package_has_every_subsystem_beside_it():
    """The editable install and a wheel both make ``dealgraph.<subsystem>`` the repository's folder."""
    import dealgraph.graph
    import dealgraph.neo4j_backend

    assert Path(dealgraph.graph.__file__).resolve().parent.name == "graph"
    assert (Path(dealgraph.neo4j_backend.__file__).resolve().parent / "server" / "jars.txt").exists()


def fresh_venv_with_the_wheel(clone: Path, tmp: Path) -> Path:
    """Build a wheel of ``clone`` and install it, alone, into a new venv; returns the venv's bin folder.

    The dependencies are the ones the test environment has, reached through a ``.pth`` line naming
    its site-packages (a folder named that way is searched but its own ``.pth`` files, such as the
    editable install's hook, are not run): the venv's ``dealgraph`` is the wheel's and only that."""
    # the test environment's setuptools when it has one (no download); else pip fetches the build backend
    flags = ["--no-build-isolation"] if _has("setuptools") and _has("wheel") else []
    subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(tmp / "dist"), *flags],
                   cwd=clone, check=True, capture_output=True, timeout=600)
    wheel = next((tmp / "dist").glob("dealgraph-*.whl"))
    venv.EnvBuilder(with_pip=False).create(tmp / "venv")
    python = str(tmp / "venv" / "bin" / "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "test-env-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=600)
    return tmp / "venv" / "bin"


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@pytest.mark.neo4j
@pytest.mark.slow
def test_neo4j_serve_works_from_an_installed_wheel(clone, tmp_path):
    """``pip install`` of a built wheel, run from a folder outside the checkout: the server's sources
    come from the installed package, its jars and launcher from a cache, and ``push`` reaches it."""
    from neo4j import GraphDatabase

    from dealgraph.neo4j_backend import jars
    from dealgraph.neo4j_backend.server import free_port

    bin_dir = fresh_venv_with_the_wheel(clone, tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run([str(bin_dir / "python"), "-c", "import dealgraph.neo4j_backend as n; print(n.__file__)"],
                           cwd=outside, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv") and not Path(where).resolve().is_relative_to(REPO)
    # a cache of its own: the jars (already verified by the session) linked in, the launcher compiled anew
    cache = tmp_path / "cache"
    shutil.copytree(jars.ensure_jars(), cache / "lib", copy_function=os.link)
    env = {**os.environ, "DEALGRAPH_NEO4J_CACHE": str(cache), "DEALGRAPH_DB": str(tmp_path / "store.db")}
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    port = free_port()
    serve = subprocess.Popen([str(bin_dir / "dealgraph"), "neo4j", "serve", "--port", str(port),
                              "--data", str(tmp_path / "db")], cwd=outside, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = serve.stdout.readline()
        assert first.startswith(f"Neo4j ready at bolt://127.0.0.1:{port}"), (first, serve.stderr.read())
        assert list((cache / "launcher").glob("*/Launcher.class"))
        push = subprocess.run([str(bin_dir / "dealgraph"), "neo4j", "push", "--uri", f"bolt://127.0.0.1:{port}"],
                              cwd=outside, env=env, capture_output=True, text=True, timeout=300)
        assert push.returncode == 0 and push.stdout.startswith("pushed "), push.stderr
        with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None) as driver:
            records = driver.execute_query("MATCH (e:Entity {id: 'nvidia'}) RETURN count(e) AS n").records
        assert records[0]["n"] == 1
        serve.send_signal(signal.SIGINT)
        _, err = serve.communicate(timeout=120)
        assert serve.returncode == 0 and "stopped." in err, err
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
