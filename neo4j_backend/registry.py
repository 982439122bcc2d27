"""The canned queries that have a Cypher implementation, by name, and running them.

Names and options are those of :mod:`dealgraph.queries.registry`, so
``run_cypher_query("circular-flows", driver, max_length=4)`` gives the table
``run_query("circular-flows", store, max_length=4)`` gives on the same data.
"""

from __future__ import annotations

import importlib

import pandas as pd

from dealgraph.errors import QueryError

#: query name -> "module:function" taking (driver, *, database, **options).
CYPHER_QUERIES: dict[str, str] = {
    "circular-flows": "dealgraph.neo4j_backend.circular:circular_flows",
    "concentration": "dealgraph.neo4j_backend.flows:concentration_query",
    "round-trip": "dealgraph.neo4j_backend.flows:round_trip",
    "multiples": "dealgraph.neo4j_backend.valuation:multiples",
    "returns": "dealgraph.neo4j_backend.valuation:returns",
    "rounds": "dealgraph.neo4j_backend.valuation:rounds",
    "deal-comparisons": "dealgraph.neo4j_backend.valuation:deal_comparisons",
    # no search in Cypher: the projection engine (the money hops from Cypher, the embedded kernels)
    "circularity": "dealgraph.neo4j_backend.projection:circularity",
    "hubs": "dealgraph.neo4j_backend.projection:hubs",
    "timeline": "dealgraph.neo4j_backend.projection:timeline",
    "sensitivity": "dealgraph.neo4j_backend.projection:sensitivity",
}


#: query name -> "module:function" giving the :class:`~.cypher_common.Statement` list the query
#: runs for some options (what ``dealgraph neo4j cypher NAME`` prints).
CYPHER_STATEMENTS: dict[str, str] = {
    "circular-flows": "dealgraph.neo4j_backend.circular:statements",
    "concentration": "dealgraph.neo4j_backend.flows:concentration_statements",
    "round-trip": "dealgraph.neo4j_backend.flows:round_trip_statements",
    "multiples": "dealgraph.neo4j_backend.valuation:multiples_statements",
    "returns": "dealgraph.neo4j_backend.valuation:returns_statements",
    "rounds": "dealgraph.neo4j_backend.valuation:rounds_statements",
    "deal-comparisons": "dealgraph.neo4j_backend.valuation:deal_comparisons_statements",
    "circularity": "dealgraph.neo4j_backend.projection:statements",
    "hubs": "dealgraph.neo4j_backend.projection:statements",
    "timeline": "dealgraph.neo4j_backend.projection:statements",
    "sensitivity": "dealgraph.neo4j_backend.projection:sensitivity_statements",
}


def _load(target: str):
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


#: Queries with a choice of engine (``--engine``): name -> (engines, default).
ENGINES: dict[str, tuple[tuple[str, ...], str]] = {
    "circular-flows": (("projection", "cypher"), "projection"),
    "round-trip": (("projection", "cypher"), "projection"),
    "concentration": (("projection", "cypher"), "projection"),
}


def cypher_function(name: str):
    return _load(CYPHER_QUERIES[name])


def _known(name: str) -> None:
    if name not in CYPHER_QUERIES:
        raise QueryError(f"no Cypher implementation of {name!r}; available: {', '.join(CYPHER_QUERIES)}")


def cypher_statements(name: str, **options):
    """The Cypher statements (with parameters) query ``name`` runs with ``options``."""
    _known(name)
    return _load(CYPHER_STATEMENTS[name])(**options)


def cypher_script(name: str, *, params: str = "cypher", **options) -> str:
    """:func:`cypher_statements` as a script for Neo4j Browser / cypher-shell
    (:func:`~.cypher_common.script`)."""
    from dealgraph.neo4j_backend.cypher_common import script

    return script(cypher_statements(name, **options), params=params, title=f"dealgraph query {name} (Neo4j)")


def run_cypher_query(name: str, driver, *, database=None, **options):
    """Run query ``name`` on the Neo4j server behind ``driver``; :class:`QueryError` for a
    name with no Cypher implementation."""
    _known(name)
    return cypher_function(name)(driver, database=database, **options)


def server_entities(driver, database=None) -> pd.DataFrame:
    """The entities on the server (id, name, aliases), to resolve an entity named in an option."""
    from dealgraph.neo4j_backend import model as m

    records, _, _ = driver.execute_query(
        f"MATCH (e:{m.ENTITY}) RETURN e.id AS id, e.name AS name, coalesce(e.aliases, '') AS aliases",
        database_=database)
    return pd.DataFrame([r.data() for r in records], columns=["id", "name", "aliases"]).astype("string")


# --------------------------------------------------------------------------- docs/neo4j.md

DOCS_BEGIN = "<!-- neo4j-cypher:begin (generated: python -m dealgraph.neo4j_backend.registry docs/neo4j.md) -->"
DOCS_END = "<!-- neo4j-cypher:end -->"
#: Options the docs show each query with (circular-flows at k = 3 to keep the page short:
#: each further length adds one more ``UNION ALL`` branch of the same shape).
DOCS_OPTIONS: dict[str, list[dict]] = {
    "circular-flows": [{}, {"engine": "cypher", "max_length": 3}],
    "round-trip": [{}, {"engine": "cypher", "max_length": 3}],
    "concentration": [{}, {"engine": "cypher"}],
}


def docs_section() -> str:
    """The generated part of docs/neo4j.md: every canned query's Cypher, as printed by
    ``dealgraph neo4j cypher NAME`` (tests/test_neo4j_cypher.py checks the page has it)."""
    out = [DOCS_BEGIN, ""]
    for name in CYPHER_STATEMENTS:
        for opts in DOCS_OPTIONS.get(name, [{}]):
            flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in opts.items())
            out += [f"#### `dealgraph neo4j cypher {name}{' ' + flags if flags else ''}`", "",
                    "```cypher", cypher_script(name, **opts).rstrip("\n"), "```", ""]
    out.append(DOCS_END)
    return "\n".join(out)


def write_docs(path) -> bool:
    """Replace the generated section of ``path``; True when it changed."""
    from pathlib import Path

    p = Path(path)
    text = p.read_text(encoding="utf-8")
    start, end = text.index(DOCS_BEGIN), text.index(DOCS_END) + len(DOCS_END)
    new = text[:start] + docs_section() + text[end:]
    p.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    import sys

    print("updated" if write_docs(sys.argv[1]) else "unchanged", sys.argv[1])
