"""What `dealgraph add` / `validate` are given, read as meant or refused (issue 12, input side).

Every case runs the real `dealgraph` command against a seeded store and checks the exit
code and exact lines; refusals also check that an export before equals one after.
"""

from __future__ import annotations

import pytest

from conftest import run_cli, write
from test_add_errors import HEADER, same_dirs, snapshot

from dealgraph.loaders.names import name_key, similar, slugify

NEAR = ("If it is a new entity, accept it with --new-entity {n!r} or add it in an entities file")


def refused(tmp_path, db, *files, args=(), lines=(), total=None):
    """``dealgraph add`` of ``files`` exits 1 with exactly ``lines`` then the count line,
    and changes nothing; ``validate`` says the same."""
    before = snapshot(db, tmp_path / "before")
    for command in ("add", "validate"):
        r = run_cli(command, *args, *files, db=db)
        assert r.returncode == 1, r.stdout + r.stderr
        n = len(lines)
        counted = (f"{n} problem{'s' if n != 1 else ''} found" if total is None
                   else f"showing {n} of {total} problems")
        assert r.stderr.splitlines() == list(lines) + [f"error: {counted}; nothing was written"], r.stderr
        assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr
    assert same_dirs(before, snapshot(db, tmp_path / "after"))


def deal_rows(db, entity: str) -> dict[str, dict]:
    import csv
    import io

    r = run_cli("deals", "--entity", entity, "--format", "csv", db=db)
    assert r.returncode == 0, r.stderr
    return {d["deal_id"]: d for d in csv.DictReader(io.StringIO(r.stdout))}


# ------------------------------------------------------------------------- names

def test_names_module():
    assert slugify("Société Générale") == "societe-generale"
    assert slugify("Straße AG") == "strasse-ag"
    assert slugify("Scale AI") == "scale-ai"
    assert slugify("字节跳动").startswith("entity-")
    assert {name_key(n) for n in ("NVIDIA Corp.", "Nvidia", "nvidia, inc", "NVIDIA Corporation")} == {"nvidia"}
    assert name_key("Open AI") == name_key("OpenAI") == "openai"
    ents = [("nvidia", "Nvidia", "NVIDIA;NVIDIA Corporation"), ("groq", "Groq", ""), ("fund-1", "Fund 1", "")]
    assert similar("Nvidai", ents) == [("nvidia", "Nvidia", 83.3)]
    assert similar("nvidia inc.", ents) == [("nvidia", "Nvidia", 100.0)]
    assert similar("Grok", ents) == []  # one letter in four: not close enough
    assert similar("Fund 2", ents) == []  # other numbers: another fund


def test_a_typo_in_a_name_is_refused_with_the_suggestion_and_can_be_accepted(tmp_path, sample_db):
    f = write(tmp_path / "d.csv", HEADER + "n1,2025-01-02,investment,Nvidai,groq,1bn,,,,,,,s,\n"
                                           "n2,2025-01-03,investment,NVIDIA Corp.,groq,1bn,,,,,,,s,\n")
    refused(tmp_path, sample_db, f, lines=[
        f"{f}:2:4: payer: unknown entity 'Nvidai': did you mean 'nvidia' (Nvidia)? " + NEAR.format(n="Nvidai"),
        f"{f}:3:4: payer: unknown entity 'NVIDIA Corp.': did you mean 'nvidia' (Nvidia)? "
        + NEAR.format(n="NVIDIA Corp.")])
    # --strict says the same, with its own way out
    r = run_cli("validate", "--strict", f, db=sample_db)
    assert f"{f}:2:4: payer: unknown entity 'Nvidai': did you mean 'nvidia' (Nvidia)? " \
           "(--strict: add new ones in an entities file first)" in r.stderr.splitlines()
    # accepted as new: --new-entity for one, an entities file for the other
    ents = write(tmp_path / "e.csv", "id,name,kind\nnvidia-corp,NVIDIA Corp.,company\n")
    r = run_cli("add", "--new-entity", "nvidai", f, ents, db=sample_db)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-3:] == [
        "NEW ENTITIES: 1 name matched no known entity and was created (kind company); check none is a misspelling:",
        "  + nvidai (Nvidai)", f"added to {sample_db}"]
    assert deal_rows(sample_db, "nvidai")["n1"]["payer"] == "nvidai"
    assert deal_rows(sample_db, "nvidia-corp")["n2"]["payer"] == "nvidia-corp"


def test_clearly_new_names_are_created_and_listed_prominently(tmp_path, sample_db):
    f = write(tmp_path / "d.csv", HEADER + "c1,2025-01-02,investment,Société Générale,groq,1bn,,,,,,,s,\n")
    r = run_cli("add", f, db=sample_db)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"{f}: deals, 1 rows: 1 new, 0 changed, 0 unchanged",
        "NEW ENTITIES: 1 name matched no known entity and was created (kind company); check none is a misspelling:",
        "  + societe-generale (Société Générale)",
        f"added to {sample_db}"]
    assert deal_rows(sample_db, "societe-generale")["c1"]["payer"] == "societe-generale"


def test_unknown_type_and_status_get_a_suggestion(tmp_path, sample_db):
    f = write(tmp_path / "d.csv", HEADER + "t1,2025-01-02,investmnt,nvidia,groq,1bn,,rumored,,,,,s,\n")
    refused(tmp_path, sample_db, f, lines=[
        f"{f}:2:3: type: unknown value 'investmnt'; did you mean 'investment'? expected one of funding_round, "
        "investment, acquisition, stake, license, acquihire, chip_purchase, compute_contract, debt_financing, "
        "partnership, warrant",
        f"{f}:2:8: status: unknown value 'rumored'; did you mean 'rumoured'? expected one of completed, announced, "
        "in_talks, rumoured, terminated"])


@pytest.mark.parametrize("written,column,how", [
    ("Amount", "amount", "only by case or spacing"),
    (" amount ", "amount", "only by case or spacing"),
    ("Notes", "notes", "only by case or spacing"),
    ("ammount", "amount", "by a letter or two"),
])
def test_a_header_name_nearly_a_known_column_is_refused(tmp_path, sample_db, written, column, how):
    f = write(tmp_path / "d.csv", f"deal_id,date,type,payer,payee,{written}\nh1,2025-01-02,investment,nvidia,groq,1bn\n")
    refused(tmp_path, sample_db, f, lines=[
        f"{f}:1:6: column {written!r} differs from the deals column {column!r} {how}: did you mean {column!r}? "
        "Rename it in the header"])


def test_a_required_column_spelled_in_capitals_is_named_not_missing(tmp_path, sample_db):
    f = write(tmp_path / "d.csv", "deal_id,Date,type,payer,payee\nh1,2025-01-02,investment,nvidia,groq\n")
    refused(tmp_path, sample_db, f, lines=[
        f"{f}:1:2: column 'Date' differs from the deals column 'date' only by case or spacing: did you mean 'date'? "
        "Rename it in the header"])


@pytest.mark.parametrize("delim,words", [(";", "';' (semicolons)"), ("\t", "tabs")])
def test_a_file_with_another_delimiter_is_told_which(tmp_path, sample_db, delim, words):
    f = write(tmp_path / "d.csv", delim.join(["deal_id", "date", "type", "payer", "payee", "amount"]) + "\n"
              + delim.join(["h1", "2025-01-02", "investment", "nvidia", "groq", "1bn"]) + "\n")
    refused(tmp_path, sample_db, f, lines=[
        f"{f}:1:1: the fields of this file are separated by {words}, not commas: save it as comma-separated CSV"])


# ------------------------------------------------------------------------- updates

def test_an_absent_column_leaves_stored_values_and_an_empty_cell_clears(tmp_path, sample_db):
    first = write(tmp_path / "1.csv", HEADER + "u1,2025-01-02,investment,nvidia,groq,1bn,,,,,,,src,keep these notes\n")
    assert run_cli("add", first, db=sample_db).returncode == 0
    lacks_notes = write(tmp_path / "2.csv", "deal_id,date,type,payer,payee,amount\n"
                                            "u1,2025-01-02,investment,nvidia,groq,2bn\n")
    r = run_cli("add", lacks_notes, db=sample_db)
    assert r.stdout.splitlines()[:2] == [f"{lacks_notes}: deals, 1 rows: 0 new, 1 changed, 0 unchanged",
                                         "  changed u1: amount, amount_usd"], r.stdout
    row = deal_rows(sample_db, "groq")["u1"]
    assert (row["amount"], row["source"], row["notes"]) == ("2000000000.0", "src", "keep these notes")
    empty_notes = write(tmp_path / "3.csv", "deal_id,date,type,payer,payee,notes\nu1,2025-01-02,investment,nvidia,groq,\n")
    r = run_cli("add", empty_notes, db=sample_db)
    assert "  changed u1: notes" in r.stdout.splitlines()
    row = deal_rows(sample_db, "groq")["u1"]
    assert (row["amount"], row["source"], row["notes"]) == ("2000000000.0", "src", "")


def test_an_entities_file_without_aliases_keeps_them(tmp_path, sample_db):
    f = write(tmp_path / "e.csv", "id,name,kind,country\nnvidia,Nvidia,company,US\n")
    assert run_cli("add", f, db=sample_db).returncode == 0
    r = run_cli("show", "NVIDIA Corporation", "--format", "json", db=sample_db)
    assert r.returncode == 0, r.stderr
    assert '"aliases": "NVIDIA;NVIDIA Corporation"' in r.stdout


def test_a_row_without_deal_id_that_edits_a_stored_deal_is_refused(tmp_path, sample_db):
    cols = "date,type,payer,payee,amount,notes\n"
    first = write(tmp_path / "1.csv", cols + "2025-03-02,investment,nvidia,groq,1bn,first\n")
    assert run_cli("add", first, db=sample_db).returncode == 0
    (stored,) = [i for i in deal_rows(sample_db, "groq") if i.startswith("investment-2025-03-02-")]
    fix = write(tmp_path / "2.csv", cols + "2025-03-02,investment,nvidia,groq,1.5bn,corrected\n")
    refused(tmp_path, sample_db, fix, lines=[
        f"{fix}:2:1: probable edit of stored deal {stored!r}: the same date, type, payer and payee but a different "
        "amount. To change that deal give its deal_id in a deal_id column; to add this row as another deal, "
        "use --as-new"])
    # the same row again only updates notes: no refusal
    notes = write(tmp_path / "3.csv", cols + "2025-03-02,investment,nvidia,groq,1bn,better notes\n")
    r = run_cli("add", notes, db=sample_db)
    assert r.returncode == 0 and f"  changed {stored}: notes" in r.stdout.splitlines(), r.stdout + r.stderr
    r = run_cli("add", "--as-new", fix, db=sample_db)
    assert r.returncode == 0, r.stderr
    assert len([i for i in deal_rows(sample_db, "groq") if i.startswith("investment-2025-03-02-")]) == 2


def test_same_day_tranches_are_told_to_carry_ids(tmp_path, sample_db):
    body = ",2025-01-02,investment,nvidia,groq,1bn,,,,,,,s,tranche {}\n"
    f = write(tmp_path / "d.csv", HEADER + body.format(1) + body.format(2))
    refused(tmp_path, sample_db, f, lines=[
        f"{f}:3:1: no deal_id, and the same date, type, payer, payee, amount, currency, status, stake_pct as line 2 "
        "but a different notes: if these are separate deals (e.g. tranches on one day), give each row its own "
        "deal_id; if it is one deal, keep one row"])
    ok = write(tmp_path / "ok.csv", HEADER + "t1" + body.format(1) + "t2" + body.format(2))
    assert run_cli("add", ok, db=sample_db).returncode == 0


# ------------------------------------------------------------------------- every problem at once

def test_strict_fx_and_field_problems_are_listed_together(tmp_path, sample_db):
    f = write(tmp_path / "d.csv", HEADER + "a,2025-02-30,investment,nvidia,groq,1bn,,,,,,,s,\n"
                                           "b,2025-01-02,investment,Nobody Known,groq,1bn,,,,,,,s,\n"
                                           "c,2025-01-02,investment,nvidia,groq,1bn,CHF,,,,,,s,\n"
                                           # a bad date has no FX rate either: said once; the name is checked
                                           "d,2025-13,investment,Someone Else,groq,1bn,CHF,,,,,,s,\n")
    refused(tmp_path, sample_db, f, args=["--strict"], lines=[
        f"{f}:2:2: date: date '2025-02-30' does not exist",
        f"{f}:3:4: payer: unknown entity 'Nobody Known' (--strict: add it in an entities file first)",
        f"{f}:4:7: currency: no FX rate for CHF on or before 2025-01-02; add one in an fx file "
        "(currency,date,usd_per_unit,source)",
        f"{f}:5:2: date: date '2025-13' has no month 13",
        f"{f}:5:4: payer: unknown entity 'Someone Else' (--strict: add it in an entities file first)"])


def test_many_problems_are_counted_exactly(tmp_path, sample_db):
    rows = "".join(f"x{i},2025-02-30,investment,nvidia,groq,1bn,,,,,,,s,\n" for i in range(412))
    f = write(tmp_path / "d.csv", HEADER + rows)
    r = run_cli("add", f, db=sample_db)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[-1] == "error: showing 60 of 412 problems; nothing was written"
    assert lines[:2] == [f"{f}:2:2: date: date '2025-02-30' does not exist",
                         f"{f}:3:2: date: date '2025-02-30' does not exist"]
    assert len(lines) == 61


# ------------------------------------------------------------------------- hostile files

def test_an_unclosed_quote_does_not_swallow_rows(tmp_path, sample_db):
    f = write(tmp_path / "d.csv", HEADER + 'q1,2025-01-02,investment,nvidia,groq,1bn,,,,,,,s,"unclosed notes\n'
                                           "q2,2025-01-03,investment,nvidia,groq,1bn,,,,,,,s,\n"
                                           "q3,2025-01-04,investment,nvidia,groq,1bn,,,,,,,s,\n")
    refused(tmp_path, sample_db, f, lines=[
        f"{f}:2:14: notes: a quoted field opens here and runs on over the next 2 lines, 2 of which look like rows "
        'of their own: close its quote (") where the field ends'])
    # a quoted multi-line cell that is closed is fine
    ok = write(tmp_path / "ok.csv", HEADER + 'q1,2025-01-02,investment,nvidia,groq,1bn,,,,,,,s,"two\nlines"\n')
    assert run_cli("add", ok, db=sample_db).returncode == 0


def test_the_same_deal_id_with_other_values_in_two_files_is_refused(tmp_path, sample_db):
    a = write(tmp_path / "a.csv", HEADER + "x1,2025-01-02,investment,nvidia,groq,1bn,,,,,,,s,\n")
    b = write(tmp_path / "b.csv", HEADER + "x1,2025-01-02,investment,nvidia,groq,2bn,,,,,,,s,\n")
    refused(tmp_path, sample_db, a, b, lines=[
        f"{b}:2:1: deal_id: deal_id 'x1' is also in {a} (line 2) with other values: one add takes one version of a row"])
    same = write(tmp_path / "c.csv", HEADER + "x0,2025-01-01,investment,nvidia,groq,3bn,,,,,,,s,\n"
                                              "x1,2025-01-02,investment,nvidia,groq,1bn,,,,,,,s,\n")
    assert run_cli("add", a, same, db=sample_db).returncode == 0


def test_an_infinite_or_missing_fx_rate_is_refused(tmp_path, sample_db):
    f = write(tmp_path / "fx.csv", "currency,date,usd_per_unit,source\nEUR,2025-01-01,inf,s\nGBP,2025-01-01,1e400,s\n"
                                   "CHF,2025-01-01,nan,s\n")
    reason = "must be a positive number (US dollars per unit)"
    refused(tmp_path, sample_db, f, lines=[
        f"{f}:2:3: usd_per_unit: 'inf' is infinite or too large; {reason}",
        f"{f}:3:3: usd_per_unit: '1e400' is infinite or too large; {reason}",
        f"{f}:4:3: usd_per_unit: {reason}"])


def test_an_amount_that_would_be_rounded_is_refused(tmp_path, sample_db):
    f = write(tmp_path / "d.csv", HEADER + "big,2025-01-02,investment,nvidia,groq,123456789012345678901234567890,"
                                           ",,,,,,s,\n")
    refused(tmp_path, sample_db, f, lines=[
        f"{f}:2:6: amount: amount '123456789012345678901234567890' cannot be stored as written: it has more "
        "significant digits than a figure keeps (15) and would read 1.2345678901234568e+29; round it, e.g. "
        "'1.23456789012346e+29'"])
    # a long figure that a float holds exactly (as export writes one) is taken as written
    ok = write(tmp_path / "ok.csv", HEADER + "exact,2025-01-02,investment,nvidia,groq,100000000000.9375,,,,,,,s,\n")
    assert run_cli("add", ok, db=sample_db).returncode == 0
    assert deal_rows(sample_db, "groq")["exact"]["amount"] == "100000000000.9375"


def test_a_short_row_with_bad_bytes_gives_one_clean_message(tmp_path, sample_db):
    f = tmp_path / "d.csv"
    f.write_bytes(HEADER.encode() + b"short,2025-01-02,investment,nvidia,gr\xe9q\n")
    refused(tmp_path, sample_db, f, lines=[
        f"{f}:2:5: not valid UTF-8 (byte 0xe9 at character 38 of the line); save the file as UTF-8 or name its "
        "encoding, e.g. --encoding cp1252"])


def test_a_directory_is_a_bad_file_like_any_other(tmp_path, sample_db):
    d = tmp_path / "folder"
    d.mkdir()
    refused(tmp_path, sample_db, d, lines=[f"{d}: is a directory; give the CSV files in it (e.g. DIR/*.csv)"])


def test_a_missing_file_is_named_like_a_directory(tmp_path, sample_db):
    f = tmp_path / "nowhere.csv"
    refused(tmp_path, sample_db, f, lines=[f"{f}: cannot read file: No such file or directory"])


def test_extra_columns_and_metrics_keep_what_a_file_does_not_say(tmp_path, sample_db):
    first = write(tmp_path / "1.csv", "deal_id,date,type,payer,payee,region,deal_lead\n"
                                      "e1,2025-01-02,investment,nvidia,groq,EU,Ann\n")
    assert run_cli("add", first, db=sample_db).returncode == 0
    # no extra columns: both kept; one extra column, empty: that one removed
    assert run_cli("add", write(tmp_path / "2.csv", "deal_id,date,type,payer,payee,amount\n"
                                                    "e1,2025-01-02,investment,nvidia,groq,1bn\n"), db=sample_db).returncode == 0
    assert deal_rows(sample_db, "groq")["e1"]["extra"] == '{"deal_lead": "Ann", "region": "EU"}'
    r = run_cli("add", write(tmp_path / "3.csv", "deal_id,date,type,payer,payee,amount,region\n"
                                                 "e1,2025-01-02,investment,nvidia,groq,1bn,\n"), db=sample_db)
    assert "  changed e1: extra" in r.stdout.splitlines(), r.stdout + r.stderr
    assert deal_rows(sample_db, "groq")["e1"]["extra"] == '{"deal_lead": "Ann"}'
    # a metrics file without notes keeps the stored notes (source is part of a metric's key)
    m1 = write(tmp_path / "m1.csv", "entity,metric,date,value,source,notes\ngroq,revenue,2024,90m,filing,audited\n")
    m2 = write(tmp_path / "m2.csv", "entity,metric,date,value,source\ngroq,revenue,2024,95m,filing\n")
    assert run_cli("add", m1, db=sample_db).returncode == 0
    r = run_cli("add", m2, db=sample_db)
    assert r.returncode == 0 and "  changed groq/revenue/2024/filing: value, value_usd" in r.stdout.splitlines(), r.stdout
