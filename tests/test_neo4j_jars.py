"""The pinned jar list: fetched, verified and cached without Maven (no Java, no network needed here:
the "repository" is a local folder reached through a file:// URL, laid out like Maven Central)."""

from __future__ import annotations

import hashlib
import os

import pytest

from dealgraph.neo4j_backend import jars
from dealgraph.neo4j_backend.jars import ServerError, ensure_jars, read_pins


def repository(tmp_path, files: dict[str, bytes]) -> str:
    """A folder in Maven's layout holding ``files`` (repository path -> content); returns its URL."""
    root = tmp_path / "central"
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    return root.as_uri()


def pin_list(tmp_path, lines: list[str]):
    path = tmp_path / "jars.txt"
    path.write_text("# test pins\n" + "\n".join(lines) + "\n")
    return path


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_the_shipped_list_pins_neo4j_and_its_native_transports():
    pins = read_pins()
    names = {j.file_name for j in pins}
    assert f"neo4j-{jars.NEO4J_VERSION}.jar" in names
    assert "netty-transport-native-epoll-4.1.137.Final-linux-x86_64.jar" in names  # classifier kept
    assert len(names) == len(pins) > 200 and all(len(j.sha256) == 64 for j in pins)


def test_fetch_verifies_caches_and_keeps_only_the_pinned_jars(tmp_path):
    good = b"PK fake jar"
    central = repository(tmp_path, {"org/example/thing/1.0/thing-1.0.jar": good,
                                    "org/example/native/2.0/native-2.0-linux-x86_64.jar": b"native"})
    pins = pin_list(tmp_path, [f"{sha(good)}  org.example:thing:1.0",
                               f"{sha(b'native')}  org.example:native:2.0:linux-x86_64"])
    cache = tmp_path / "cache"
    (cache / "lib").mkdir(parents=True)
    (cache / "lib" / "stale-0.1.jar").write_bytes(b"old")
    (cache / "lib" / "thing-1.0.jar.part").write_bytes(b"half")  # a fetch killed half-way
    lib = ensure_jars(cache, pins=pins, central=central)
    assert sorted(p.name for p in lib.glob("*.jar")) == ["native-2.0-linux-x86_64.jar", "thing-1.0.jar"]
    assert (lib / "thing-1.0.jar").read_bytes() == good and not list(lib.glob("*.part"))
    assert jars.jars_present(lib, pins)
    # cached: a second call reads nothing from the repository (it is gone)
    for path in (tmp_path / "central").rglob("*.jar"):
        path.unlink()
    assert ensure_jars(cache, pins=pins, central=central) == lib


def test_a_jar_with_the_wrong_checksum_is_refused_and_not_kept(tmp_path):
    central = repository(tmp_path, {"org/example/thing/1.0/thing-1.0.jar": b"tampered"})
    pins = pin_list(tmp_path, [f"{sha(b'genuine')}  org.example:thing:1.0"])
    with pytest.raises(ServerError, match=r"thing-1.0.jar has sha256 [0-9a-f]{64}, but jars.txt pins"):
        ensure_jars(tmp_path / "cache", pins=pins, central=central)
    assert os.listdir(tmp_path / "cache" / "lib") == []
    assert not jars.jars_present(tmp_path / "cache" / "lib", pins)


def test_a_missing_jar_and_a_missing_or_bad_list_are_one_clear_error(tmp_path):
    pins = pin_list(tmp_path, [f"{sha(b'x')}  org.example:absent:1.0"])
    with pytest.raises(ServerError, match=r"could not download .*/org/example/absent/1.0/absent-1.0.jar"):
        ensure_jars(tmp_path / "cache", pins=pins, central=repository(tmp_path, {}))
    with pytest.raises(ServerError, match="no jars.txt at"):
        ensure_jars(tmp_path / "cache", pins=tmp_path / "nowhere" / "jars.txt")
    bad = pin_list(tmp_path, ["not-a-checksum org.example:thing:1.0"])
    with pytest.raises(ServerError, match=r"jars.txt:2: expected 'SHA256  group:artifact:version\[:classifier\]'"):
        read_pins(bad)


def test_the_cache_is_outside_the_package_and_can_be_moved(tmp_path, monkeypatch):
    monkeypatch.delenv("DEALGRAPH_NEO4J_CACHE", raising=False)
    default = jars.cache_dir()
    assert default.name == f"neo4j-{jars.NEO4J_VERSION}" and jars.SOURCE_DIR.parent not in default.parents
    monkeypatch.setenv("DEALGRAPH_NEO4J_CACHE", str(tmp_path / "elsewhere"))
    assert jars.cache_dir() == tmp_path / "elsewhere"
