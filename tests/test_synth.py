"""The synthetic generator: valid CSV, deterministic, and shaped as documented."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
from click.testing import CliRunner

from dealgraph.graph.schema import DEAL_COLUMNS, ENTITY_COLUMNS, MONEY_TYPES, STATUSES
from dealgraph.loaders.csv import read_csv_file
from dealgraph.cli.synth import synth_command
from dealgraph.loaders.synth import deals_frame, write
from dealgraph.loaders.validate import validate_table
from dealgraph.queries.circular import circular_flows


def _read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_files_are_valid_per_the_csv_schema(tmp_path):
    ep, dp = write(tmp_path, 20_000, 3_000, seed=5)
    for path, kind, cols in ((ep, "entities", ENTITY_COLUMNS), (dp, "deals", DEAL_COLUMNS)):
        table = read_csv_file(path)
        assert table.kind == kind
        rows, problems = validate_table(table)
        assert problems == []
        assert len(rows) == (3_000 if kind == "entities" else 20_000)
        assert list(_read(path).columns) == list(cols)
    deals, ents = _read(dp), _read(ep)
    known = set(ents["id"])
    assert set(deals["payee"]) <= known
    assert set(deals.loc[deals["payer"] != "", "payer"]) <= known
    assert deals["deal_id"].is_unique


def test_no_money_figure_rounds_to_zero(tmp_path):
    """Regression: seed 20 once wrote a target_revenue of 0, which the loader refuses."""
    _ep, dp = write(tmp_path, 20_000, 4_940, seed=20)
    rows, problems = validate_table(read_csv_file(dp))
    assert problems == []
    for col in ("amount", "post_money_valuation", "target_revenue", "acquirer_market_cap"):
        values = pd.to_numeric(_read(dp)[col].str.lstrip("~").replace("", np.nan))
        assert (values.dropna() >= 1000).all()


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = write(tmp_path / "a", 5_000, 800, seed=11)
    b = write(tmp_path / "b", 5_000, 800, seed=11)
    c = write(tmp_path / "c", 5_000, 800, seed=12)
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes()
    assert a[1].read_bytes() != c[1].read_bytes()


def test_same_seed_same_bytes_across_processes(tmp_path):
    """Nothing may depend on per-process state such as string hash randomisation."""
    code = ("import sys; from dealgraph.loaders.synth import write; "
            "write(sys.argv[1], 3000, 500, seed=2)")
    for name, hashseed in (("p1", "1"), ("p2", "2")):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / name)], check=True,
                       env={"PYTHONHASHSEED": hashseed, "PATH": "/usr/bin:/bin"})
    assert (tmp_path / "p1" / "deals.csv").read_bytes() == (tmp_path / "p2" / "deals.csv").read_bytes()


def test_shape_hubs_types_dates_amounts_parallel_deals(tmp_path):
    _ep, dp = write(tmp_path, 50_000, 10_000, seed=7)
    d = _read(dp)
    # every deal type and status occurs, in roughly the documented proportions
    share = d["type"].value_counts(normalize=True)
    assert set(share.index) == set(MONEY_TYPES)  # synthetic deals are money deals (no partnerships, warrants)
    assert 0.30 < share["funding_round"] < 0.42 and share["acquihire"] < 0.03
    assert set(d["status"]) == set(STATUSES)
    assert (d.loc[d["payer"] == "", "type"] == "funding_round").all()
    # partial dates over ten years
    lengths = d["date"].str.len().value_counts(normalize=True)
    assert 0.7 < lengths[10] < 0.9 and 0.1 < lengths[7] < 0.2 and 0.02 < lengths[4] < 0.08
    years = d["date"].str[:4].astype(int)
    assert years.min() == 2016 and years.max() == 2025
    assert (years >= 2021).mean() > 0.5  # the boom: more deals in later years
    # amounts: some undisclosed, some approximate, log-normal spread
    assert 0.08 < (d["amount"] == "").mean() < 0.16
    assert d["amount"].str.startswith("~").any()
    amounts = pd.to_numeric(d["amount"].str.lstrip("~").replace("", np.nan))
    assert amounts.quantile(0.99) > 50 * amounts.median()
    # power-law degrees: hubs are far above the median entity
    deg = pd.concat([d.loc[d["payer"] != "", "payer"], d["payee"]]).value_counts()
    assert deg.iloc[0] > 100 * deg.median()
    assert deg.index[0].startswith(("hub-", "startup-"))
    # parallel deals on one ordered pair
    pairs = d[d["payer"] != ""].groupby(["payer", "payee"]).size()
    assert (pairs > 1).sum() > 1000


def test_many_short_cycles_through_hubs():
    df = deals_frame(20_000, 4_000, seed=3)
    counts = circular_flows(df, max_length=3, count_only=True).attrs["counts_by_length"]
    assert counts[2] > 100 and counts[3] > 1000
    top = circular_flows(df, max_length=3, top=20)
    assert top["cycle"].str.contains("hub-").all()


def test_click_command_writes_files(tmp_path):
    res = CliRunner().invoke(synth_command, ["--deals", "1000", "--entities", "200", "--seed", "4",
                                             "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "1,000 deals" in res.output
    assert len(_read(tmp_path / "out" / "deals.csv")) == 1000
    assert len(_read(tmp_path / "out" / "entities.csv")) == 200
    bad = CliRunner().invoke(synth_command, ["--deals", "10", "--entities", "5", "-o", str(tmp_path / "x")])
    assert bad.exit_code != 0
