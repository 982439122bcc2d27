"""Correcting the data from the command line (issue 12): entity merge / rename / alias /
delete, deal delete, log, undo -- every command and every refusal, exact lines and exit
codes, through the installed `dealgraph` command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import run_cli, write
from dealgraph.graph.schema import DEAL_COLUMNS, ENTITY_COLUMNS
from dealgraph.graph.store import open_store
#: The deal columns the rows below spell out, in file order (the optional ones after notes, such as
#: confidence, are left out: the loader gives them their default).
DEAL_COLUMNS = DEAL_COLUMNS[:DEAL_COLUMNS.index("notes") + 1]

DEALS = ",".join(DEAL_COLUMNS) + "\n"
#: a terminal wide enough for every log line whole (tmp paths are long); the 80-column lines: test_log_fits_the_terminal
WIDE = {"COLUMNS": "300"}
ENTITIES = ",".join(ENTITY_COLUMNS) + "\n"


def ok(r, db):
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def refused(r, line: str) -> None:
    """Exit 1, one `error:` line, nothing on stdout."""
    assert (r.returncode, r.stderr, r.stdout) == (1, f"error: {line}\n", "")


def exported(db: Path, out: Path) -> dict[str, bytes]:
    assert run_cli("export", out, db=db).returncode == 0
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.fixture
def store(tmp_path) -> Path:
    """A fresh store (`init --empty`) holding three entities: change 1."""
    db = tmp_path / "s.db"
    assert run_cli("init", "--empty", db=db).returncode == 0
    ents = write(tmp_path / "entities.csv", ENTITIES + "nvidia,NVIDIA Corporation,company,,NVDA,US,src,\n"
                 "openai,OpenAI,company,Open AI,,US,src,\nmicrosoft,Microsoft,company,,MSFT,US,src,\n")
    assert run_cli("add", ents, db=db).returncode == 0
    return db


def typo_file(tmp_path: Path) -> Path:
    return write(tmp_path / "deals.csv", DEALS + "d1,2025-09,investment,Nvidai,openai,$100bn,,,,,,,press,\n"
                 "d2,2025-10,chip_purchase,openai,Nvidai,$10bn,,,,,,,press,\n"
                 "d3,2025-11,investment,microsoft,openai,$1bn,,,,,,,press,\n")


def test_done_when_typo_then_merge_then_log_then_undo_twice_restores_the_export(tmp_path, store):
    """The issue's scenario: a file with a typo'd name makes a new entity; merging it into
    the right one re-points every deal; the log shows both changes; two undos give the
    store back byte for byte in its export."""
    before = exported(store, tmp_path / "before")
    typo = typo_file(tmp_path)
    r = run_cli("add", typo, db=store)  # refused first, with the suggestion and the way to accept it
    assert r.returncode == 1 and r.stdout == ""
    assert (f"{typo}:2:4: payer: unknown entity 'Nvidai': did you mean 'nvidia' (NVIDIA Corporation)? If it is a "
            f"new entity, accept it with --new-entity 'Nvidai' or add it in an entities file") in r.stderr
    assert exported(store, tmp_path / "refused") == before
    added = ok(run_cli("add", typo, "--new-entity", "Nvidai", db=store), store)
    assert "  + nvidai (Nvidai)" in added, added
    merged = ok(run_cli("entity", "merge", "nvidai", "nvidia", db=store), store)
    assert merged == ["merge nvidai into nvidia:",
                      "entities: 0 new, 1 changed, 1 deleted", "  changed nvidia: aliases", "  deleted nvidai",
                      "deals: 0 new, 2 changed, 0 deleted", "  changed d1: payer", "  changed d2: payee",
                      f"recorded as change 3 in {store} (dealgraph undo 3 reverts it)"]
    s = open_store(store)
    assert s.deals.set_index("deal_id")[["payer", "payee"]].to_dict("index") == {
        "d1": {"payer": "nvidia", "payee": "openai"}, "d2": {"payer": "openai", "payee": "nvidia"},
        "d3": {"payer": "microsoft", "payee": "openai"}}
    assert s.entities.set_index("id").loc["nvidia", "aliases"] == "Nvidai"  # the id differs only in case: one alias
    log = ok(run_cli("log", db=store, env=WIDE), store)
    assert [line.split()[0] for line in log] == ["3", "2", "1"]
    assert log[0].endswith(f"dealgraph entity merge nvidai nvidia  [entities: 1 changed, 1 deleted; deals: 2 changed]")
    assert log[1].endswith(f"dealgraph add {typo} --new-entity Nvidai  [entities: 1 new; deals: 3 new]")
    assert ok(run_cli("undo", db=store), store)[0] == "undo change 3 (dealgraph entity merge nvidai nvidia):"
    assert ok(run_cli("undo", db=store), store)[0] == f"undo change 2 (dealgraph add {typo} --new-entity Nvidai):"
    assert exported(store, tmp_path / "after") == before
    log = ok(run_cli("log", db=store, env=WIDE), store)
    assert [line.split()[0] for line in log] == ["5", "4", "3", "2", "1"]
    assert log[2].endswith("(undone)") and log[3].endswith("(undone)")


def test_every_edit_and_its_report(tmp_path, store):
    assert ok(run_cli("add", typo_file(tmp_path), "--new-entity", "Nvidai", db=store), store)
    assert ok(run_cli("entity", "rename", "microsoft", "msft", db=store), store) == [
        "rename microsoft to msft:", "entities: 1 new, 0 changed, 1 deleted", "  new msft", "  deleted microsoft",
        "deals: 0 new, 1 changed, 0 deleted", "  changed d3: payer",
        f"recorded as change 3 in {store} (dealgraph undo 3 reverts it)"]
    s = open_store(store)
    assert s.entities.set_index("id").loc["msft", "aliases"] == ""  # its name, Microsoft, still answers to 'microsoft'
    assert ok(run_cli("entity", "rename", "nvidia", "nv", db=store), store)[-1].startswith("recorded as change 4")
    assert open_store(store).entities.set_index("id").loc["nv", "aliases"] == "nvidia"
    ok(run_cli("undo", db=store), store)
    assert ok(run_cli("entity", "alias", "nvidia", "Nvidia Corp", db=store), store) == [
        "alias 'Nvidia Corp' for nvidia:", "entities: 0 new, 1 changed, 0 deleted", "  changed nvidia: aliases",
        f"recorded as change 6 in {store} (dealgraph undo 6 reverts it)"]
    assert ok(run_cli("entity", "alias", "nvidia", "nvidia corp", db=store), store) == [
        "alias 'nvidia corp' for nvidia:", "nothing to change; nothing written"]
    assert ok(run_cli("deal", "delete", "d3", db=store), store) == [
        "delete 1 deal:", "deals: 0 new, 0 changed, 1 deleted", "  deleted d3",
        f"recorded as change 7 in {store} (dealgraph undo 7 reverts it)"]
    assert ok(run_cli("entity", "delete", "nvidai", "--cascade", db=store), store) == [
        "delete entity nvidai:", "entities: 0 new, 0 changed, 1 deleted", "  deleted nvidai",
        "deals: 0 new, 0 changed, 2 deleted", "  deleted d1", "  deleted d2",
        f"recorded as change 8 in {store} (dealgraph undo 8 reverts it)"]
    assert ok(run_cli("entity", "delete", "msft", db=store), store)[-1] == \
        f"recorded as change 9 in {store} (dealgraph undo 9 reverts it)"
    assert len(open_store(store).deals) == 0


def test_dry_run_writes_nothing_on_every_edit(tmp_path, store):
    ok(run_cli("add", typo_file(tmp_path), "--new-entity", "Nvidai", db=store), store)
    before = exported(store, tmp_path / "before")
    for args in (["entity", "merge", "nvidai", "nvidia"], ["entity", "rename", "nvidai", "nv"],
                 ["entity", "alias", "nvidia", "Team Green"], ["deal", "delete", "d1", "d2"],
                 ["entity", "delete", "openai", "--cascade"], ["undo"]):
        out = ok(run_cli(*args, "--dry-run", db=store), store)
        assert out[-1] == "dry run; nothing written", args
    assert exported(store, tmp_path / "after") == before
    assert len(ok(run_cli("log", db=store, env=WIDE), store)) == 2


def test_every_refusal_is_one_line_and_exit_1(tmp_path, store):
    ok(run_cli("add", typo_file(tmp_path), "--new-entity", "Nvidai", db=store), store)
    ok(run_cli("entity", "merge", "nvidai", "nvidia", db=store), store)
    before = exported(store, tmp_path / "before")
    refused(run_cli("entity", "merge", "nope", "nvidia", db=store), "no entity with id 'nope'")
    refused(run_cli("entity", "merge", "nvidai", "nvidia", db=store),
            "no entity with id 'nvidai' ('nvidai' is a name or alias of 'nvidia': give its id)")
    refused(run_cli("entity", "merge", "nvidia", "nvidia", db=store), "cannot merge 'nvidia' into itself")
    refused(run_cli("entity", "merge", "openai", "nvidia", db=store),
            "merging 'openai' into 'nvidia' would make 2 deals pay themselves (payer = payee): d1, d2; "
            "delete or correct them first (dealgraph deal delete ID)")
    refused(run_cli("entity", "rename", "microsoft", "openai", db=store),
            "'openai' already names entity 'openai'; to make them one, dealgraph entity merge microsoft openai")
    refused(run_cli("entity", "rename", "microsoft", "Micro Soft", db=store),
            "id 'Micro Soft' is not a lowercase slug (letters a-z, digits, '-', '_', '.')")
    refused(run_cli("entity", "rename", "nope", "new", db=store), "no entity with id 'nope'")
    refused(run_cli("entity", "alias", "microsoft", "Open AI", db=store), "'Open AI' already names entity 'openai'")
    refused(run_cli("entity", "alias", "nope", "x", db=store), "no entity with id 'nope'")
    refused(run_cli("deal", "delete", "d1", "x", "y", db=store), "no deals with ids 'x', 'y'; nothing was deleted")
    refused(run_cli("deal", "delete", "x", db=store), "no deal with id 'x'; nothing was deleted")
    refused(run_cli("entity", "delete", "microsoft", db=store),
            "entity 'microsoft' is used by 1 deal (d3); delete those first, merge it into another entity, "
            "or use --cascade")
    refused(run_cli("entity", "delete", "nope", db=store), "no entity with id 'nope'")
    refused(run_cli("undo", "99", db=store), "no change 99 in the log (changes: 1 to 3)")
    refused(run_cli("undo", "2", db=store),
            "cannot undo change 2: entity nvidai was deleted since by change 3 "
            "(dealgraph entity merge nvidai nvidia); undo change 3 first")
    refused(run_cli("log", "--deal", "zz", db=store), "no deal 'zz' in the change log")
    refused(run_cli("log", "--entity", "zz", db=store), "no entity 'zz' in the change log")
    assert exported(store, tmp_path / "after") == before
    ok(run_cli("undo", "3", db=store), store)
    refused(run_cli("undo", "3", db=store), "change 3 is already undone (by change 4)")
    for usage in (["entity", "merge", "onlyone"], ["deal", "delete"], ["undo", "two"],
                  ["log", "--deal", "d1", "--entity", "x"]):
        assert run_cli(*usage, db=store).returncode == 2, usage


def test_undo_of_an_undo_reapplies_the_change(tmp_path, store):
    ok(run_cli("add", typo_file(tmp_path), "--new-entity", "Nvidai", db=store), store)
    ok(run_cli("entity", "merge", "nvidai", "nvidia", db=store), store)
    merged = exported(store, tmp_path / "merged")
    ok(run_cli("undo", db=store), store)
    assert ok(run_cli("undo", "4", db=store), store)[0] == "undo change 4 (dealgraph undo):"
    assert exported(store, tmp_path / "again") == merged
    assert ok(run_cli("undo", db=store), store)[0] == "undo change 3 (dealgraph entity merge nvidai nvidia):"


def test_log_of_one_deal_and_one_entity_with_sources(tmp_path, store):
    f = typo_file(tmp_path)
    ok(run_cli("add", f, "--new-entity", "Nvidai", db=store), store)
    ok(run_cli("entity", "merge", "nvidai", "nvidia", db=store), store)
    lines = ok(run_cli("log", "--deal", "d1", db=store, env=WIDE), store)
    assert [re.sub(r"^ +\d+  \S+  ", "", line) for line in lines] == [
        "deal d1: 2 changes",
        f"inserted  by dealgraph add {f} --new-entity Nvidai",
        "      source: press",
        f"      file: {f}",
        f"      sha256: {__import__('hashlib').sha256(f.read_bytes()).hexdigest()}",
        "changed  by dealgraph entity merge nvidai nvidia",
        "      payer: 'nvidai' -> 'nvidia'",
        "      source: press"]
    ent = ok(run_cli("log", "--entity", "nvidai", db=store, env=WIDE), store)
    assert ent[0] == "entity nvidai: 2 changes" and ent[-2].endswith("deleted  by dealgraph entity merge nvidai nvidia")
    assert ent[-1] == "      source: created by dealgraph add from a deal's payer/payee"


def test_help_texts_say_what_each_command_does(store):
    top = run_cli("--help").stdout
    assert "Correct:" in top and "Revert a change from the log exactly" in top
    assert "SOURCE's id, name and aliases become aliases of INTO" in run_cli("entity", "merge", "--help").stdout
    assert "--cascade" in run_cli("entity", "delete", "--help").stdout
    assert "default: the latest change not yet undone" in " ".join(run_cli("undo", "--help").stdout.split())


def test_log_fits_the_terminal_and_csv_json_are_whole(tmp_path, store):
    f = typo_file(tmp_path)
    ok(run_cli("add", f, "--new-entity", "Nvidai", db=store), store)
    ok(run_cli("entity", "merge", "nvidai", "nvidia", db=store), store)
    ok(run_cli("undo", db=store), store)
    command = f"dealgraph add {f} --new-entity Nvidai"
    for width in (80, 120):
        lines = ok(run_cli("log", db=store, env={"COLUMNS": str(width)}), store)
        assert all(len(line) <= width for line in lines), lines
        undo = "   4  " + lines[0][6:26] + "  dealgraph undo"
        counts = "[entities: 1 new, 1 changed; deals: 2 changed]"
        # a change on one line when it fits, else its counts on a line of their own, under the time
        assert lines[:2 if width == 80 else 1] == ([undo + "  " + counts] if width == 120 else [undo, "      " + counts])
        # the add's command is longer than the line: shortened with …
        i = next(k for k, line in enumerate(lines) if line.startswith("   2  "))
        assert lines[i].endswith("…") and command.startswith(lines[i][28:-1]) and len(lines[i]) == width
        assert lines[i + 1] == "      [entities: 1 new; deals: 3 new]"
        assert lines[i - 1] == "      [entities: 1 changed, 1 deleted; deals: 2 changed]  (undone)"
        for line in ok(run_cli("log", "--deal", "d1", db=store, env={"COLUMNS": str(width)}), store):
            assert len(line) <= width or line.startswith("      file: "), line   # a path is shown whole
    recs = __import__("json").loads(run_cli("log", "--format", "json", db=store).stdout)
    assert [(r["id"], r["command"], r["undone"], r["undoes"]) for r in recs] == [
        (4, "dealgraph undo", False, 3), (3, "dealgraph entity merge nvidai nvidia", True, None),
        (2, command, False, None), (1, f"dealgraph add {tmp_path / 'entities.csv'}", False, None)]
    assert recs[2]["changes"] == "entities: 1 new; deals: 3 new"
    csv = run_cli("log", "--format", "csv", db=store).stdout.splitlines()
    assert csv[0] == "id,time,command,changes,undone,undoes" and len(csv) == 5
    assert run_cli("log", "--deal", "d1", "--format", "csv", db=store).returncode == 2
