"""Excel in and out: `export --format xlsx` and `add`/`validate` of a workbook, through
the real `dealgraph` command, read back with openpyxl (what Excel files are)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from conftest import run_cli, write
from dealgraph.graph.exports import exact_number, money_format, split_amount
from dealgraph.graph.schema import DEAL_COLUMNS, ENTITY_COLUMNS
from dealgraph.graph.store import open_store
from test_add_errors import same_dirs
#: The deal columns the rows below spell out, in file order (the optional ones after notes, such as
#: confidence, are left out: the loader gives them their default).
DEAL_COLUMNS = DEAL_COLUMNS[:DEAL_COLUMNS.index("notes") + 1]

HEADER = ",".join(DEAL_COLUMNS) + "\n"


def export_xlsx(db, path):
    r = run_cli("export", "--format", "xlsx", path, db=db)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{path}\n"
    return openpyxl.load_workbook(path)


def test_round_trip_export_xlsx_then_add_to_an_empty_store_gives_the_same_csv_export(tmp_path, sample_db):
    export_xlsx(sample_db, tmp_path / "book.xlsx")
    db = tmp_path / "again.db"
    assert run_cli("init", "--empty", db=db).returncode == 0
    r = run_cli("add", tmp_path / "book.xlsx", db=db)
    assert r.returncode == 0, r.stderr
    assert f"{tmp_path / 'book.xlsx'}:deals: deals, 39 rows: 39 new, 0 changed, 0 unchanged" in r.stdout.splitlines()
    assert run_cli("export", tmp_path / "a", db=sample_db).returncode == 0
    assert run_cli("export", tmp_path / "b", db=db).returncode == 0
    assert same_dirs(tmp_path / "a", tmp_path / "b")
    # adding it again changes nothing
    r = run_cli("add", tmp_path / "book.xlsx", db=db)
    assert r.returncode == 0, r.stderr
    assert f"{tmp_path / 'book.xlsx'}:deals: deals, 39 rows: 0 new, 0 changed, 39 unchanged" in r.stdout.splitlines()


def test_the_workbook_has_a_sheet_a_table_frozen_headers_and_amounts_as_numbers(tmp_path, sample_db):
    wb = export_xlsx(sample_db, tmp_path / "book.xlsx")
    assert wb.sheetnames == ["entities", "fx", "deals", "metrics", "observations"]
    store = open_store(sample_db)
    frames = store.export_frames()
    for name in wb.sheetnames:
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert [c.value for c in ws[1]] == list(frames[name].columns)
        assert all(c.font.bold for c in ws[1])
        assert ws.max_row == len(frames[name]) + 1
    ws = wb["deals"]
    col = {c.value: i for i, c in enumerate(ws[1])}
    by_id = {row[0].value: row for row in ws.iter_rows(min_row=2)}
    deals = store.deals.set_index("deal_id")
    for deal_id, row in by_id.items():
        cell = row[col["amount"]]
        amount, q = deals.loc[deal_id, "amount"], deals.loc[deal_id, "amount_qualifier"]
        if amount != amount:  # undisclosed
            assert cell.value is None
        else:
            assert cell.value == amount and isinstance(cell.value, (int, float))
            assert cell.number_format == money_format(q, float(amount).is_integer())
    approx = [r for r in by_id.values() if r[col["amount"]].number_format.startswith('"~"')]
    assert approx, "the sample has approximate amounts"


@pytest.mark.parametrize("text, expected", [
    ("20000000000", 2e10), ("0.5", 0.5), ("1234567890123456", None),  # 16 digits: Excel keeps 15
    ("0.30000000000000004", None), ("1e+300", 1e300), ("abc", None), ("5.0", None)])
def test_a_number_is_written_only_when_the_cell_holds_it_exactly(text, expected):
    assert exact_number(text) == expected


def test_qualified_amounts_split_into_qualifier_and_figure():
    assert split_amount("~650000000") == ("approx", 6.5e8)
    assert split_amount("up to 100000000000") == ("up_to", 1e11)
    assert split_amount("at least 5") == ("at_least", 5.0)
    assert split_amount("12345678901234567") is None


def test_an_amount_too_precise_for_excel_is_written_as_its_exact_text_and_read_back_exactly(tmp_path, empty_db):
    f = write(tmp_path / "d.csv", HEADER + "x,2025-01-02,investment,a,b,1234567890123456,,,49.5,,,,s,\n")
    assert run_cli("add", f, db=empty_db).returncode == 0
    ws = export_xlsx(empty_db, tmp_path / "b.xlsx")["deals"]
    assert ws["F2"].value == "1234567890123456" and ws["I2"].value == 49.5
    db = tmp_path / "c.db"
    run_cli("init", "--empty", db=db)
    assert run_cli("add", tmp_path / "b.xlsx", db=db).returncode == 0
    assert open_store(db).deals.loc[0, "amount"] == 1234567890123456


def test_hostile_text_is_kept_exactly_as_quoted_text_never_a_formula(tmp_path, empty_db):
    note = '=HYPERLINK("http://x","click")\nsecond line'
    rows = io.StringIO()
    w = csv.writer(rows, lineterminator="\n")
    w.writerow(list(DEAL_COLUMNS) + ["=extra"])
    w.writerow(["x", "2025-01-02", "investment", "Acme", "Beta", "1bn", "", "", "", "", "", "", "@SUM(1+1)", note, "=1"])
    w.writerow(["y", "2025-01-03", "investment", "Acme", "Beta", "2bn", "", "", "", "", "", "", "-2+3", "\tTab", ""])
    assert run_cli("add", write(tmp_path / "d.csv", rows.getvalue()), db=empty_db).returncode == 0
    ents = write(tmp_path / "e.csv", ",".join(ENTITY_COLUMNS) + "\nacme,+cmd|' /C calc'!A0,company,,,,,\n")
    assert run_cli("add", ents, db=empty_db).returncode == 0
    path = tmp_path / "h.xlsx"
    wb = export_xlsx(empty_db, path)
    deals = wb["deals"]
    # the export's columns: the CSV columns (notes at N, confidence at O), then the extra ones (P)
    hostile = [deals["N2"], deals["M2"], deals["M3"], deals["N3"], wb["entities"]["B2"], deals["P1"], deals["P2"]]
    assert [c.value for c in hostile] == [note, "@SUM(1+1)", "-2+3", "\tTab", "+cmd|' /C calc'!A0", "=extra", "=1"]
    assert deals["P1"].font.bold
    for c in hostile:
        assert c.data_type == "s" and c.quotePrefix, c.coordinate  # text, shown as typed, never evaluated
    assert deals["B2"].quotePrefix is False  # ordinary text is left alone
    # the raw sheet XML holds no formula at all
    import zipfile
    with zipfile.ZipFile(path) as z:
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    # and the values come back exactly
    db = tmp_path / "back.db"
    run_cli("init", "--empty", db=db)
    assert run_cli("add", path, db=db).returncode == 0, "round trip"
    back = open_store(db)
    assert back.deals.set_index("deal_id").loc["x", "notes"] == note
    assert back.entities.set_index("id").loc["acme", "name"] == "+cmd|' /C calc'!A0"
    assert run_cli("export", tmp_path / "a", db=empty_db).returncode == 0
    assert run_cli("export", tmp_path / "b", db=db).returncode == 0
    assert same_dirs(tmp_path / "a", tmp_path / "b")


def _book(path, sheets: dict[str, list[list]], formats: dict[str, str] | None = None):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    for ref, fmt in (formats or {}).items():
        sheet, cell = ref.split("!")
        wb[sheet][cell].number_format = fmt
    wb.save(path)
    return path


DEAL_HEAD = ["deal_id", "date", "type", "payer", "payee", "amount", "currency", "status"]


def test_a_bad_cell_is_refused_with_its_sheet_row_and_column_and_nothing_is_written(tmp_path, sample_db):
    book = _book(tmp_path / "bad.xlsx", {
        "my deals": [DEAL_HEAD,
                     ["d1", "2025-01-02", "investment", "nvidia", "groq", "1bn", "USD", "completed"],
                     ["d2", "2025-02-30", "merger", "nvidia", "groq", "lots", "USD", "completed"],
                     [],
                     ["d3", "2025-03-01", "investment", "nvidia", "groq", "=1+1", "USD", "completed", "stray"]],
        "entities": [["id", "name", "kind"], ["newco", "NewCo", "startup"]],
        "notes": [["what this workbook is"], ["my notes"]],
    })
    before = tmp_path / "before"
    assert run_cli("export", before, db=sample_db).returncode == 0
    for command in ("add", "validate"):
        r = run_cli(command, book, db=sample_db)
        assert r.returncode == 1
        assert r.stdout == ""
        assert r.stderr.splitlines() == [
            f"{book}:entities!2:C: kind: unknown value 'startup'; expected one of company, investor, fund, lender, "
            "person, government",
            f"{book}:my deals!3:B: date: date '2025-02-30' does not exist",
            f"{book}:my deals!3:C: type: unknown value 'merger'; expected one of funding_round, investment, "
            "acquisition, stake, license, acquihire, chip_purchase, compute_contract, debt_financing, partnership, "
            "warrant",
            f"{book}:my deals!3:F: amount: cannot read 'lots' as an amount (examples: 20000000000, $20bn, 750m, "
            "up to 100bn, ~650m, 1-2bn)",
            f"{book}:my deals!5:F: a formula (=1+1); dealgraph reads values only: paste the cell as a value",
            f"{book}:my deals!5:I: a value right of the header's last column (H); give the column a header or "
            "clear the cell",
            f"{book}:notes!1:A: header 'what this workbook is' in row 1 is not a known kind of table (required "
            "columns by kind — deals: date, type, payee; entities: id, name, kind; metrics: entity, metric, date, "
            "value; fx: currency, date, usd_per_unit; observations: subject, field, value, source); remove the sheet "
            "or fix its header",
            "error: 7 problems found; nothing was written",
        ], r.stderr
    after = tmp_path / "after"
    assert run_cli("export", after, db=sample_db).returncode == 0
    assert same_dirs(before, after)


def test_cells_read_as_excel_shows_them(tmp_path, empty_db):
    import datetime as dt

    book = _book(tmp_path / "typed.xlsx", {"deals": [
        DEAL_HEAD + ["stake_pct"],
        ["a", dt.datetime(2025, 1, 2), "investment", "Acme", "Beta", 650000000, "USD", "completed", 0.49],
        ["b", 2025, "investment", "Acme", "Beta", 5e9, None, None, None],
        ["c", "2025-03", "investment", "Acme", "Beta", 7e6, "", "", None],
    ]}, formats={"deals!F2": '"~"#,##0', "deals!I2": "0%", "deals!F3": '"up to "#,##0', "deals!F4": '"$"#,##0'})
    r = run_cli("add", book, db=empty_db)
    assert r.returncode == 0, r.stderr
    d = open_store(empty_db).deals.set_index("deal_id")
    assert d.loc["a", "date"] == "2025-01-02" and d.loc["a", "amount_qualifier"] == "approx"
    assert d.loc["a", "stake_pct"] == 49
    assert d.loc["b", "date"] == "2025" and d.loc["b", "amount_qualifier"] == "up_to" and d.loc["b", "amount"] == 5e9
    assert d.loc["c", "date"] == "2025-03" and d.loc["c", "amount"] == 7e6


def test_a_currency_format_that_contradicts_the_currency_column_is_refused(tmp_path, empty_db):
    book = _book(tmp_path / "eur.xlsx", {"deals": [DEAL_HEAD, ["a", "2025-01-02", "investment", "A", "B", 100, "EUR", ""]]},
                 formats={"deals!F2": '"$"#,##0'})
    r = run_cli("add", book, db=empty_db)
    assert r.returncode == 1
    assert r.stderr.splitlines()[0] == (f"{book}:deals!2:F: amount: the amount's symbol means USD but the currency "
                                        "column says EUR")


def test_a_workbook_and_a_csv_file_with_problems_are_reported_together(tmp_path, empty_db):
    book = _book(tmp_path / "b.xlsx", {"deals": [DEAL_HEAD, ["a", "2025-13", "investment", "A", "B", 1, "", ""]]})
    bad = write(tmp_path / "c.csv", HEADER + "d1,2025-01-02,merger,a,b,1bn,,,,,,,s,\n")
    r = run_cli("add", bad, book, db=empty_db)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert f"{book}:deals!2:B: date: date '2025-13' has no month 13" in lines
    assert any(line.startswith(f"{bad}:2:3: type: unknown value 'merger'") for line in lines)
    assert lines[-1] == "error: 2 problems found; nothing was written"


def test_not_a_workbook_and_an_empty_workbook_are_refused_in_one_line(tmp_path, empty_db):
    fake = write(tmp_path / "fake.xlsx", "deal_id,date\n")
    r = run_cli("add", fake, db=empty_db)
    assert r.returncode == 1
    assert r.stderr.splitlines()[0].startswith(f"{fake}:1:1: cannot read as an Excel workbook (.xlsx): ")
    empty = _book(tmp_path / "empty.xlsx", {"Sheet1": []})
    r = run_cli("add", empty, db=empty_db)
    assert r.stderr.splitlines() == [f"{empty}:1:1: no sheet of the workbook has a header and rows",
                                     "error: 1 problem found; nothing was written"]


def test_export_xlsx_refuses_text_an_xlsx_cannot_hold_and_writes_no_file(tmp_path, empty_db):
    rows = io.StringIO()
    csv.writer(rows, lineterminator="\n").writerows([DEAL_COLUMNS, ["x", "2025-01-02", "investment", "A", "B", "1",
                                                                    "", "", "", "", "", "", "s", "bell\x07"]])
    assert run_cli("add", write(tmp_path / "d.csv", rows.getvalue()), db=empty_db).returncode == 0
    r = run_cli("export", "--format", "xlsx", tmp_path / "x.xlsx", db=empty_db)
    assert r.returncode == 1
    assert r.stderr == ("error: cannot write x.xlsx:deals!N2: the text holds the control character U+0007, which an "
                        "xlsx file cannot hold; export it as CSV instead\n")
    assert list(tmp_path.glob("*.xlsx")) == [] and list(tmp_path.glob(".x-*")) == []


def test_export_to_a_missing_folder_is_refused(tmp_path, sample_db):
    r = run_cli("export", "--format", "xlsx", tmp_path / "nope" / "x.xlsx", db=sample_db)
    assert r.returncode == 1
    assert r.stderr == f"error: cannot write {tmp_path / 'nope' / 'x.xlsx'}: folder {tmp_path / 'nope'} does not exist\n"
    r = run_cli("export", "--format", "xlsx", tmp_path, db=sample_db)
    assert (r.returncode, r.stderr) == (1, f"error: cannot write {tmp_path}: it is a folder; give a file name "
                                           f"(e.g. {tmp_path / 'deals.xlsx'})\n")
    r = run_cli("export", "--format", "xlsx", tmp_path / "x.csv", db=sample_db)
    assert (r.returncode, r.stderr) == (1, f"error: cannot write {tmp_path / 'x.csv'}: name the workbook .xlsx "
                                           "(`dealgraph add` knows a workbook by it)\n")
    r = run_cli("export", "--format", "xlsx", "--spreadsheet-safe", tmp_path / "x.xlsx", db=sample_db)
    assert r.returncode == 2 and "--spreadsheet-safe is for --format csv" in r.stderr
