"""Sources as facts: the observations file kind, the value-choice rule, --explain, --min-confidence,
lint and check of disagreeing sources (docs/queries.md#sources)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from conftest import write
from dealgraph.graph.schema import CONFIDENCES, DEFAULT_CONFIDENCE
from dealgraph.queries.observations import RANK, allowed_confidences, rank_candidates

OBS_HEADER = "subject,field,as_of,value,currency,source,url,published,confidence,quote,notes\n"
DEALS = ("deal_id,date,type,payer,payee,amount,target_revenue,source,confidence\n"
         "x1,2025-03-01,acquisition,buyer-co,target-co,1bn,100m,Deal wire,reported\n"
         "x2,2025-04-01,acquisition,buyer-co,other-co,2bn,,Deal wire,estimated\n")


# --------------------------------------------------------------------------- the rule, against brute force

def _brute_force(cands: list[dict]) -> int:
    """The index of the candidate the documented rule picks, read literally, one criterion at a time."""
    best = list(range(len(cands)))
    for key in (lambda c: RANK[c["confidence"]],                         # 1. higher confidence
                lambda c: (-c["published_key"], -c["published_precision"]),  # 2. later publication (none: oldest)
                lambda c: not c["own"],                                   # 3. the row's own value first
                lambda c: c["value_qualifier"] != "exact",                # 4. exact before qualified
                lambda c: c["source"]):                                   # 5. source text, byte order
        top = min(key(cands[i]) for i in best)
        best = [i for i in best if key(cands[i]) == top]
    return best[0]


_candidate = st.fixed_dictionaries({
    "confidence": st.sampled_from(CONFIDENCES),
    "published_key": st.sampled_from([0, 20240000, 20250000, 20250600, 20250608, 20251200]),
    "own": st.booleans(),
    "value_qualifier": st.sampled_from(["exact", "approx", "up_to"]),
    "source": st.sampled_from(["A", "B", "Bloomberg", "TheWrap", "the article"]),
    "value": st.floats(1, 1e12),
})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_candidate, min_size=1, max_size=6), min_size=1, max_size=4))
def test_the_rule_picks_what_brute_force_picks(facts):
    rows = []
    for f, cands in enumerate(facts):
        seen = set()
        for c in cands:
            if (c["source"], c["own"]) in seen:  # the key: one figure per source and fact
                continue
            seen.add((c["source"], c["own"]))
            prec = 0 if not c["published_key"] else (1 if c["published_key"] % 10000 == 0 else
                                                     2 if c["published_key"] % 100 == 0 else 3)
            rows.append(dict(c, subject=f"d{f}", field="amount", as_of="", published_precision=prec))
    df = pd.DataFrame(rows).sample(frac=1, random_state=0)  # the order of adds must not matter
    ranked = rank_candidates(df)
    for subject, group in pd.DataFrame(rows).groupby("subject"):
        cands = group.to_dict("records")
        want = cands[_brute_force(cands)]
        got = ranked[(ranked["subject"] == subject) & ranked["chosen"]]
        assert len(got) == 1
        got = got.iloc[0]
        assert (got["source"], got["own"]) == (want["source"], want["own"])


def test_min_confidence_keeps_that_level_and_better():
    assert allowed_confidences(None) == CONFIDENCES
    assert allowed_confidences("reported") == ("confirmed", "reported")
    assert allowed_confidences("rumoured") == CONFIDENCES
    assert DEFAULT_CONFIDENCE in CONFIDENCES


# --------------------------------------------------------------------------- end to end, the real command

def _store(cli, empty_db, tmp_path):
    d = write(tmp_path / "deals.csv", DEALS)
    p = cli("add", str(d), db=empty_db)
    assert p.returncode == 0, p.stderr
    return empty_db


def test_an_observation_changes_the_figure_queries_use_and_explain_names_it(cli, empty_db, tmp_path):
    db = _store(cli, empty_db, tmp_path)
    before = json.loads(cli("query", "multiples", "--format", "json", db=db).stdout)
    assert [r["amount_usd"] for r in before if r["deal_id"] == "x1"] == [1e9]
    obs = write(tmp_path / "obs.csv", OBS_HEADER +
                "x1,amount,,1.2bn,,Filing 10-K,https://example.com/10k,2025-05-01,confirmed,\"paid $1.2 billion\",\n"
                "x1,amount,,0.9bn,,Blog,,2025-06-01,rumoured,,\n"
                "TARGET-CO,revenue,2024,120m,,Annual report,,2025-02,confirmed,,\n")
    p = cli("add", str(obs), db=db)
    assert p.returncode == 0, p.stderr
    assert "observations, 3 rows: 3 new" in p.stdout
    after = json.loads(cli("query", "multiples", "--format", "json", db=db).stdout)
    x1 = [r for r in after if r["deal_id"] == "x1"][0]
    assert x1["amount_usd"] == 1.2e9  # confirmed beats the deal row's reported $1bn and the rumour
    assert x1["deal_to_revenue"] == 12.0  # 1.2bn / the deal row's own 100m (no observation of it)
    p = cli("query", "multiples", "--explain", db=db)
    assert p.returncode == 0, p.stderr
    explained = " ".join(p.stdout.split())
    assert "x1: the deal row: Deal wire [reported]" in explained
    assert "amount used $1.2bn: Filing 10-K [confirmed, published 2025-05-01] https://example.com/10k" in explained
    assert "other source: $1.0bn: Deal wire [reported] (the row's own)" in explained
    assert "other source: $900m: Blog [rumoured, published 2025-06-01]" in explained
    # csv stays machine-readable: the explanation goes to stderr
    p = cli("query", "multiples", "--format", "csv", "--explain", db=db)
    assert "Filing 10-K" in p.stderr and "Filing 10-K" not in p.stdout
    # --min-confidence: the rumour alone cannot win, and deals below the level are left out
    rows = json.loads(cli("query", "multiples", "--all-deals", "--format", "json", "--min-confidence", "reported",
                          db=db).stdout)
    assert {r["deal_id"] for r in rows} == {"x1"}  # x2 is estimated
    rows = json.loads(cli("query", "multiples", "--all-deals", "--format", "json", "--min-confidence", "estimated",
                          db=db).stdout)
    assert {r["deal_id"] for r in rows} == {"x1", "x2"}
    listed = json.loads(cli("deals", "--format", "json", "--min-confidence", "confirmed", db=db).stdout)
    assert listed == []
    p = cli("query", "multiples", "--min-confidence", "sure", db=db)
    assert p.returncode == 2 and "sure" in p.stderr


def test_show_and_log_list_every_observation(cli, empty_db, tmp_path):
    db = _store(cli, empty_db, tmp_path)
    obs = write(tmp_path / "obs.csv", OBS_HEADER + "x1,amount,,1.2bn,,Filing,,2025-05-01,confirmed,,\n"
                                                   "x1,target_revenue,,~90m,,Press,,2025-04,reported,,\n")
    assert cli("add", str(obs), db=db).returncode == 0
    shown = json.loads(cli("show", "x1", "--format", "json", db=db).stdout)
    assert shown["deal"]["amount"] == "$1.2bn"
    cands = [(o["field"], o["figure"], o["source"], o["chosen"]) for o in shown["observations"]]
    assert cands == [("amount", "$1.2bn", "Filing", True), ("amount", "$1.0bn", "Deal wire", False),
                     ("target_revenue", "~$90m", "Press", True), ("target_revenue", "$100m", "Deal wire", False)]
    ent = json.loads(cli("show", "target-co", "--format", "json", db=db).stdout)
    assert len(ent["observations"]) == 4
    log = cli("log", "--deal", "x1", db=db).stdout
    assert "observations of x1: 2" in log and "source: Filing" in log and "inserted" in log


def test_lint_and_check_flag_disagreeing_sources(cli, empty_db, tmp_path):
    db = _store(cli, empty_db, tmp_path)
    obs = write(tmp_path / "obs.csv", OBS_HEADER + "x1,target_revenue,,125m,,Press,,2025-04,reported,,\n")
    assert cli("add", str(obs), db=db).returncode == 0
    findings = json.loads(cli("lint", "--format", "json", "--check", "amount-conflict", db=db).stdout)
    assert [(f["ids"], f["severity"]) for f in findings] == [("x1", "warning")]  # 20% apart > 10%
    assert "target_revenue" in findings[0]["message"] and "$125m: Press" in findings[0]["message"]
    claims = write(tmp_path / "claims.csv", "subject,metric,stated,source\nx1,deal_to_revenue,10x,Someone\n")
    rows = json.loads(cli("check", str(claims), "--format", "json", db=db).stdout)
    assert rows[0]["verdict"] == "not supported" and rows[0]["recomputed"] == 8.0  # 1bn / 125m
    assert "sources disagree on x1 target_revenue" in rows[0]["reason"]


def test_bad_observations_are_refused_with_file_line_column_and_nothing_is_stored(cli, empty_db, tmp_path):
    db = _store(cli, empty_db, tmp_path)
    export = tmp_path / "before"
    assert cli("export", str(export), db=db).returncode == 0
    bad = write(tmp_path / "bad.csv", OBS_HEADER +
                "x9,amount,,1bn,,S,,,,,\n"                 # unknown deal: did you mean x1?
                "x1,revenu,,1bn,,S,,,,,\n"                # unknown field
                "target-co,revenue,,1bn,,S,,,,,\n"        # an entity metric needs as_of
                "x1,amount,2025,1bn,,S,,,,,\n"            # a deal field has no as_of
                "x1,amount,,2-1bn,,S,,2025-13,sure,,\n"   # a reversed range, a bad date, a bad level
                "x1,amount,,1bn,EUR,S,ftp://x,,,,\n"      # not the deal's currency; not a web address
                "Buyer-Co,stake_pct,,49%,,S,,,,,\n")      # a stake is a deal field
    p = cli("add", str(bad), db=db)
    assert p.returncode == 1
    err = p.stderr
    f = str(bad)
    for where in (f"{f}:2:1: subject: no deal id or entity 'x9'", f"{f}:3:2: field: unknown value 'revenu'; did you "
                  "mean 'revenue'?", f"{f}:4:3: as_of: an entity metric needs", f"{f}:5:3: as_of: a deal field",
                  f"{f}:6:4: value: amount '2-1bn' is a reversed range",
                  f"{f}:6:8: published:", f"{f}:6:9: confidence: unknown value 'sure'",
                  f"{f}:7:5: currency: a deal field is in the deal's currency (USD)", f"{f}:7:7: url:",
                  f"{f}:8:2: field: 'stake_pct' is not an entity metric"):
        assert where in err, (where, err)
    assert "nothing was written" in err
    after = tmp_path / "after"
    assert cli("export", str(after), db=db).returncode == 0
    assert sorted(x.name for x in export.iterdir()) == sorted(x.name for x in after.iterdir())
    for name in sorted(x.name for x in export.iterdir()):
        assert (export / name).read_bytes() == (after / name).read_bytes(), name


def test_readd_is_idempotent_and_undo_restores_the_export_byte_for_byte(cli, empty_db, tmp_path):
    db = _store(cli, empty_db, tmp_path)
    before = tmp_path / "before"
    assert cli("export", str(before), db=db).returncode == 0
    obs = write(tmp_path / "obs.csv", OBS_HEADER + "x1,amount,,1.2bn,,Filing,,2025-05-01,confirmed,,\n"
                                                   "Target-Co,revenue,2024,120m,,Report,,,,,\n")
    assert cli("add", str(obs), db=db).returncode == 0
    again = cli("add", str(obs), db=db)
    assert "0 new, 0 changed, 2 unchanged" in again.stdout
    mid = tmp_path / "mid"
    assert cli("export", str(mid), db=db).returncode == 0
    assert (mid / "observations.csv").read_text().splitlines()[1:] == [  # by key; an entity named by its id
        "target-co,revenue,2024,120000000,USD,Report,,,reported,,",
        "x1,amount,,1200000000,USD,Filing,,2025-05-01,confirmed,,"]
    p = cli("undo", db=db)
    assert p.returncode == 0, p.stderr
    after = tmp_path / "after"
    assert cli("export", str(after), db=db).returncode == 0
    for name in sorted(x.name for x in before.iterdir()):
        assert (before / name).read_bytes() == (after / name).read_bytes(), name
    assert json.loads(cli("query", "multiples", "--format", "json", db=db).stdout)[0]["amount_usd"] == 1e9


def test_the_sample_data_shows_both_reported_amounts_with_their_sources(cli, sample_db, tmp_path):
    typo = write(tmp_path / "typo.csv", OBS_HEADER + "meta-scale-stake-2025-6,amount,,14.3bn,,S,,,,,\n")
    p = cli("add", str(typo), db=sample_db)
    assert p.returncode == 1 and "did you mean the deal 'meta-scale-stake-2025-06'?" in p.stderr
    shown = json.loads(cli("show", "meta-scale-stake-2025-06", "--format", "json", db=sample_db).stdout)
    amounts = [(o["figure"], o["chosen"]) for o in shown["observations"] if o["field"] == "amount"]
    assert ("$14.8bn", True) in amounts and ("$14.3bn", False) in amounts
    sources = {o["source"] for o in shown["observations"]}
    assert any(s.startswith("TheWrap") for s in sources) and any(s.startswith("Bloomberg") for s in sources)
    revenue = [o for o in shown["observations"] if o["field"] == "target_revenue" and o["chosen"]]
    assert revenue[0]["figure"] == "$870m" and revenue[0]["confidence"] == "reported"
    # every observation in the sample carries a source, and a URL or the article's name
    obs = pd.read_csv(__import__("pathlib").Path(__file__).parent.parent / "data" / "observations.csv", dtype=str)
    assert obs["source"].notna().all() and obs["published"].notna().all()
    assert (obs["url"].notna() | obs["source"].str.startswith("Seed article")).all()
    assert np.isin(obs["confidence"], CONFIDENCES).all()
