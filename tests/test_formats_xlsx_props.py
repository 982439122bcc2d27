"""Property: any table in the CSV schema written by `write_xlsx` reads back, through the
xlsx reader `add` uses, as exactly the same text cells (hostile and odd text, every
qualifier, numbers Excel can and cannot hold exactly)."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealgraph.graph.exports import write_xlsx
from dealgraph.graph.schema import DEALS, ENTITIES, QUALIFIERS, TABLES
from dealgraph.loaders.amounts import format_amount, format_number
from dealgraph.loaders.xlsx import read_xlsx_file

# what an xlsx cell can hold: no control characters but tab, newline, CR; no surrogates
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=[chr(c) for c in range(32)
                                                                               if chr(c) not in "\t\n\r"]),
               max_size=30)
HOSTILE = st.sampled_from(["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx", "'=x", "  spaced  ", "1e5", "007"])
NUMBER = st.one_of(st.integers(1, 10**18).map(float), st.floats(1e-3, 1e20, allow_nan=False),
                   st.sampled_from([0.1 + 0.2, 1234567890123456.0, 5e-324 * 1e300]))


class Frames:
    """Stands in for a store: what `write_xlsx` reads is `export_frames()`."""

    def __init__(self, frames):
        self.frames = frames

    def export_frames(self):
        return self.frames


@st.composite
def frames(draw):
    n = draw(st.integers(1, 6))
    text = st.one_of(TEXT, HOSTILE)
    deals = {c: [draw(text) for _ in range(n)] for c in DEALS.csv_columns}
    deals["deal_id"] = [f"d{i}" for i in range(n)]  # a row is never empty
    for c in DEALS.amounts:
        point = st.builds(format_amount, NUMBER, st.sampled_from([q for q in QUALIFIERS if q != "range"]))
        ranged = st.builds(lambda a, b: format_amount(0.0, "range", min(a, b), max(a, b)), NUMBER, NUMBER)
        deals[c] = [draw(st.one_of(st.just(""), point, ranged)) for _ in range(n)]
    deals["stake_pct"] = [draw(st.one_of(st.just(""), NUMBER.map(format_number))) for _ in range(n)]
    ents = {c: [draw(text) for _ in range(n)] for c in ENTITIES.csv_columns}
    ents["id"] = [f"e{i}" for i in range(n)]
    out = {k: pd.DataFrame({c: [] for c in TABLES[k].csv_columns}, dtype="string") for k in TABLES}
    out["deals"], out["entities"] = pd.DataFrame(deals), pd.DataFrame(ents)
    return {k: out[k] for k in ("entities", "fx", "deals", "metrics")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames())
def test_every_cell_reads_back_as_the_text_it_was(tmp_path, tables):
    path = tmp_path / "p.xlsx"
    write_xlsx(Frames(tables), path)
    back, problems = read_xlsx_file(path)
    assert problems == []
    got = {t.sheet: t for t in back}
    assert set(got) == {"entities", "deals"}  # sheets with only a header hold no rows
    for name, t in got.items():
        want = tables[name]
        assert t.header == list(want.columns)
        for c in want.columns:
            assert t.cells[c].to_pylist() == want[c].tolist(), (name, c)
