"""Every registered query is documented in docs/queries.md, with each of its options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dealgraph.queries.registry import CHECK, QUERIES

DOC = Path(__file__).resolve().parent.parent / "docs" / "queries.md"


def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^## +(.+?)\s*$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


@pytest.mark.parametrize("name", list(QUERIES) + [CHECK.name])
def test_query_is_documented_with_its_options(name):
    doc = sections()
    assert name in doc, f"docs/queries.md has no '## {name}' section"
    body = doc[name]
    q = QUERIES.get(name, CHECK)
    for o in q.options:
        spelled = o.name.upper() if o.argument else o.flag
        assert spelled in body, f"## {name} does not mention {spelled}"
    assert len(body.split()) > 60, f"## {name} is too short to define the query"


def test_every_section_is_a_registered_query():
    extra = set(sections()) - set(QUERIES) - {CHECK.name, "Common to every query"}
    assert not extra, f"sections for unknown queries: {extra}"
