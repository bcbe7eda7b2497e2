"""Server-side SVG charts: bars scale to the largest day, every text is escaped, nothing needs the CSP."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from app.dashboard.charts import legend, stacked_bars

DAYS = [dt.date(2026, 11, d) for d in (1, 2, 3)]


def test_bars_stack_and_scale_to_the_tallest_day() -> None:
    svg = str(stacked_bars("Findings", DAYS, {"lint": [1, 0, 2], "risk": [1, 0, 2]}))
    root = ET.fromstring(svg)
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) == 4  # zero values draw nothing
    heights = [float(r.get("height", "0")) for r in rects]
    assert heights[0] == heights[1] and heights[2] == heights[3] == 2 * heights[0]


def test_text_is_escaped_and_no_inline_style_or_script() -> None:
    svg = str(stacked_bars('<script>alert("x")</script>', DAYS, {"<img onerror=1>": [1, 2, 3]}))
    assert "<script>" not in svg and "<img" not in svg
    assert "&lt;script&gt;" in svg
    for element in ET.fromstring(svg).iter():  # well-formed, and no attribute that runs or styles
        assert not [a for a in element.attrib if a == "style" or a.startswith("on")]


def test_an_empty_month_still_draws_axes() -> None:
    svg = str(stacked_bars("Runs", DAYS, {"runs": [0, 0, 0]}))
    assert "<rect" not in svg and "<line" in svg


def test_legend_escapes_names() -> None:
    assert "&lt;b&gt;" in str(legend(["<b>"]))
