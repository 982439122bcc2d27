"""Terminal tables at fixed widths: the exact text of every query, `deals`, `show`, `check` and
`lint` at COLUMNS=80 and 120 (tests/tables/*.txt), every line within the width, the key figures
present; and the rules of the layout itself (dealgraph.queries.output)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from dealgraph.cli import main
from dealgraph.errors import QueryError
from dealgraph.queries.output import Layout, fit, render, select
from dealgraph.queries.registry import QUERIES

GOLDEN = Path(__file__).resolve().parent / "tables"
#: DEALGRAPH_UPDATE_TABLES=1 rewrites the expected files (then read the diff before committing).
UPDATE = os.environ.get("DEALGRAPH_UPDATE_TABLES") == "1"

#: command line -> what the table must show, at any width
CASES: dict[str, tuple[list[str], list[str]]] = {
    "circular-flows": (["query", "circular-flows", "--max-length", "4"],
                       ["Nvidia → OpenAI → Oracle → Nvidia", "$40.0bn", "$440.0bn", "13 cycles"]),
    "multiples": (["query", "multiples"], ["Nvidia", "Groq", "$20.0bn", "40x", "~$650m", "8 deals, $51.0bn"]),
    "deal-comparisons": (["query", "deal-comparisons"],
                         ["Nvidia → Groq", "$20.0bn", "40x", "0.444%", "~$6.9bn", "6 deals, $51.0bn"]),
    "returns": (["query", "returns"], ["Groq", "$20.0bn", "2.899x", "9 exit/round pairs"]),
    "rounds": (["query", "rounds", "groq"], ["Nvidia", "$750m", "$6.9bn", "2.464x", "4 rounds"]),
    "concentration": (["query", "concentration"], ["Oracle", "$300.0bn", "OpenAI", "13 entities"]),
    "round-trip": (["query", "round-trip"], ["Microsoft", "$280.0bn", "100%", "13 entities"]),
    "check": (["check"], ["nvidia-groq-license", "supported", "not supported",
                          "15 claims: 12 supported, 3 not supported, 0 cannot check"]),
    "queries": (["queries"], ["circular-flows", "deal-comparisons", "sensitivity", "check", "12 queries"]),
    "deals": (["deals", "--entity", "groq"], ["Nvidia", "Groq", "$20.0bn", "$640m", "4 deals, $21.4bn"]),
    "show": (["show", "groq"], ["Groq (groq)", "paid by", "Nvidia", "$20.0bn", "~$500m", "4 deals, $21.4bn"]),
    "circularity": (["query", "circularity", "--samples", "200"],
                    ["cycles of length 2..4", "circular volume ", "$774.7bn", "OpenAI", "19 figures"]),
    "hubs": (["query", "hubs"], ["OpenAI", "$41.0bn", "$572.4bn", "81.22%", "8 entities"]),
    "timeline": (["query", "timeline"], ["2025-Q4", "$415.0bn", "  closed by: Nvidia → OpenAI → Oracle → Nvidia",
                                         "(nvidia-openai-investment-2025-09); +2 more", "48 periods, $942.2bn"]),
    "sensitivity": (["query", "sensitivity"], ["baseline:\n", "without nvidia-openai-investment-2025-09:\n",
                                               "capacity of OpenAI ", "$41.0bn", "round-trip share of Nvidia ",
                                               "160 figures"]),
    "lint": (["lint"], ["round-without-valuation  info", "  fix: dealgraph add FILE.csv  # a metrics file",
                        "10 findings: 0 errors, 1 warning, 9 info"]),
    "show-deal": (["show", "meta-scale-stake-2025-06"], ["deal meta-scale-stake-2025-06", "$14.8bn", "$14.3bn",
                                                         "TheWrap", "$870m", "~$750m", "6 observations"]),
}
assert set(QUERIES) <= set(CASES), "every registered query has an exact-output table test"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    from dealgraph.graph.store import open_store

    path = tmp_path_factory.mktemp("tables") / "sample.db"
    open_store(path)
    return path


def run(db: Path, args: list[str], width: int | None = None) -> str:
    env = {"DEALGRAPH_DB": str(db)}
    if width is not None:
        env["COLUMNS"] = str(width)
    r = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("name", list(CASES))
def test_the_exact_table(db, name, width):
    args, musts = CASES[name]
    out = run(db, args, width)
    lines = out.splitlines()
    assert all(len(line) <= width for line in lines), [line for line in lines if len(line) > width]
    for text in musts:
        assert text in out, (text, out)
    assert ("\n\n" not in out.strip() or name.startswith("show")) and out.endswith("\n\n")   # a blank line after a table
    assert not any(line != line.rstrip() for line in lines)
    expected = GOLDEN / f"{name}-{width}.txt"
    if UPDATE or not expected.exists():
        expected.write_text(out, encoding="utf-8")
    assert out == expected.read_text(encoding="utf-8")


def test_no_terminal_and_no_columns_is_80_wide(db):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-c", "from dealgraph.cli import main; main()", "query", "deal-comparisons"],
                       capture_output=True, text=True, env={**env, "DEALGRAPH_DB": str(db)})
    assert p.returncode == 0, p.stderr
    assert p.stdout == (GOLDEN / "deal-comparisons-80.txt").read_text(encoding="utf-8")


def test_wide_shows_every_column_at_full_width(db):
    out = run(db, ["query", "deal-comparisons", "--wide"], 80)
    recs = json.loads(run(db, ["query", "deal-comparisons", "--format", "json"]))
    header_block = out.split("─")[0]
    for col in recs[0]:
        # folded: the qualifier into value_usd (~$650m), a figure's low/high into its cell (4.0–8.0x)
        if col != "value_qualifier" and not (col.endswith(("_low", "_high")) and col.rsplit("_", 1)[0] in recs[0]):
            assert col.replace("_", " ").split()[-1] in header_block
    assert "more column" not in out and max(len(line) for line in out.splitlines()) > 80
    assert "Nvidia → Mellanox Technologies" in out and "…" not in out.split("\n", 1)[1].rsplit("\n", 2)[0]


def test_columns_sort_limit_in_every_format(db):
    args = ["query", "circular-flows", "--max-length", "4", "--columns", "cycle,total usd", "--sort", "-total_usd",
            "--limit", "3"]
    table = run(db, args, 80)
    body = table.rstrip().split("─\n")[1].splitlines()
    assert body[0].startswith("Nvidia → OpenAI → Oracle → Nvidia") and len(body) == 4
    assert "13 cycles; showing 3 (--limit)" in table
    recs = json.loads(run(db, args + ["--format", "json"]))
    assert [list(r) for r in recs] == [["cycle", "total_usd"]] * 3
    assert [r["total_usd"] for r in recs] == sorted((r["total_usd"] for r in recs), reverse=True)
    csv = run(db, args + ["--format", "csv"])
    assert csv.splitlines()[0] == "cycle,total_usd" and len(csv.splitlines()) == 4
    assert "440000000000.0" in csv          # raw numbers, ids: machine formats are exact
    assert "nvidia -> openai -> oracle -> nvidia" in csv


def test_machine_formats_are_complete(db):
    recs = json.loads(run(db, ["query", "multiples", "--format", "json"]))
    assert "amount_qualifier" in recs[0] and "reasons" in recs[0]
    assert any(r["amount_usd"] == 650e6 and r["amount_qualifier"] == "approx" for r in recs)


def test_show_csv_is_one_table(db):
    r = CliRunner().invoke(main, ["show", "groq", "--format", "csv"], env={"DEALGRAPH_DB": str(db)})
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0].startswith("deal_id,date,direction,counterparty,type,amount_usd,amount_qualifier")
    assert len(lines) == 5 and "--part" in r.stderr
    for part, head in (("entity", "field,value"), ("metrics", "metric,date,value,value_qualifier,value_low,value_high,currency,value_usd,value_usd_low,"
                                                       "value_usd_high,deal_id,source"),
                       ("sources", "source")):
        out = run(db, ["show", "groq", "--format", "csv", "--part", part])
        assert out.splitlines()[0] == head, out
    metrics = json.loads(run(db, ["show", "groq", "--format", "json", "--part", "metrics"]))
    assert {"value": 5e8, "value_qualifier": "approx"}.items() <= metrics[-1].items()


# --- the layout rules, on small frames ------------------------------------------------------


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "label": ["a rather long label that cannot fit", "short"],
        "amount_usd": [2e10, 6.5e8], "amount_qualifier": ["up_to", "approx"],
        "share_pct": [12.5, np.nan], "note": ["x" * 50, "y"], "payer": ["nvidia", "nobody"],
    })


def test_numbers_are_never_shortened_text_ends_in_an_ellipsis():
    out = render(frame(), "table", width=50, layout=Layout(("label", "amount_usd", "share_pct")))
    lines = out.rstrip().splitlines()
    assert all(len(line) <= 50 for line in lines)
    assert "up to $20.0bn" in out and "~$650m" in out and "12.5%" in out
    assert lines[3].startswith("a rather long label that ca…") and "qualifier" not in out  # folded into the money
    assert lines[-1].startswith("2 rows; 2 more columns")


def test_headers_wrap_between_words_only():
    df = pd.DataFrame({"share_of_acquirer_cap_pct": [0.4], "x": ["y"]})
    out = render(df, "table", width=30)
    head = out.split("─")[0].split()
    assert {"share", "of", "acquirer", "cap", "pct"} <= set(head)


def test_names_replace_ids_in_named_columns_and_paths():
    df = pd.DataFrame({"cycle": ["a -> b -> a"], "payer": ["a"], "deal_id": ["a"]})
    out = render(df, "table", layout=Layout(names=("cycle", "payer")), names={"a": "Alpha", "b": "Beta"}, width=80)
    row = out.split("─\n")[1].splitlines()[0]
    assert row.split("  ") == ["Alpha → Beta → Alpha", "Alpha", "a"]   # the deal id stays an id


def test_fit_takes_columns_by_priority():
    headers = ["a", "b", "c"]
    rows = [["x" * 30, "1" * 10, "y" * 30]]
    # b (a number: whole), then a at up to half the width, then c squeezed into what is left
    keep, widths = fit(headers, rows, [False, True, False], ("b", "a"), 50)
    assert keep == [0, 1, 2] and widths == [24, 10, 12] and sum(widths) + 2 * 2 == 50
    keep, widths = fit(headers, rows, [False, True, False], ("c", "b"), 30)
    assert keep == [1, 2] and widths == [10, 18]


def test_select_refuses_unknown_columns_and_negative_limits():
    with pytest.raises(QueryError, match="no column 'nope'; the columns are label, amount_usd"):
        select(frame(), columns="label,nope")
    with pytest.raises(QueryError, match="--sort: no column"):
        select(frame(), sort="-nope")
    with pytest.raises(QueryError, match="--limit must be 0 or more"):
        select(frame(), limit=-1)
    assert list(select(frame(), sort="-amount usd")["label"]) == ["a rather long label that cannot fit", "short"]
    assert list(select(frame(), sort="share_pct")["label"])[-1] == "short"   # missing last


def test_money_reads_like_the_press():
    from dealgraph.queries.common import money

    assert [money(v) for v in (20e9, 650e6, 1.2e12, 6.5e6, 6e6, 999.97e6, 750, -5e9)] == \
        ["$20.0bn", "$650m", "$1.2tn", "$6.5m", "$6m", "$1.0bn", "$750", "-$5.0bn"]
    assert [money(1e11, q) for q in ("exact", "approx", "up_to", "at_least")] == \
        ["$100.0bn", "~$100.0bn", "up to $100.0bn", "at least $100.0bn"]
    assert money(float("nan")) == "n/a"


def test_units_sections_groups_and_detail_lines():
    df = pd.DataFrame({"scenario": ["base", "base", "without d1"], "figure": ["cycles 2..4", "capacity of a ($bn)",
                                                                             "share of a (%)"],
                       "value": [13.0, 41.0, 80.0], "fix": ["dealgraph x " + "y " * 40, "", None]})
    layout = Layout(("figure", "value"), names=("figure",), units="figure", in_units=("value",),
                    sections="scenario", details=("fix",))
    out = render(df, "table", layout=layout, names={"a": "Alpha"}, width=40)
    lines = out.splitlines()
    assert all(len(line) <= 40 for line in lines)
    assert lines == ["figure               value", "─" * 26, "base:", "cycles 2..4             13",
                     "  fix: dealgraph x y y y y y y y y y y y", "       y y y y y y y y y y y y y y y y y",
                     "       y y y y y y y y y y y y", "capacity of Alpha  $41.0bn",
                     "without d1:", "share of Alpha         80%", "3 rows", ""]
    # machine formats: every column, the figures as stored
    assert render(df, "csv", layout=layout).splitlines()[2] == "base,capacity of a ($bn),41.0,"
    grouped = render(df, "table", layout=Layout(group="scenario"), width=80).splitlines()
    assert [line[:10].strip() for line in grouped[2:5]] == ["base", "", "without d1"]


def test_as_written_headers_and_missing_text():
    df = pd.DataFrame({"sum(amount_usd)": [1e9, np.nan], "amount_usd": [2e9, 3e9], "amount_qualifier": ["approx", None]})
    out = render(df, "table", layout=Layout(raw_headers=True, missing="NULL"), width=80).splitlines()
    assert out[0].split() == ["sum(amount_usd)", "amount_usd", "amount_qualifier"]   # as written, none folded
    assert out[3].split() == ["NULL", "$3.0bn", "NULL"]
    plain = render(df, "table", width=80).splitlines()
    assert plain[0].split() == ["sum(amount", "amount"] and plain[4].split() == ["n/a", "$3.0bn"]


def test_one_of_a_noun():
    df = pd.DataFrame({"entity": ["a"]})
    assert render(df, "table", layout=Layout(noun="entities"), width=80).splitlines()[-2] == "1 entity"
