"""Lineage: every published number traced back to its reporters, files and stewards."""

from huizong.lineage.load import NotPublished, load_trace
from huizong.lineage.render import STATUS_LABELS, render_text, summary_lines
from huizong.lineage.trace import Published, Trace, aggregate, build_trace, expected_reporters

__all__ = [
    "STATUS_LABELS",
    "NotPublished",
    "Published",
    "Trace",
    "aggregate",
    "build_trace",
    "expected_reporters",
    "load_trace",
    "render_text",
    "summary_lines",
]
