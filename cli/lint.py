"""``dealgraph lint``: findings about the stored data, each with the command that fixes it
(the checks: :mod:`dealgraph.queries.lint`; definitions: docs/lint.md).

Exit status: **1** when a finding has severity ``error`` (or, with ``--strict``, when there
is any finding), else **0**: lint is a check, and a failed check exits 1 like
``check --strict`` (see :mod:`dealgraph.cli.common`). The findings go to stdout; the
one-line count ends the table, and goes to stderr with csv, json and markdown.
"""

from __future__ import annotations

import click

from dealgraph.cli.common import emit, format_option, pass_store
from dealgraph.queries.lint import CHECKS, DEFAULT_DAYS, DEFAULT_TOLERANCE
from dealgraph.queries.registry import LINT_LAYOUT

#: Finding columns a terminal table leaves out.
TABLE_DROPS = ("ids", "names")


class Tolerance(click.ParamType):
    """A relative tolerance written as a fraction (``0.1``) or a percentage (``10%``)."""

    name = "tolerance"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        text = str(value).strip()
        try:
            x = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            self.fail(f"{value!r} is not a fraction (0.1) or a percentage (10%)", param, ctx)
        if not 0 <= x <= 1 or (x == 0 and text.startswith("-")):
            self.fail(f"{value!r} is not between 0 and 1 (0% and 100%); 10% is 0.1", param, ctx)
        return x


@click.command("lint")
@click.option("--check", "checks", type=click.Choice(list(CHECKS)), multiple=True,
              help="Run only this check (repeatable; default: all).")
@click.option("--days", type=click.IntRange(min=0), default=DEFAULT_DAYS, show_default=True,
              help="Duplicate deals: most days between the two dates.")
@click.option("--tolerance", type=Tolerance(), default=DEFAULT_TOLERANCE, show_default=True,
              help="Duplicate deals: most relative difference of the amounts (0.1 or 10%).")
@click.option("--strict", is_flag=True, help="Exit with status 1 on any finding, not only on errors.")
@format_option
@pass_store
def lint_command(store, checks, days: int, tolerance: float, strict: bool, fmt: str) -> None:
    """Find likely duplicate deals, amounts sources disagree on, look-alike entities,
    rounds without a valuation and orphan entities; each finding with its fix.

    Checks: duplicate-deals, amount-conflict, lookalike-entities,
    round-without-valuation, orphan-entity (definitions: docs/lint.md). Exit status 1
    when a finding is an error (with --strict: any finding), else 0.
    """
    from dealgraph.queries.lint import lint_store, summary

    findings = lint_store(store, days=days, tolerance=tolerance, checks=checks or None)
    # a terminal table leaves out ids and names (the message names both) so the message gets the
    # width, and prints each fix on its own line (LINT_LAYOUT); csv, json and markdown have every column
    shown = findings.drop(columns=list(TABLE_DROPS)) if fmt == "table" else findings
    emit(shown, fmt, title="lint", markdown_title=False, layout=LINT_LAYOUT, summary=summary(findings))
    if fmt != "table":  # a table ends with it
        click.echo(summary(findings), err=True)
    errors = int((findings["severity"] == "error").sum())
    if errors or (strict and len(findings)):
        click.get_current_context().exit(1)  # a failed check
