"""HTML building blocks of the impact report: number formats, escaped cells, tables, notes and the page.

Every figure in the report passes through the `fmt_*` functions, so the HTML, the artifact's markdown and the
tests (which compare each cell with SQL) agree on how a number is written.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

from flows.report.style import group_colour
from transforms.event_study.contract import MIN_GROUP_TICKERS


def fmt_pct(value: float | None) -> str:
    """A fraction as a signed percentage with two decimals (0.0123 → +1.23%); '–' when missing."""
    return "–" if value is None else f"{value * 100:+.2f}%"


def fmt_num(value: float | None, digits: int = 2, signed: bool = True) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def fmt_pp(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f} pp"


def small_group_mark(n: int | None, below_min: bool | None = None) -> str:
    """' (n=1, not evidence)' after a group figure whose group has fewer than MIN_GROUP_TICKERS tickers, else ''.

    marts.group_impact.n_below_min says so when the warehouse has it (below_min); older warehouses fall back on
    n < MIN_GROUP_TICKERS, the same rule. With N < 3 the group tests have at most 1 degree of freedom
    (docs/methods.md "Group tests with fewer than three stocks are not evidence"): the number is kept, marked.
    """
    below = below_min if below_min is not None else (n is not None and n < MIN_GROUP_TICKERS)
    return f" (n={n}, not evidence)" if below and n is not None else ""


def fmt_mwh(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def esc(value: Any) -> str:
    return html.escape("–" if value is None else str(value))


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:24px auto;
max-width:1280px;color:#222;line-height:1.45;padding:0 16px}
h1{margin-bottom:4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:40px}
table{border-collapse:collapse;margin:12px 0;font-size:14px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.nowrap{white-space:nowrap}td.wide{min-width:360px}
img{max-width:100%;height:auto;border:1px solid #eee;margin:8px 0}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:8px 12px;margin:12px 0}
.muted{color:#666;font-size:13px}.scroll{overflow-x:auto;max-width:100%}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
code{background:#f4f4f4;padding:1px 4px;border-radius:3px}
"""


def group_cell(group: str) -> str:
    return f'<td><span class="swatch" style="background:{group_colour(group)}"></span>{esc(group)}</td>'


def table(table_id: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """rows hold ready cells: '<td ...>...</td>'."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    return (
        f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    )


def td_num(text: str) -> str:
    return f'<td class="num">{esc(text)}</td>'


def td_txt(text: Any) -> str:
    return f"<td>{esc(text)}</td>"


def td_day(value: Any) -> str:
    """A date (or an id) cell that never wraps."""
    return f'<td class="nowrap">{esc(value)}</td>'


def td_wide(text: Any) -> str:
    return f'<td class="wide">{esc(text)}</td>'


def img(data: bytes, alt: str) -> str:
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def note(text: str) -> str:
    return f'<div class="note">{text}</div>'


def document(title: str, body: str) -> bytes:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{esc(title)}</h1>{body}</body></html>"
    ).encode()
