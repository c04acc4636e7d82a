"""The impact report: one self-contained HTML file (charts embedded as base64 PNG) plus the PNGs, from the marts.

One module per job: `marts` reads the warehouse, `transforms.report_data` shapes the frames (pure polars),
`sections` and `markup` write the HTML, `charts` draws (matplotlib, imported only when a chart must be drawn),
`cache` reuses a chart whose inputs are unchanged, `style` holds the palette, and `build` puts them together.
Every number in the HTML is a mart value or a mean over mart values, formatted by the `fmt_*` functions.
"""

from flows.report.build import REPORT_FILE, ReportResult, build_report, publish_report_artifact, report_markdown
from flows.report.markup import fmt_mwh, fmt_num, fmt_pct, fmt_pp

__all__ = [
    "REPORT_FILE",
    "ReportResult",
    "build_report",
    "fmt_mwh",
    "fmt_num",
    "fmt_pct",
    "fmt_pp",
    "publish_report_artifact",
    "report_markdown",
]
