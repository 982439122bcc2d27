"""Bad input gets a clear `file:line:column: reason` and changes nothing stored.

Every case runs the real `dealgraph add` command against a seeded store and checks
the exit code, the exact error line and that an export before equals one after.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from conftest import run_cli, write

HEADER = "deal_id,date,type,payer,payee,amount,currency,status,stake_pct,post_money_valuation,target_revenue,acquirer_market_cap,source,notes\n"
GOOD = "d1,2025-01-02,investment,nvidia,groq,1bn,USD,completed,,,,,test source,\n"


def snapshot(db: Path, out: Path) -> Path:
    r = run_cli("export", out, db=db)
    assert r.returncode == 0, r.stderr
    return out


def same_dirs(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    return all(filecmp.cmp(a / n, b / n, shallow=False) for n in names)


CASES = [
    # (name, file body after the header, expected error line suffix after "bad.csv:")
    ("missing column", None, "1:1: missing required column 'payee' for a deals file"),
    ("unknown type", "d1,2025-01-02,merger,nvidia,groq,1bn,,,,,,,s,\n",
     "2:3: type: unknown value 'merger'; expected one of funding_round, investment, acquisition, stake, license, "
     "acquihire, chip_purchase, compute_contract, debt_financing, partnership, warrant"),
    ("unknown status", "d1,2025-01-02,investment,nvidia,groq,1bn,,maybe,,,,,s,\n",
     "2:8: status: unknown value 'maybe'; expected one of completed, announced, in_talks, rumoured, terminated"),
    ("unparseable amount", "d1,2025-01-02,investment,nvidia,groq,lots,,,,,,,s,\n",
     "2:6: amount: cannot read 'lots' as an amount (examples: 20000000000, $20bn, 750m, up to 100bn, ~650m, 1-2bn)"),
    ("negative amount", "d1,2025-01-02,investment,nvidia,groq,-5bn,,,,,,,s,\n",
     "2:6: amount: amount '-5bn' is negative; amounts are money paid, always positive"),
    ("reversed range", "d1,2025-01-02,investment,nvidia,groq,2bn-1bn,,,,,,,s,\n",
     "2:6: amount: amount '2bn-1bn' is a reversed range: its low end (2000000000) is above its high end "
     "(1000000000); write it low to high"),
    ("range in two currencies", "d1,2025-01-02,investment,nvidia,groq,$1bn-€2bn,,,,,,,s,\n",
     "2:6: amount: amount '$1bn-€2bn' is a range in two currencies (USD and EUR); give both ends in one currency"),
    ("qualified range", "d1,2025-01-02,investment,nvidia,groq,up to 1-2bn,,,,,,,s,\n",
     "2:6: amount: amount 'up to 1-2bn' puts a qualifier on a range, which is ambiguous (the range, or a "
     "bound?); write the range alone (e.g. '1bn-2bn') or one bound (e.g. 'up to 2bn')"),
    ("range against the currency column", "d1,2025-01-02,investment,nvidia,groq,€1-2bn,USD,,,,,,s,\n",
     "2:6: amount: the amount's symbol means EUR but the currency column says USD"),
    ("impossible date", "d1,2025-02-30,investment,nvidia,groq,1bn,,,,,,,s,\n",
     "2:2: date: date '2025-02-30' does not exist"),
    ("bad month", "d1,2025-13,investment,nvidia,groq,1bn,,,,,,,s,\n",
     "2:2: date: date '2025-13' has no month 13"),
    ("payer equals payee", "d1,2025-01-02,investment,Nvidia,nvidia,1bn,,,,,,,s,\n",
     "2:5: payee: payer and payee are the same entity (nvidia)"),
    ("payer equals payee by alias", "d1,2025-01-02,investment,NVIDIA Corporation,nvidia,1bn,,,,,,,s,\n",
     "2:5: payee: payer and payee are the same entity (nvidia)"),
    # two spellings of one payer earlier in the file: the check compares ids, not first spellings
    ("payer equals payee, payer spelled two ways", "d0,2025-01-02,investment,Nvidia,groq,1bn,,,,,,,s,\n"
     "d1,2025-01-02,investment,NVIDIA Corporation,nvidia,1bn,,,,,,,s,\n",
     "3:5: payee: payer and payee are the same entity (nvidia)"),
    ("empty payer", "d1,2025-01-02,investment,,groq,1bn,,,,,,,s,\n",
     "2:4: payer: required unless the deal is a funding_round (a round with no single named investor)"),
    ("stake zero", "d1,2025-01-02,stake,meta,groq,1bn,,,0,,,,s,\n", "2:9: stake_pct: stake must be in (0, 100]"),
    ("stake over 100", "d1,2025-01-02,stake,meta,groq,1bn,,,150%,,,,s,\n", "2:9: stake_pct: stake must be in (0, 100]"),
    ("duplicate id", GOOD + "d1,2025-01-02,investment,nvidia,groq,2bn,USD,completed,,,,,test source,\n",
     "3:1: deal_id: deal_id 'd1' appears on line 2 with other values"),
    ("header only", "", "2:1: file has a header but no rows"),
    ("no fx rate", "d1,2025-01-02,investment,nvidia,groq,1bn,CHF,,,,,,s,\n",
     "2:7: currency: no FX rate for CHF on or before 2025-01-02; add one in an fx file (currency,date,usd_per_unit,source)"),
    ("wrong field count", "d1,2025-01-02,investment,nvidia\n", "2:5: expected 14 fields as in the header, found 4"),
    ("unclosed quote mid-row", 'd1,2025-01-02,investment,nvidia,openai,"$1bn,USD\nd2,2025-01-03,investment,nvidia,openai\n',
     '2:6: expected 14 fields as in the header, found 6: the quoted field here runs on over the next 1 line; '
     'close its quote (") where the field ends'),
]


@pytest.mark.parametrize("name,body,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(tmp_path, sample_db, name, body, expected):
    before = snapshot(sample_db, tmp_path / "before")
    header = HEADER.replace(",payee", "") if name == "missing column" else HEADER
    bad = write(tmp_path / "bad.csv", header + (body if body is not None else GOOD.replace(",groq", "")))
    r = run_cli("add", bad, db=sample_db)
    assert r.returncode == 1
    assert f"{bad}:{expected}" in r.stderr.splitlines(), r.stderr
    assert r.stderr.strip().endswith("nothing was written")
    after = snapshot(sample_db, tmp_path / "after")
    assert same_dirs(before, after)
    # validate reports the same problem and writes nothing either
    v = run_cli("validate", bad, db=sample_db)
    assert v.returncode == 1 and f"{bad}:{expected}" in v.stderr.splitlines()


def test_every_problem_in_every_file_is_listed_and_a_good_file_beside_a_bad_one_is_not_applied(tmp_path, sample_db):
    good = write(tmp_path / "good.csv", HEADER + "new-deal,2025-01-02,investment,nvidia,groq,1bn,,,,,,,s,\n")
    bad = write(tmp_path / "bad.csv", HEADER + "a,2025-02-30,investment,nvidia,groq,1bn,,,,,,,s,\n"
                                               "b,2025-01-01,investment,nvidia,groq,xx,,,,,,,s,\n")
    r = run_cli("add", good, bad, db=sample_db)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert f"{bad}:2:2: date: date '2025-02-30' does not exist" in lines
    assert any(line.startswith(f"{bad}:3:6: amount:") for line in lines)
    assert "new-deal" not in run_cli("deals", "--format", "csv", db=sample_db).stdout


def test_empty_file(tmp_path, sample_db):
    f = write(tmp_path / "empty.csv", "")
    r = run_cli("add", f, db=sample_db)
    assert r.returncode == 1
    assert f"{f}:1:1: file is empty; expected a header line and rows" in r.stderr.splitlines()


def test_non_utf8_names_line_column_and_suggests_encoding(tmp_path, sample_db):
    f = tmp_path / "latin.csv"
    f.write_bytes((HEADER + "d1,2025-01-02,investment,nvidia,groq,1bn,,,,,,,Caf").encode() + b"\xe9 news,\n")
    r = run_cli("add", f, db=sample_db)
    assert r.returncode == 1
    assert (f"{f}:2:13: not valid UTF-8 (byte 0xe9 at character 51 of the line); save the file as UTF-8 or name its encoding, "
            f"e.g. --encoding cp1252") in r.stderr.splitlines()
    ok = run_cli("add", "--encoding", "cp1252", f, db=sample_db)
    assert ok.returncode == 0, ok.stderr
    assert "Café news" in run_cli("deals", "--entity", "groq", "--format", "csv", db=sample_db).stdout


def test_unknown_header_kind(tmp_path, sample_db):
    f = write(tmp_path / "x.csv", "foo,bar\n1,2\n")
    r = run_cli("add", f, db=sample_db)
    assert r.returncode == 1
    assert r.stderr.startswith(f"{f}:1:1: header 'foo,bar' is not a known kind of file")


def test_gigabyte_of_garbage_fails_fast_in_bounded_memory(tmp_path, sample_db):
    """1 GiB of random bytes with a valid header: refused at the first bad byte,
    with peak memory far below the file's size."""
    import os
    import subprocess
    import sys

    f = tmp_path / "garbage.csv"
    with open(f, "wb") as out:
        out.write(HEADER.encode())
        block = os.urandom(1 << 20)
        for _ in range(1024):
            out.write(block)
    code = ("import resource,sys\n"
            "from dealgraph.graph.store import open_store\n"
            "from dealgraph.loaders.csv import LoadError\n"
            f"s=open_store({str(sample_db)!r})\n"
            "before=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "try:\n"
            f"    s.add([{str(f)!r}])\n"
            "except LoadError as e:\n"
            "    print(e.problems[0])\n"
            "print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    out = r.stdout.splitlines()
    assert "not valid UTF-8" in out[0]
    before, after = (int(x) for x in out[1].split())
    # KiB: the add itself grows the process by far less than the 1 GiB file
    assert after - before < 256 * 1024, (before, after)


def test_garbage_rows_after_a_valid_header_stop_after_a_bounded_number_of_problems(tmp_path, sample_db):
    f = tmp_path / "rows.csv"
    with open(f, "w") as out:
        out.write(HEADER)
        for i in range(20000):
            out.write(f"x{i},not-a-date,nope,a,b,zz,,,,,,,,\n")
    r = run_cli("add", f, db=sample_db)
    assert r.returncode == 1
    assert len(r.stderr.splitlines()) < 500
