"""``dealgraph report``: one self-contained HTML page to share or publish.

Sections: title and date; a data summary (entities by kind, deals by type and
status, known and undisclosed amounts, date span); the canned query tables
(circular flows, multiples, deal comparisons, round-trip, returns,
concentration, the claims check against the shipped claims file); the network
view (the same component as ``dealgraph viz``); a valuation-history chart for
each entity with two or more rounds and at least two known valuations
(:mod:`dealgraph.viz.svgchart`); and every source cited by the data.

Tables come from ``dealgraph.queries.registry`` (the same declarations the
``dealgraph query`` command uses), ordered by :data:`REPORT_QUERIES`. A query
that fails shows its error in its section instead of sinking the report. Every cell is escaped; links are made only from ``http(s)://`` URLs.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
import secrets
from pathlib import Path

import pandas as pd

from dealgraph.graph.schema import DEAL_TYPES, ENTITY_KINDS, ROUND_TYPES, STATUSES
from dealgraph.viz import html as vhtml
from dealgraph.viz.network import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES
from dealgraph.viz.style import money
from dealgraph.viz.svgchart import valuation_chart

#: Report order and headings of the registry's queries (``dealgraph.queries.registry``);
#: any other query there that needs no argument follows these.
REPORT_QUERIES: list[tuple[str, str]] = [
    ("circular-flows", "Circular money flows"),
    ("multiples", "Valuation multiples"),
    ("deal-comparisons", "Deal comparisons"),
    ("round-trip", "Round-trip money"),
    ("returns", "Returns to exit"),
    ("concentration", "Concentration of inflow"),
    ("check", "Claims check"),
]
MAX_ROWS = 60
MAX_CELL = 140
MAX_CHARTS = 40

REPORT_CSS = """
html,body{margin:0;background:#fff}
.dg-report{max-width:1280px;margin:0 auto;padding:16px 24px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222}
.dg-report h1{font-size:26px;margin:4px 0}
.dg-report h2{font-size:20px;margin:28px 0 6px;border-bottom:1px solid #ddd;padding-bottom:3px}
.dg-report h3{font-size:15px;margin:16px 0 4px}
.dg-report .dg-sub{color:#555}
.dg-report .dg-explain{color:#555;margin:2px 0 6px}
.dg-report .dg-note{background:#fff4d6;border-left:3px solid #e0a800;padding:3px 8px;margin:4px 0}
.dg-report .dg-error{background:#fde8e8;border-left:3px solid #d00;padding:3px 8px}
.dg-scroll{overflow-x:auto;max-width:100%}
.dg-table{border-collapse:collapse;font-size:12.5px;margin:4px 0}
.dg-table th,.dg-table td{border:1px solid #ddd;padding:3px 6px;vertical-align:top;text-align:left;max-width:320px}
.dg-table th{background:#f3f3f3;position:sticky;top:0}
.dg-table td.num{text-align:right;white-space:nowrap}
.dg-summary{display:flex;flex-wrap:wrap;gap:18px}
.dg-summary>div{min-width:220px}
.dg-netbox{height:720px;border:1px solid #ddd}
.dg-charts{display:flex;flex-wrap:wrap;gap:16px}
.dg-chart-title{font-weight:600;font-size:13px}
.dg-tick{font-size:10px;fill:#555}
.dg-value{font-size:11px;fill:#222}
.dg-step{font-size:11px;fill:#2a7a2a;font-weight:600}
.dg-exit-label{font-size:11px;fill:#b00020}
.dg-sources li{margin:2px 0;word-break:break-word}
.dg-sources .dg-cites{color:#666;font-size:12px}
"""

_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+[^\s<>\"'()\[\].,;:!?]")


def _e(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _linkify(text: str) -> str:
    """Escaped text with http(s) URLs as links (nothing else becomes markup)."""
    out, pos = [], 0
    for m in _URL.finditer(text):
        out.append(_e(text[pos:m.start()]))
        url = m.group(0)
        out.append(f'<a href="{_e(url)}" rel="noopener noreferrer nofollow">{_e(url)}</a>')
        pos = m.end()
    out.append(_e(text[pos:]))
    return "".join(out)


def table_html(df: pd.DataFrame, *, max_rows: int = MAX_ROWS) -> str:
    """An escaped HTML table, cells formatted as ``dealgraph query`` prints them."""
    from dealgraph.queries.output import format_cell

    if df is None or len(df) == 0:
        return '<p class="dg-sub">(no rows)</p>'
    shown = df.head(max_rows)
    cols = [str(c) for c in shown.columns]
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = []
    for row in shown.itertuples(index=False, name=None):
        cells = []
        for c, v in zip(cols, row):
            cls = ' class="num"' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
            text = format_cell(c, v)
            if len(text) > MAX_CELL:  # long lists (deal ids, hops) stay readable; full text on hover
                cells.append(f'<td{cls} title="{_e(text)}">{_e(text[:MAX_CELL - 1])}…</td>')
            else:
                cells.append(f"<td{cls}>{_e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="dg-sub">First {max_rows} of {len(df)} rows; '
            f'run <code>dealgraph query</code> for all.</p>' if len(df) > max_rows else "")
    return (f'<div class="dg-scroll"><table class="dg-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>{more}')


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


def query_sections(store, *, as_of=None, status=None) -> tuple[list[str], list[str]]:
    """HTML of each canned query section, and notes for the command's output."""
    parts, notes = [], []
    for name, heading, q in report_queries():
        try:
            if name == "check":
                df = q.run(store, claims=str(_claims_path()), as_of=as_of, status=status)
                command = "dealgraph check CLAIMS.csv"
            else:
                df = q.run(store, as_of=as_of, status=status)
                command = f"dealgraph query {name}"
            body = table_html(df)
            msg = df.attrs.get("message")
            if msg:
                body = f'<p class="dg-sub">{_e(msg)}</p>' + body
        except Exception as e:  # one failing query must not sink the report; say what happened
            notes.append(f"query {name} failed: {e}")
            command = f"dealgraph query {name}"
            body = f'<p class="dg-error">Could not compute: {_e(type(e).__name__)}: {_e(e)}</p>'
        parts.append(f'<section id="q-{_e(name)}"><h3>{_e(heading)} <span class="dg-sub">'
                     f'(<code>{_e(command)}</code>)</span></h3>'
                     f'<p class="dg-explain">{_e(q.description)}</p>{body}</section>')
    return parts, notes


def summary_html(store, deals: pd.DataFrame) -> str:
    ents = store.entities
    by_kind = ents["kind"].value_counts()
    kinds = "".join(f"<li>{_e(k)}: {int(by_kind[k])}</li>" for k in ENTITY_KINDS if k in by_kind)
    rows = []
    for t in DEAL_TYPES:
        d = deals[deals["type"] == t]
        if len(d):
            known = d["amount_usd"].dropna()
            rows.append(f"<tr><td>{_e(t.replace('_', ' '))}</td><td class='num'>{len(d)}</td>"
                        f"<td class='num'>{_e(money(known.sum()) if len(known) else 'n/a')}</td>"
                        f"<td class='num'>{len(d) - len(known)}</td></tr>")
    by_status = deals["status"].value_counts()
    statuses = "".join(f"<li>{_e(s)}: {int(by_status[s])}</li>" for s in STATUSES if s in by_status)
    span = ""
    if len(deals):
        i0, i1 = deals["date_key"].idxmin(), deals["date_key"].idxmax()
        span = f"{_e(deals.loc[i0, 'date'])} to {_e(deals.loc[i1, 'date'])}"
    known = deals["amount_usd"].dropna()
    return (f'<div class="dg-summary"><div><b>{len(ents)} entities</b><ul>{kinds}</ul></div>'
            f'<div><b>{len(deals)} deals</b>, {span}<br>known amounts total {_e(money(known.sum()))}; '
            f'{len(deals) - len(known)} undisclosed<ul>{statuses}</ul></div>'
            f'<div><table class="dg-table"><thead><tr><th>type</th><th>deals</th><th>known US$</th>'
            f'<th>undisclosed</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
            f'<div><b>{len(store.metrics)} metric observations</b> (revenue, market cap, valuations)</div></div>')


def charts_html(store, deals: pd.DataFrame, *, as_of=None, status=None) -> tuple[str, list[str]]:
    """One valuation chart per entity with ≥ 2 rounds and ≥ 2 known valuations."""
    from dealgraph.queries.returns import rounds

    counts = deals[deals["type"].isin(ROUND_TYPES)]["payee"].value_counts()
    names = dict(zip(store.entities["id"], store.entities["name"]))
    charts, notes = [], []
    for entity in sorted(counts[counts >= 2].index, key=lambda e: (-int(counts[e]), str(e))):
        if len(charts) >= MAX_CHARTS:
            notes.append(f"valuation charts limited to {MAX_CHARTS} entities")
            break
        r = rounds(store, entity=entity, as_of=as_of, status=status)
        valued_rounds = r[(r["kind"] == "round") & r["valuation_usd"].notna()]
        if len(r[r["kind"] == "round"]) < 2 or len(valued_rounds) < 2:
            continue
        svg = valuation_chart(r, f"{names.get(entity, entity)}: post-money valuation")
        if svg:
            charts.append(f'<figure class="dg-figure" data-entity="{_e(entity)}">{svg}</figure>')
    if not charts:
        return '<p class="dg-sub">No entity has two or more rounds with known valuations.</p>', notes
    return f'<div class="dg-charts">{"".join(charts)}</div>', notes


def sources_html(store, deals: pd.DataFrame) -> str:
    cites: dict[str, list[str]] = {}
    for sid, src in zip(deals["deal_id"], deals["source"]):
        if isinstance(src, str) and src.strip():
            cites.setdefault(src.strip(), []).append(str(sid))
    for frame, idcol in ((store.entities, "id"), (store.metrics, "entity")):
        for sid, src in zip(frame[idcol], frame["source"]):
            if isinstance(src, str) and src.strip():
                cites.setdefault(src.strip(), []).append(str(sid))
    items = []
    for src in sorted(cites, key=str.lower):
        ids = sorted(set(cites[src]))
        shown = ", ".join(ids[:12]) + (f" and {len(ids) - 12} more" if len(ids) > 12 else "")
        items.append(f'<li>{_linkify(src)} <span class="dg-cites">— {_e(shown)}</span></li>')
    return f'<ol class="dg-sources">{"".join(items)}</ol>'


def render_report(store, *, title: str = "AI deals: who pays whom", as_of: str | None = None, status=None,
                  max_nodes: int = DEFAULT_MAX_NODES, max_edges: int = DEFAULT_MAX_EDGES,
                  today: _dt.date | None = None) -> tuple[str, list[str]]:
    """The report page and notes (reductions, missing or failed queries)."""
    from dealgraph.queries.filters import select_deals
    from dealgraph.viz.build import view_from_store

    today = today or _dt.date.today()
    deals = select_deals(store.deals, as_of=as_of, status=status)
    view = view_from_store(store, as_of=as_of, status=status, max_nodes=max_nodes, max_edges=max_edges,
                           title="The deal network")
    queries, qnotes = query_sections(store, as_of=as_of, status=status)
    charts, cnotes = charts_html(store, deals, as_of=as_of, status=status)
    notes = list(view.notes) + qnotes + cnotes
    nonce = secrets.token_urlsafe(18)
    sub = f"Generated {today.isoformat()} by dealgraph"
    if as_of:
        sub += f" · deals dated on or before {as_of}"
    sub += " · statuses: " + (status if isinstance(status, str) else "all but terminated" if status is None
                              else ", ".join(status))
    body = [
        '<body><main class="dg-report">',
        f"<h1>{_e(title)}</h1><p class='dg-sub'>{_e(sub)}</p>",
        "".join(f'<p class="dg-note">{_e(n)}</p>' for n in view.notes),
        '<h2 id="summary">Data</h2>', summary_html(store, deals),
        '<h2 id="network">Network</h2><p class="dg-explain">Arrows point from payer to payee (the direction '
        'money flows). Red glow: deals on a circular flow; pick one in the list to see that loop and its '
        'bottleneck. Hover for a deal\'s terms and source.</p>',
        '<div class="dg-netbox">', vhtml.fragment(view, "dealgraph-report-view", height="100%"), "</div>",
        '<h2 id="queries">Queries</h2>', "".join(queries),
        '<h2 id="valuations">Valuation histories</h2><p class="dg-explain">Post-money valuation per round '
        '(step line), step-up ×m between consecutive valuations, exits dashed in red with their value.</p>',
        charts,
        '<h2 id="sources">Sources</h2>', sources_html(store, deals),
        "</main>",
    ]
    return vhtml.head(title, nonce, REPORT_CSS) + "\n".join(body) + vhtml.tail(nonce), notes
