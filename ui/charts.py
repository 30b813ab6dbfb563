"""The reports page's charts: SVG drawn on the server by pygal, from the report tables.

No script is attached (pygal's tooltips load from a CDN), so a chart is plain SVG that
looks the same in the browser, in a screenshot and offline; the numbers behind it are
in the table next to it and in its CSV export. A chart is shown as an image (a data:
URL): pygal styles its SVG with a <style> element, which the page's CSP (style-src
'self') would block inline, but which an image keeps to itself.
"""

from __future__ import annotations

import base64
import csv
import io
import math
import sys
from collections.abc import Sequence
from typing import Any

import pygal
from pygal.style import Style

from engine.reports.figures import Table

# pygal puts a finder for its map plugins (which Kazi does not use) on sys.meta_path, and
# it has no find_spec: any importer that asks every finder for a spec, pytest's importlib
# mode among them, then fails with AttributeError. Take it off again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#666",
    colors=("#1f6feb", "#f08c00", "#8c8c8c", "#2b8a3e", "#c92a2a"),
    font_family="sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    legend_font_size=13,
    title_font_size=16,
    tooltip_font_size=12,
)


def _options(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "style": STYLE,
        "width": 640,
        "height": 320,
        "explicit_size": True,
        "js": [],
        "disable_xml_declaration": True,
        "print_values": True,
        "legend_at_bottom": True,
        "truncate_label": 18,
        "no_data_text": "Nothing in this period",
    }


def _svg(chart: Any) -> str:
    svg = chart.render(is_unicode=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _number(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def durations_chart(table: Table) -> str:
    chart = pygal.Bar(**_options("Business hours: this period against the previous one"))
    chart.x_labels = [row[0] for row in table.rows]
    chart.add("median", [_number(row[2]) for row in table.rows])
    chart.add("p90", [_number(row[3]) for row in table.rows])
    chart.add("previous median", [_number(row[4]) for row in table.rows])
    chart.add("previous p90", [_number(row[5]) for row in table.rows])
    return _svg(chart)


def sla_chart(table: Table) -> str:
    chart = pygal.HorizontalBar(**_options("SLA compliance (% met)"), range=(0, 100))
    for row in table.rows:
        chart.add(f"{row[0]} · {row[1]}", [_number(row[5])])
    return _svg(chart)


def funnel_chart(table: Table) -> str:
    chart = pygal.Bar(**_options("Entered each stage"), x_label_rotation=20)
    chart.x_labels = [f"{row[0]}: {row[1]}" for row in table.rows]
    chart.add("entered", [row[2] for row in table.rows])
    return _svg(chart)


def stage_time_chart(table: Table) -> str:
    chart = pygal.Bar(**_options("Hours in stage before moving on"), x_label_rotation=20)
    chart.x_labels = [f"{row[0]}: {row[1]}" for row in table.rows]
    chart.add("median", [_number(row[4]) for row in table.rows])
    chart.add("p90", [_number(row[5]) for row in table.rows])
    return _svg(chart)


def automations_chart(table: Table) -> str:
    chart = pygal.HorizontalBar(**_options("Automated messages: sent, and answered within 24 h"))
    chart.x_labels = [str(row[0]) for row in table.rows]  # type: ignore[misc]
    chart.add("sent", [row[1] for row in table.rows])
    chart.add("replied", [row[2] for row in table.rows])
    return _svg(chart)


def payments_chart(table: Table) -> str:
    chart = pygal.Bar(**_options("Payments: requested, confirmed, failed, still open"))
    chart.x_labels = ["requested", "confirmed", "failed", "still open"]
    for row in table.rows:
        chart.add(str(row[0]), [row[1], row[2], row[4], row[5]])
    return _svg(chart)


def heat(table: Table) -> list[tuple[str, list[tuple[int, int]]]]:
    """The heatmap's cells with a shade each, 0 (none) to 5 (the busiest hour); shades
    are CSS classes (`heat-N`), since the CSP refuses inline styles."""
    peak = max((int(v) for row in table.rows for v in row[1:]), default=0) or 1
    return [
        (str(row[0]), [(int(v), math.ceil(5 * int(v) / peak)) for v in row[1:]])
        for row in table.rows
    ]


def as_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue()
