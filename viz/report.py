"""``dealgraph report``: one self-contained HTML page to share, publish or print.

Sections, in order:

1. Title, date and the selection (``--as-of``, ``--status``), a table of contents.
2. **The lead**: the headline findings in words (:mod:`dealgraph.viz.findings`),
   every figure taken from the query results the tables below show.
3. **Money** — a data summary (entities by kind, deals by type with disclosed and
   undisclosed amounts, statuses) and a chart of known money by year and deal type.
4. **The circular web** — its timeline (the ``timeline`` query by quarter) and the
   :data:`TOP_CYCLES` largest cycles by bottleneck, each as a small diagram with the
   known amount on every hop and the bottleneck hop marked.
5. **Valuation histories** — a chart for every entity with two or more rounds and
   at least two known valuations (at most :data:`MAX_CHARTS`).
6. **The network** — the interactive view of ``dealgraph viz`` (left out in print).
7. **Tables** — every canned query of :mod:`dealgraph.queries.registry` that needs no
   argument, in :data:`REPORT_QUERIES` order, with its definition and command.
8. **Sources** — every source the data cites, URLs as links, with what cites it.

Charts are matplotlib SVG inline (:mod:`dealgraph.viz.charts`). Tables show cells as
``dealgraph query`` does (money ``$20.0bn``, names for entity ids) under human
headers; a table shows the :data:`MAX_COLUMNS` most important columns of its query's
layout (the rest are named under it, with the command that shows them), at most
:data:`MAX_ROWS` rows, and cells wrap, so no table is wider than the page. Each query
runs once; the lead, the charts and the tables use the same results. A query that
fails shows its error in its section and is left out of the lead instead of sinking
the report. Every text from the data is escaped; links are made only from
``http(s)://`` URLs. Print CSS: no interactive parts, charts and table rows are not
split across pages, headings stay with what follows, link targets are printed.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import html
import re
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from dealgraph.graph.schema import DEAL_TYPES, ENTITY_KINDS, ROUND_TYPES, STATUSES
from dealgraph.queries.common import money
from dealgraph.viz import html as vhtml
from dealgraph.viz.network import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES

#: Report order and headings of the registry's queries (``dealgraph.queries.registry``);
#: any other query there that needs no argument follows these.
REPORT_QUERIES: list[tuple[str, str]] = [
    ("circular-flows", "Circular money flows"),
    ("hubs", "Hubs of the circular web"),
    ("timeline", "Timeline of the circular web"),
    ("sensitivity", "Sensitivity of the headline figures"),
    ("multiples", "Valuation multiples"),
    ("deal-comparisons", "Deal comparisons"),
    ("round-trip", "Round-trip money"),
    ("returns", "Returns to exit"),
    ("concentration", "Concentration of inflow"),
    ("circularity", "Circularity against chance"),
    ("check", "Claims check"),
]
#: Options the report runs a query with besides its defaults: the random-rewiring test stops
#: after 20 s on a big store (its table says how many null graphs were drawn).
REPORT_OPTIONS: dict[str, dict] = {"circularity": {"timeout": 20.0}}
#: Queries the report leaves out above this many selected deals, because they take minutes there
#: (sensitivity re-runs the cycle, hub and round-trip figures once per deal on the top cycles: 20 min
#: at 100,000 deals); the section says so and names the command.
SKIP_ABOVE: dict[str, int] = {"sensitivity": 20_000}
MAX_ROWS = 25
#: text columns whose entity ids (``openai $300.0bn (cycle of 3)``) the report shows as names
NAME_TEXT_COLUMNS = ("counterparties", "breakdown", "returning_payers", "via", "investors")
MAX_COLUMNS = 8
MAX_CHARTS = 40
TOP_CYCLES = 6
#: Sources listed (most cited first) and citing ids named per source.
MAX_SOURCES = 300
MAX_CITES = 30

REPORT_CSS = """
html,body{margin:0;background:#fff}
.dg-report{max-width:1100px;margin:0 auto;padding:16px 24px 48px;font:15px/1.5 Georgia,"Times New Roman",serif;color:#222;box-sizing:border-box}
.dg-report h1{font:700 30px/1.2 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:8px 0 4px}
.dg-report h2{font:600 21px/1.3 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
.dg-report h3{font:600 16px/1.3 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:20px 0 4px}
.dg-report .dg-sub,.dg-report .dg-explain,.dg-report figcaption{color:#555;font-size:13.5px}
.dg-report .dg-explain{margin:2px 0 8px}
.dg-lead{font-size:17px;line-height:1.6;border-left:4px solid #4e79a7;padding:4px 0 4px 14px;margin:14px 0}
.dg-lead p{margin:0 0 10px}
.dg-toc{font:13px system-ui,sans-serif;color:#555}.dg-toc a{color:#2a5d9f;margin-right:10px}
.dg-report .dg-note{background:#fff4d6;border-left:3px solid #e0a800;padding:3px 8px;margin:4px 0;font-size:13px}
.dg-report .dg-error{background:#fde8e8;border-left:3px solid #d00;padding:3px 8px}
.dg-report code{font-size:12.5px;overflow-wrap:anywhere}
.dg-scroll{overflow-x:auto;max-width:100%}
.dg-table{border-collapse:collapse;font:12.5px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:4px 0;max-width:100%}
.dg-table th,.dg-table td{border:1px solid #ddd;padding:3px 6px;vertical-align:top;text-align:left;overflow-wrap:anywhere}
.dg-table thead th{background:#f3f3f3;overflow-wrap:normal;word-break:normal;hyphens:auto}
.dg-table td.num,.dg-table th.num{text-align:right}
.dg-table td.num,.dg-table td.nw{white-space:nowrap}
.dg-table tr.dg-section th{background:#fafafa;font-weight:600}
.dg-table tr.dg-detail td{color:#555;border-top:none}
.dg-summary{display:flex;flex-wrap:wrap;gap:18px;font:13.5px system-ui,sans-serif}
.dg-summary>div{min-width:200px}
.dg-netbox{height:720px;border:1px solid #ddd}
.dg-figure{margin:10px 0;max-width:100%}
.dg-figure svg{max-width:100%;height:auto;display:block}
.dg-charts{display:flex;flex-wrap:wrap;gap:12px 20px}
.dg-charts .dg-figure{margin:0}
.dg-cycles-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px 20px}
.dg-print-only{display:none}
.dg-sources{padding-left:2em}
.dg-sources li{margin:3px 0;overflow-wrap:anywhere;font-size:13.5px}
.dg-sources .dg-cites{color:#666;font-size:12px}
@media print{
  @page{margin:16mm 14mm}
  .dg-report{max-width:none;padding:0;font-size:11pt}
  .dg-interactive,.dg-toc{display:none !important}
  .dg-print-only{display:block}
  .dg-scroll{overflow:visible}
  .dg-table{font-size:8.5pt}
  .dg-table thead{display:table-header-group}
  .dg-table tr,.dg-figure,.dg-lead,.dg-summary{break-inside:avoid;page-break-inside:avoid}
  .dg-report h2,.dg-report h3{break-after:avoid;page-break-after:avoid}
  .dg-report section{break-inside:avoid-page}
  .dg-report a{color:#000;text-decoration:none}
  .dg-report a[href^="http"]:not(.dg-url)::after{content:" <" attr(href) ">";font-size:90%;overflow-wrap:anywhere}
}
"""

_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+[^\s<>\"'()\[\].,;:!?]")
#: header words written otherwise than lower case
_HEADER_WORDS = {"id": "ID", "ids": "IDs", "hhi": "HHI", "ev": "EV", "usd": "US$", "pct": "(%)", "len2": "length 2",
                 "len3": "length 3", "len4": "length 4", "len5": "length 5", "p": "p"}


def _e(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _linkify(text: str) -> str:
    """Escaped text with http(s) URLs as links (nothing else becomes markup)."""
    out, pos = [], 0
    for m in _URL.finditer(text):
        out.append(_e(text[pos:m.start()]))
        url = m.group(0)
        out.append(f'<a class="dg-url" href="{_e(url)}" rel="noopener noreferrer nofollow">{_e(url)}</a>')
        pos = m.end()
    out.append(_e(text[pos:]))
    return "".join(out)


def header(column: str) -> str:
    """A column name as a table header: ``bottleneck_usd`` -> ``Bottleneck`` (money
    cells carry their ``$``), ``top_share_pct`` -> ``Top share (%)``,
    ``deal_ids`` -> ``Deal IDs``; first letter capital."""
    words = str(column).split("_")
    if len(words) > 1 and words[-1] == "usd":
        words = words[:-1]
    text = " ".join(_HEADER_WORDS.get(w, w) for w in words if w)
    return text[:1].upper() + text[1:]


def table_html(df: pd.DataFrame, *, layout=None, names=None, command: str | None = None,
               max_rows: int = MAX_ROWS, max_columns: int = MAX_COLUMNS) -> str:
    """An escaped HTML table of ``df`` as ``dealgraph query`` shows it (money, names for
    the layout's id columns, qualifiers folded into amounts) under human headers: the
    ``max_columns`` most important columns by the layout's priority, the first
    ``max_rows`` rows, a section heading row per run of ``layout.sections`` and the
    ``layout.details`` text on a row of its own under each row. What is left out is
    said under the table, with ``command``."""
    from dealgraph.queries.output import DEFAULT_LAYOUT, display_frame, format_cell

    layout = layout or DEFAULT_LAYOUT
    if df is None or len(df) == 0:
        return '<p class="dg-sub">(no rows)</p>'
    extra = tuple(c for c in NAME_TEXT_COLUMNS if c in df.columns and c not in layout.names)
    if extra:  # lists of counterparties by id read as names too (a deal id is one word: it stays)
        layout = dataclasses.replace(layout, names=layout.names + extra)
    shown = df.head(max_rows)
    cols, rows, numeric = display_frame(shown, layout, names)
    rank = {c: i for i, c in enumerate(layout.priority)}
    order = sorted(range(len(cols)), key=lambda i: (rank.get(cols[i], len(rank)), i))
    keep = sorted(order[:max_columns], key=lambda i: (rank.get(cols[i], len(rank)), i))
    hidden = [cols[i] for i in order[max_columns:]]
    head = "".join(f'<th scope="col"{" class=num" if numeric[i] else ""}>{_e(header(cols[i]))}</th>' for i in keep)
    sections = shown[layout.sections].tolist() if layout.sections in shown.columns else None
    details = [c for c in layout.details if c in shown.columns]
    body = []
    for r, row in enumerate(rows):
        if sections and (r == 0 or sections[r] != sections[r - 1]):
            body.append(f'<tr class="dg-section"><th colspan="{len(keep)}">'
                        f'{_e(format_cell(layout.sections, sections[r]))}</th></tr>')
        body.append("<tr>" + "".join(f'<td{_cell_class(row[i], numeric[i])}>{_e(row[i])}</td>'
                                     for i in keep) + "</tr>")
        for c in details:
            v = shown[c].iloc[r]
            if isinstance(v, str) and v.strip():
                text = format_cell(c, _names_in(v, names, c in layout.names))
                body.append(f'<tr class="dg-detail"><td colspan="{len(keep)}">{_e(header(c))}: {_e(text)}</td></tr>')
    more = []
    if len(df) > max_rows:
        more.append(f"First {max_rows} of {len(df):,} rows.")
    if hidden:
        more.append("Not shown: " + ", ".join(header(c) for c in hidden) + ".")
    if more and command:
        more.append(f"<code>{_e(command)} --wide</code> prints every row and column.")
    note = f'<p class="dg-sub">{" ".join(more)}</p>' if more else ""
    return (f'<div class="dg-scroll"><table class="dg-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>{note}')


#: a word this short (a date, a name, a figure) is never broken inside; longer ones (deal ids) may be
NOWRAP_MAX = 16


def _cell_class(text: str, numeric: bool) -> str:
    if numeric:
        return " class=num"
    return " class=nw" if len(text) <= NOWRAP_MAX and " " not in text else ""


def _names_in(text: str, names, apply: bool) -> str:
    from dealgraph.queries.output import _name_cell

    return _name_cell(text, names) if apply and names else text


def _claims_path() -> Path:
    import dealgraph.data

    return Path(dealgraph.data.__file__).parent / "claims.csv"


def report_queries() -> list[tuple[str, str, object]]:
    """(name, heading, registry Query) for every table in the report, in order.

    Queries with a required option (``rounds ENTITY``) are left out — the
    valuation charts show rounds; the claims check runs on the shipped
    ``data/claims.csv`` (the article's own stated figures)."""
    from dealgraph.queries import registry

    queries = dict(registry.QUERIES)
    queries[registry.CHECK.name] = registry.CHECK
    headings = dict(REPORT_QUERIES)
    order = [n for n, _ in REPORT_QUERIES if n in queries]
    order += [n for n in queries if n not in headings]
    out = []
    for name in order:
        q = queries[name]
        if name != registry.CHECK.name and any(o.required for o in q.options):
            continue
        out.append((name, headings.get(name, name.replace("-", " ").capitalize()), q))
    return out


class Skipped(Exception):
    """A query the report did not run (:data:`SKIP_ABOVE`)."""


def run_queries(store, *, as_of=None, status=None, n_deals: int | None = None) -> dict[str, pd.DataFrame | Exception]:
    """Every report query's result (or the exception it raised, or :class:`Skipped`), by name.
    ``n_deals``: the number of selected deals (for :data:`SKIP_ABOVE`)."""
    out: dict[str, pd.DataFrame | Exception] = {}
    for name, _heading, q in report_queries():
        limit = SKIP_ABOVE.get(name)
        if limit is not None and n_deals is not None and n_deals > limit:
            out[name] = Skipped(f"not run in the report above {limit:,} deals ({n_deals:,} selected): "
                                f"it takes minutes at this size; run dealgraph query {name}")
            continue
        options = dict(REPORT_OPTIONS.get(name, {}))
        if name == "check":
            options["claims"] = str(_claims_path())
        try:
            out[name] = q.run(store, as_of=as_of, status=status, **options)
        except Exception as e:  # one failing query must not sink the report; its section says what happened
            out[name] = e
    return out


def query_sections(results: dict, names) -> tuple[list[str], list[str]]:
    """HTML of each query's section, and notes for the command's output."""
    parts, notes = [], []
    for name, heading, q in report_queries():
        df = results.get(name)
        command = "dealgraph check" if name == "check" else f"dealgraph query {name}"
        if isinstance(df, Skipped):
            notes.append(f"query {name} {df}")
            body = f'<p class="dg-note">{_e(df)}</p>'
        elif isinstance(df, Exception):
            notes.append(f"query {name} failed: {df}")
            body = f'<p class="dg-error">Could not compute: {_e(type(df).__name__)}: {_e(df)}</p>'
        else:
            body = table_html(df, layout=q.layout, names=names, command=command)
            msg = df.attrs.get("message")
            if msg:
                body = f'<p class="dg-sub">{_e(_names_in(str(msg), names, True))}</p>' + body
        parts.append(f'<section id="q-{_e(name)}"><h3>{_e(heading)}</h3>'
                     f'<p class="dg-explain">{_e(q.description)} <code>{_e(command)}</code></p>{body}</section>')
    return parts, notes


def _words(x: str) -> str:
    return str(x).replace("_", " ")


def summary_html(store, deals: pd.DataFrame) -> str:
    ents = store.entities
    by_kind = ents["kind"].value_counts()
    kinds = "".join(f"<li>{_e(_words(k))}: {int(by_kind[k]):,}</li>" for k in ENTITY_KINDS if k in by_kind)
    rows = []
    amounts = pd.to_numeric(deals["amount_usd"], errors="coerce")
    for t in DEAL_TYPES:
        sel = deals["type"] == t
        n = int(sel.sum())
        if n:
            known = amounts[sel].dropna()
            rows.append(f"<tr><td>{_e(_words(t))}</td><td class='num'>{n:,}</td>"
                        f"<td class='num'>{_e(money(known.sum()) if len(known) else 'n/a')}</td>"
                        f"<td class='num'>{n - len(known):,}</td></tr>")
    by_status = deals["status"].value_counts()
    statuses = "".join(f"<li>{_e(_words(s))}: {int(by_status[s]):,}</li>" for s in STATUSES if s in by_status)
    span = ""
    if len(deals):
        i0, i1 = deals["date_key"].idxmin(), deals["date_key"].idxmax()
        span = f", {_e(deals.loc[i0, 'date'])} to {_e(deals.loc[i1, 'date'])}"
    known = amounts.dropna()
    return (f'<div class="dg-summary"><div><b>{len(ents):,} entities</b><ul>{kinds}</ul></div>'
            f'<div><b>{len(deals):,} deals</b>{span}<br>disclosed amounts total {_e(money(known.sum()))}; '
            f'{len(deals) - len(known):,} undisclosed<ul>{statuses}</ul></div>'
            f'<div><table class="dg-table"><thead><tr><th>Deal type</th><th class=num>Deals</th>'
            f'<th class=num>Disclosed</th><th class=num>Undisclosed</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>'
            f'<div><b>{len(store.metrics):,} metric observations</b> (revenue, market cap, valuations)</div></div>')


def _figure(svg: str, caption: str = "", attrs: str = "") -> str:
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure class="dg-figure"{attrs}>{svg}{cap}</figure>'


def valuation_charts(store, deals: pd.DataFrame, names, *, as_of=None, status=None) -> tuple[str, list[str]]:
    """One valuation chart per entity with ≥ 2 rounds and ≥ 2 known valuations."""
    from dealgraph.queries.returns import rounds
    from dealgraph.viz.charts import valuation_history

    counts = deals[deals["type"].isin(ROUND_TYPES)]["payee"].value_counts()
    charts, notes = [], []
    for entity in sorted(counts[counts >= 2].index, key=lambda e: (-int(counts[e]), str(e))):
        if len(charts) >= MAX_CHARTS:
            notes.append(f"valuation charts limited to the {MAX_CHARTS} entities with the most rounds")
            break
        r = rounds(store, entity=entity, as_of=as_of, status=status)
        is_round = r["kind"] == "round"
        if int(is_round.sum()) < 2 or int((is_round & r["valuation_usd"].notna()).sum()) < 2:
            continue
        name = names.get(entity, entity)
        r = r.assign(investors=[_names_in(x, names, True) for x in r["investors"].tolist()])
        svg = valuation_history(r, f"{name}: post-money valuation")
        if svg:
            charts.append(_figure(svg, attrs=f' data-entity="{_e(entity)}"'))
    if not charts:
        return '<p class="dg-sub">No entity has two or more rounds with known valuations.</p>', notes
    return f'<div class="dg-charts">{"".join(charts)}</div>', notes


def cycle_figures(cycles: pd.DataFrame | None, deals: pd.DataFrame, names, top: int = TOP_CYCLES) -> str:
    """The ``top`` cycles of ``circular-flows`` (largest bottleneck first), each a diagram
    with the known amount of every hop (the hop's deals' known amounts summed, as the
    cycle search counts them) and the bottleneck hop marked."""
    from dealgraph.graph.arrays import build_arrays
    from dealgraph.viz.charts import cycle_diagram

    if cycles is None or isinstance(cycles, Exception) or not len(cycles):
        return '<p class="dg-sub">No money cycles in the selected deals.</p>'
    arrays = build_arrays(deals)
    code = {str(x): i for i, x in enumerate(arrays.ids)}
    figs = []
    for k, r in enumerate(cycles.head(top).to_dict("records"), 1):
        ids = [p.strip() for p in str(r["cycle"]).split("->")][:-1]
        amounts = []
        for i, a in enumerate(ids):
            h = arrays.hop_index(code[a], code[ids[(i + 1) % len(ids)]]) if a in code else -1
            amounts.append(float(arrays.hop_amount[h]) if h >= 0 else float("nan"))
        known = [x for x in amounts if not np.isnan(x)]
        bott = int(np.nanargmin(amounts)) if len(known) == len(amounts) else None
        b = r["bottleneck_usd"]
        title = f"{k}. bottleneck {money(b) if pd.notna(b) else 'undisclosed'}"
        svg = cycle_diagram([names.get(x, x) for x in ids], amounts, title, bottleneck=bott)
        path = " → ".join(names.get(x, x) for x in ids + ids[:1])
        flags = [w for w, on in (("time-ordered", r.get("time_ordered")), ("includes tentative deals",
                                                                          r.get("tentative"))) if on is True]
        caption = (f"{_e(path)}: {_e(money(r['total_usd']))} around the loop"
                   + (f" ({_e(', '.join(flags))})" if flags else "") + f". Deals: {_e(r['deal_ids'])}.")
        figs.append(_figure(svg, caption, ' data-cycle="%d"' % k))
    total = cycles.attrs.get("total_cycles", len(cycles))
    more = (f'<p class="dg-sub">The {min(top, len(cycles))} largest of {int(total):,} cycles; all are in '
            f'<a href="#q-circular-flows">Circular money flows</a>.</p>')
    return f'<div class="dg-cycles-grid">{"".join(figs)}</div>{more}'


def sources_html(store, deals: pd.DataFrame) -> str:
    """Every source cited by the deals, entities and metrics (most cited first, at most
    :data:`MAX_SOURCES`), with what cites it (ids; at most :data:`MAX_CITES` named)."""
    cites: dict[str, list[str]] = {}
    for frame, idcol in ((deals, "deal_id"), (store.entities, "id"), (store.metrics, "entity")):
        for sid, src in zip(frame[idcol].tolist(), frame["source"].tolist()):
            if isinstance(src, str) and src.strip():
                cites.setdefault(src.strip(), []).append(str(sid))
    ordered = sorted(cites, key=lambda s: (-len(set(cites[s])), s.lower()))
    items = []
    for src in ordered[:MAX_SOURCES]:
        ids = sorted(set(cites[src]))
        shown = ", ".join(ids[:MAX_CITES])
        if len(ids) > MAX_CITES:
            shown = f"{len(ids):,} deals and entities, among them " + shown
        items.append(f'<li>{_linkify(src)} <span class="dg-cites">— cited by {_e(shown)}</span></li>')
    more = (f'<p class="dg-sub">The {MAX_SOURCES} most cited of {len(cites):,} sources; '
            f'<code>dealgraph export</code> writes every row with its source.</p>' if len(cites) > MAX_SOURCES else "")
    return f'<ol class="dg-sources">{"".join(items)}</ol>{more}'


def lead_html(found) -> str:
    if not found:
        return '<div class="dg-lead"><p>No deals in the selection.</p></div>'
    return ('<div class="dg-lead" id="lead">' + "".join(f'<p data-topic="{_e(f.topic)}">{_e(f.text)}</p>'
                                                        for f in found) + "</div>")


def render_report(store, *, title: str = "AI deals: who pays whom", as_of: str | None = None, status=None,
                  max_nodes: int = DEFAULT_MAX_NODES, max_edges: int = DEFAULT_MAX_EDGES,
                  today: _dt.date | None = None) -> tuple[str, list[str]]:
    """The report page and notes (reductions, missing or failed queries)."""
    from dealgraph.queries.common import deals_of
    from dealgraph.viz.build import view_from_store
    from dealgraph.viz.charts import money_by_year, web_timeline
    from dealgraph.viz.findings import findings

    today = today or _dt.date.today()
    deals = deals_of(store, as_of=as_of, status=status)
    names = dict(zip(store.entities["id"].astype(str), store.entities["name"].astype(str)))
    results = run_queries(store, as_of=as_of, status=status, n_deals=len(deals))
    ok = {k: v for k, v in results.items() if not isinstance(v, Exception)}
    view = view_from_store(store, as_of=as_of, status=status, max_nodes=max_nodes, max_edges=max_edges,
                           title="The deal network")
    queries, qnotes = query_sections(results, names)
    valuations, cnotes = valuation_charts(store, deals, names, as_of=as_of, status=status)
    notes = list(view.notes) + qnotes + cnotes
    by_year = money_by_year(deals)
    tl = ok.get("timeline")
    tl_svg = web_timeline(tl) if tl is not None else ""
    nonce = secrets.token_urlsafe(18)
    sub = f"Generated {today.isoformat()} by dealgraph"
    if as_of:
        sub += f" · deals dated on or before {as_of}"
    sub += " · statuses: " + (status if isinstance(status, str) else "all but terminated" if status is None
                              else ", ".join(status))
    toc = ('<nav class="dg-toc">' + "".join(f'<a href="#{a}">{t}</a>' for a, t in (
        ("money", "Money"), ("web", "The circular web"), ("valuations", "Valuations"), ("network", "Network"),
        ("queries", "Tables"), ("sources", "Sources"))) + "</nav>")
    undisclosed = int(pd.to_numeric(deals["amount_usd"], errors="coerce").isna().sum())
    body = [
        '<body><main class="dg-report">',
        f"<h1>{_e(title)}</h1><p class='dg-sub'>{_e(sub)}</p>", toc,
        "".join(f'<p class="dg-note">{_e(n)}</p>' for n in view.notes),
        lead_html(findings(ok, deals, names)),
        '<h2 id="money">Money</h2>', summary_html(store, deals),
        _figure(by_year, f"Disclosed amounts by the year of each deal's first day (partial dates count from "
                         f"their first day); {undisclosed:,} undisclosed amounts are not in the bars.")
        if by_year else "",
        '<h2 id="web">The circular web</h2>',
        _figure(tl_svg, "Per quarter: known money added by the deals that enter (bars), money cycles of length "
                        "2..4 in the web as of the quarter's end (red), share of money on links that lie on a "
                        "cycle (dotted). <code>dealgraph query timeline</code>") if tl_svg else "",
        '<h3>The largest loops</h3><p class="dg-explain">Each loop with the known money on every link (all '
        'deals from payer to payee summed); the bottleneck, the least that can go all the way round, in red.</p>',
        cycle_figures(ok.get("circular-flows"), deals, names),
        '<h2 id="valuations">Valuation histories</h2><p class="dg-explain">Post-money valuation per round '
        '(step line), step-up ×m between consecutive valuations, exits dashed in red with their value.</p>',
        valuations,
        '<section class="dg-interactive"><h2 id="network">The network</h2><p class="dg-explain">Arrows point '
        'from payer to payee (the direction money flows). Pick a cycle in the list to see that loop and its '
        'bottleneck; hover for a deal\'s terms and source.</p>',
        '<div class="dg-netbox">', vhtml.fragment(view, "dealgraph-report-view", height="100%"), "</div></section>",
        '<p class="dg-print-only dg-sub">The interactive network view is in the HTML version of this report '
        '(<code>dealgraph viz</code>).</p>',
        '<h2 id="queries">Tables</h2>', "".join(queries),
        '<h2 id="sources">Sources</h2>', sources_html(store, deals),
        "</main>",
    ]
    return vhtml.head(title, nonce, REPORT_CSS) + "\n".join(body) + vhtml.tail(nonce), notes
