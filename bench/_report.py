"""What every benchmark's report shares: Markdown tables and sizes in MB."""

from __future__ import annotations

from collections.abc import Sequence

MB = 1024 * 1024


def table(rows: Sequence[Sequence[str]]) -> str:
    """Return rows (the first is the header) as a Markdown table with aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def mb(value: float) -> str:
    """Return a byte count in MB with one decimal."""
    return f"{value / MB:.1f} MB"
