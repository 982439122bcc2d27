"""The data model is declared once, in ``graph/schema.py``.

Two kinds of check keep it so:

* No other module of the repository restates a table's columns or one of the
  model's vocabularies (deal types, statuses, qualifiers, metrics, entity kinds)
  as a literal tuple, list or set: each must read the declaration. A literal of
  three or more names counts as a restatement when it is one of the column groups
  the schema declares (a table's columns, its CSV columns, its key, its amounts,
  their qualifier and USD columns, its dictionary-encoded columns, ...) or holds most (3/4) of a table's CSV or
  stored columns, or of a vocabulary. Picking a few columns to show or sort by is
  not a restatement. A dict literal counts by its keys when its values are
  constants (``{"id": "TEXT", ...}``: a table of columns); one whose values are
  code (how each column is validated or generated) is not a list.
* What the README and ``docs/neo4j.md`` show of the model (the deal types table,
  the CSV reference, the Neo4j properties) is generated here from the declaration
  and compared with their text.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from dealgraph.graph import schema
from dealgraph.graph.schema import DEAL_TYPES, TABLES
from dealgraph.loaders import amounts

REPO = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"tests", "build", "dist", "node_modules", "__pycache__", "dealgraph.egg-info"}
MOST = 0.75  # a literal holding this share of a table's (or vocabulary's) names restates it


# --------------------------------------------------------------------------- restatements

def _groups() -> list[tuple[str, set[str], set[str], bool]]:
    """``(what, names, universe, are they columns)``: every declared column group and
    vocabulary, with the names a literal must stay inside to be compared with it."""
    out = []
    for t in TABLES.values():
        usd = {f"{a}_usd" for a in t.amounts}
        universe = set(t.names) | usd
        # (not the required CSV columns: entities' id, name, kind are also what any view
        # of entities selects)
        for what, names in (("columns", t.names), ("CSV columns", t.csv_columns), ("key", t.key),
                            ("amount columns", t.amounts), ("qualifier columns", {f"{a}_qualifier" for a in t.amounts}),
                            ("USD columns", usd), ("derived columns", t.derived),
                            ("dictionary-encoded columns", t.encoded), ("identity columns", t.identity)):
            out.append((f"{t.name} {what}", set(names), universe, True))
    deals = TABLES["deals"]
    out.append(("deal columns that are metric observations", set(schema.DEAL_METRIC_COLUMNS),
                set(deals.names), True))
    for what, names in (("deal types", DEAL_TYPES), ("statuses", schema.STATUSES), ("qualifiers", schema.QUALIFIERS),
                        ("metrics", schema.METRICS), ("entity kinds", schema.ENTITY_KINDS)):
        out.append((what, set(names), set(names), False))
    return out


#: ``(what, names, are they columns)``: a literal holding most of one of these restates it.
_MOST_OF = [(f"{t.name} CSV columns", set(t.csv_columns), True) for t in TABLES.values()] + \
           [(f"{t.name} columns", set(t.names), True) for t in TABLES.values()] + \
           [(what, names, False) for what, names, _universe, columns in _groups() if not columns]


def _constant(node) -> bool:
    """A literal value: a constant, or a tuple/list of them."""
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_constant(e) for e in node.elts)
    return isinstance(node, ast.Constant)


def restatements(source: str) -> list[tuple[int, str, list[str]]]:
    """``(line, what it restates, the literal)`` for each restating literal of ``source``."""
    groups = _groups()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            elts, columns_only = node.elts, False
        elif isinstance(node, ast.Dict) and all(_constant(v) for v in node.values):
            # a table of constants keyed by column (column -> type, ...). Keyed by deal type,
            # status or qualifier (colours, shares, prefixes) it is what that module says
            # about each value, not a list of them.
            elts, columns_only = node.keys, True
        else:
            continue
        if not all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in elts):
            continue
        names = [e.value for e in elts]
        lit = set(names)
        if len(lit) < 3:
            continue
        hits = [what for what, group, universe, columns in groups
                if lit <= universe and lit == group and (columns or not columns_only)]
        hits += [f"most of the {what}" for what, group, columns in _MOST_OF
                 if lit <= group and len(lit) >= MOST * len(group) and lit != group and (columns or not columns_only)]
        if hits:
            found.append((node.lineno, hits[0], names))
    return found


def _python_files() -> list[Path]:
    """The repository's Python files, outside tests/ and graph/schema.py (the ``dealgraph/``
    links to the subsystem folders are not followed: their files are seen once)."""
    out = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS and "venv" not in d]
        for f in files:
            p = Path(root) / f
            if f.endswith(".py") and p != REPO / "graph" / "schema.py":
                out.append(p)
    return sorted(out)


def test_no_module_restates_a_column_list_or_vocabulary_of_the_schema():
    files = _python_files()
    seen = {p.relative_to(REPO).as_posix() for p in files}
    assert {"graph/store.py", "loaders/validate.py", "neo4j_backend/model.py", "viz/report.py"} <= seen
    problems = [f"{p.relative_to(REPO)}:{line}: restates the {what}: {names} (read graph/schema.py instead)"
                for p in files for line, what, names in restatements(p.read_text(encoding="utf-8"))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("literal, what", [
    ('KEYS = ("entity", "metric", "date", "source")', "metrics key"),
    ('MONEY = ("amount", "post_money_valuation", "target_revenue", "acquirer_market_cap")', "deals amount columns"),
    ('QUALIFIERS = ("exact", "approx", "up_to", "at_least", "range")', "qualifiers"),
    ('DEAL_MONEY_COLUMNS = ("post_money_valuation", "target_revenue", "acquirer_market_cap")',
     "deal columns that are metric observations"),
    ('TABLES = {"fx": {"currency": "TEXT", "date": "TEXT", "date_key": "INTEGER", "date_precision": "INTEGER",\n'
     '                 "usd_per_unit": "REAL", "source": "TEXT"}}', "fx columns"),
    ('shown = {"completed", "announced", "in_talks", "rumoured"}', "most of the statuses"),
    ('cols = ["id", "name", "kind", "aliases", "ticker", "country", "source"]', "most of the entities CSV columns"),
    ('for c in ("amount_qualifier", "post_money_valuation_qualifier", "target_revenue_qualifier",\n'
     '          "acquirer_market_cap_qualifier"): pass', "deals qualifier columns"),
])
def test_the_scan_finds_what_the_store_and_validation_used_to_restate(literal, what):
    found = restatements(literal)
    assert found and found[0][1].startswith(what), found


@pytest.mark.parametrize("literal", [
    'order = ["date_key", "date_precision", "deal_id"]',  # a sort order
    'view = ["deal_id", "date", "type", "payer", "payee", "amount", "status", "source"]',  # a display choice
    'refs = ("payer", "payee")',
    'look = ("id", "name", "aliases")',
    'row = {"id": i, "name": n, "kind": k, "aliases": a, "ticker": t, "country": c, "source": s}',  # code
    'colour = {"funding_round": "#2ca02c", "investment": "#17becf", "acquisition": "#d62728"}',
])
def test_the_scan_leaves_selections_of_a_few_columns_alone(literal):
    assert restatements(literal) == []


# --------------------------------------------------------------------------- the declaration itself

def test_each_table_is_stored_key_first_and_its_csv_file_reads_its_declared_columns():
    for t in TABLES.values():
        assert t.names[:len(t.key)] == t.key
        assert set(t.csv_required) <= set(t.csv_columns) <= set(t.names)
        for a in t.amounts:
            assert t.types[a] == "REAL" and t.types[f"{a}_qualifier"] == "TEXT"
        for c, factors in t.derived.items():
            assert t.types[c] == "REAL" and all(t.types[f] == "REAL" for f in factors)
        assert all(t.types[c] == "TEXT" for c in t.encoded)
        assert all(t.types[c] == "INTEGER" for c in t.narrowed)
    assert schema.FILE_KINDS["deals"] == (schema.DEAL_COLUMNS, ("date", "type", "payee"))
    assert set(schema.APPLY_ORDER) == set(TABLES)
    assert set(schema.DEAL_METRIC_COLUMNS) <= set(schema.DEALS.amounts)
    assert {m for m, _side in schema.DEAL_METRIC_COLUMNS.values()} <= set(schema.METRICS)


def test_every_qualifier_can_be_written_and_read_back():
    for q in schema.QUALIFIERS:
        text = amounts.format_amount(5e6, q, 4e6, 6e6)
        value, qualifier, _sym, errors = amounts.parse_amounts(__import__("pyarrow").array([text]))
        assert not errors and value[0].as_py() == 5e6 and qualifier[0].as_py() == q, text


# --------------------------------------------------------------------------- the docs agree

def _readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def _section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def deal_types_markdown() -> str:
    """The README's table of deal types, as the schema declares them."""
    lines = ["| type | payer | payee | flows | flows back | directed | Neo4j relationship |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {t.name} | {t.payer_role} | {t.payee_role} | {t.flows} | {t.flows_back} | "
              f"{'yes' if t.directed else 'no'} | `{t.neo4j_type}` |" for t in DEAL_TYPES.values()]
    return "\n".join(lines)


def csv_reference_lines() -> list[str]:
    """The CSV reference's column lists: the deals header, and a line for each other kind."""
    out = [f"`{','.join(schema.DEAL_COLUMNS)}`"]
    for kind in ("entities", "metrics", "fx"):
        t = TABLES[kind]
        out.append(f"* {kind}: `{','.join(t.csv_columns)}` (required: {', '.join(t.csv_required)})")
    return out


def test_the_readme_data_model_is_the_declared_one():
    model = _section(_readme(), "The data model")
    assert deal_types_markdown() in model
    assert f"`kind` ({', '.join(schema.ENTITY_KINDS)})" in model
    *first, last = schema.METRICS
    assert ", ".join(f"`{m}`" for m in first) + f" or `{last}`" in model
    assert all(f"`{c}`" in model for c in schema.DEAL_METRIC_COLUMNS)


def test_the_readme_csv_reference_lists_the_declared_columns():
    ref = _section(_readme(), "CSV reference")
    for line in csv_reference_lines():
        assert line in ref.splitlines(), line
    # the deals table: one row a column (figures sharing a row), in file order, "yes" where required
    deals = ref[ref.index("### Deals"):ref.index("### Entities")]
    rows = [r.split("|")[1:3] for r in deals.splitlines() if r.startswith("| `")]
    named = [(n.strip(" `"), req.strip()) for names, req in rows for n in names.split(",")]
    assert [n for n, _ in named] == list(schema.DEAL_COLUMNS)
    assert [n for n, req in named if req == "yes"] == list(schema.DEALS.csv_required)
    statuses = ", ".join(f"{s} (default)" if s == schema.DEFAULT_STATUS else s for s in schema.STATUSES)
    assert f"| {statuses} |" in deals
    assert f"({', '.join(schema.QUALIFIERS)})" in deals


def _neo4j_doc() -> str:
    return (REPO / "docs" / "neo4j.md").read_text(encoding="utf-8")


def _properties(block: str, opener: str) -> set[str]:
    """The property names in ``{...}`` after ``opener`` in the model diagram, with
    ``x(_a|_b)`` standing for x, x_a and x_b."""
    start = block.index(opener + "{") + len(opener) + 1
    body = block[start:block.index("}", start)]
    names = set()
    for part in re.sub(r"\s+", " ", body.replace("│", " ")).split(","):
        part = part.strip()
        m = re.fullmatch(r"(\w+)\(((?:_\w+\|?)+)\)", part)
        if m:
            names |= {m.group(1)} | {m.group(1) + s for s in m.group(2).split("|")}
        elif part:
            names.add(part)
    return names


def test_the_neo4j_model_doc_lists_the_declared_properties_and_relationships():
    doc = _neo4j_doc()
    by_rel: dict[str, list[str]] = {}
    for t in DEAL_TYPES.values():
        by_rel.setdefault(t.neo4j_type, []).append(t.name)
    for rel, types in by_rel.items():
        assert f"| {', '.join(types)} | `{rel}` |" in doc, rel
    ignore = {"extra"}  # pushed only when a row has non-schema columns
    assert _properties(doc, "(:Entity:Investor ") - ignore == set(TABLES["entities"].names) - ignore
    assert _properties(doc, "(:Metric ") - ignore == set(TABLES["metrics"].names) - ignore
    assert _properties(doc, "(:FxRate ") - ignore == set(TABLES["fx"].names) - ignore
    deals = schema.DEALS
    pushed = (set(deals.names) | {f"{a}_usd{e}" for a in deals.amounts for e in ("", "_low", "_high")}) \
        - {"payer", "payee"}  # the ends of the edge
    assert _properties(doc, ":LENT_TO\n        │  ") == pushed
