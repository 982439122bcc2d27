"""Shared fixtures: a store in a temporary directory and the real `dealgraph` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["groups", "neo4j_fixture"]

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"


def dealgraph_exe() -> list[str]:
    """The installed console script (falls back to running the module's entry point)."""
    exe = shutil.which("dealgraph")
    if exe:
        return [exe]
    return [sys.executable, "-c", "from dealgraph.cli import main; main()"]


def run_cli(*args, db: Path | None = None, input: str | None = None, env: dict | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real `dealgraph` command; returns the completed process (text mode)."""
    e = dict(os.environ)
    if db is not None:
        e["DEALGRAPH_DB"] = str(db)
    e.update(env or {})
    return subprocess.run(dealgraph_exe() + [str(a) for a in args], capture_output=True, text=True,
                          input=input, env=e, cwd=cwd, timeout=300)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def empty_db(tmp_path) -> Path:
    """Path of a new, empty store."""
    from dealgraph.graph.store import open_store

    path = tmp_path / "empty.db"
    open_store(path, seed=False)
    return path


@pytest.fixture
def sample_db(tmp_path) -> Path:
    """Path of a new store seeded with the sample data."""
    from dealgraph.graph.store import open_store

    path = tmp_path / "sample.db"
    open_store(path)
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
