"""Output formats: table, csv, json, markdown; n/a never 0; user text stays text."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd

from dealgraph.queries.output import format_cell, render


def frame():
    return pd.DataFrame({
        "name": ["a|b", "[bold]x[/bold]"],
        "amount_usd": [2e10, np.nan],
        "share_pct": [0.4444, np.nan],
        "multiple": [2.898, 40.0],
        "flag": [True, False],
        "n": pd.array([3, pd.NA], dtype="Int64"),
    })


def test_csv_keeps_raw_numbers_and_empty_missing():
    out = render(frame(), "csv")
    back = pd.read_csv(io.StringIO(out))
    assert back.loc[0, "amount_usd"] == 2e10 and math.isnan(back.loc[1, "amount_usd"])
    assert back.loc[0, "name"] == "a|b"
    assert "\n[bold]x[/bold],,," in out


def test_json_nulls_and_types():
    recs = json.loads(render(frame(), "json"))
    assert recs[0] == {"name": "a|b", "amount_usd": 2e10, "share_pct": 0.4444, "multiple": 2.898, "flag": True,
                       "n": 3}
    assert recs[1]["amount_usd"] is None and recs[1]["n"] is None and recs[1]["flag"] is False


def test_markdown_escapes_and_formats():
    out = render(frame(), "markdown", title="T|1")
    lines = out.strip().splitlines()
    assert lines[0] == "**T\\|1**"
    assert lines[2] == "| name | amount_usd | share_pct | multiple | flag | n |"
    assert lines[4] == "| a\\|b | $20.0bn | 0.444% | 2.898x | yes | 3 |"
    assert lines[5] == "| [bold]x[/bold] | n/a | n/a | 40x | no | n/a |"


def test_table_shows_user_text_verbatim_and_na():
    out = render(frame(), "table", title="t")
    assert "[bold]x[/bold]" in out          # not interpreted as rich markup
    assert "n/a" in out and "$20.0bn" in out and "0.444%" in out
    assert " 0 " not in out.replace("$20.0bn", "")


def test_format_cell_rules():
    assert format_cell("amount_usd", 4.5e12) == "$4.5tn"
    assert format_cell("amount_usd", 650e6) == "$650m"
    assert format_cell("share_of_acquirer_cap_pct", 0.0203125) == "0.0203%"
    assert format_cell("annualised_compound_pct", 6958.68) == "6,959%"
    assert format_cell("deal_to_revenue", 19.7333) == "19.73x"
    assert format_cell("months", 3.0) == "3"
    assert format_cell("x", float("nan")) == "n/a" and format_cell("x", None) == "n/a"
