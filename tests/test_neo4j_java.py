"""Which Java runs the local Neo4j (no real Java needed here: small scripts stand in for `java -version`)."""

from __future__ import annotations

import pytest

from dealgraph.neo4j_backend.java import find_java, java_major
from dealgraph.neo4j_backend.jars import ServerError


def fake_java(tmp_path, version_line: str):
    path = tmp_path / "java"
    path.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("line,major", [('openjdk version "17.0.15" 2025-04-15', 17),
                                        ('openjdk version "21.0.8" 2025-07-15 LTS', 21),
                                        ('java version "1.8.0_392"', 8),
                                        ("not java at all", 0)])
def test_java_major_reads_the_version_line(tmp_path, line, major):
    assert java_major(fake_java(tmp_path, line)) == major


def test_dealgraph_java_wins_and_must_be_17_or_newer(tmp_path, monkeypatch):
    monkeypatch.setenv("DEALGRAPH_JAVA", fake_java(tmp_path, 'openjdk version "21.0.8"'))
    assert find_java() == str(tmp_path / "java")
    monkeypatch.setenv("DEALGRAPH_JAVA", fake_java(tmp_path, 'java version "1.8.0_392"'))
    with pytest.raises(ServerError, match=r"DEALGRAPH_JAVA=.* is not a Java 17\+ executable"):
        find_java()
    assert java_major(str(tmp_path / "missing")) == 0
