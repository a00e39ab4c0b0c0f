"""How the report writes times and rates."""

from __future__ import annotations


def seconds(value: float) -> str:
    """``52 ms``, ``1.45 s``, ``737 s``."""
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 100:
        return f"{value:.2f} s"
    return f"{value:.0f} s"


def milliseconds(value: float) -> str:
    """A round trip: ``0.031 ms``, ``2.21 ms``."""
    return f"{value:.3f} ms" if value < 1 else f"{value:.2f} ms"


def rate(value: float) -> str:
    """Rows per second: ``75.9k``, ``1.02M``."""
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}"


def times(value: float) -> str:
    """A ratio of two times: ``9.4x``, ``182x``."""
    return f"{value:.1f}x" if value < 100 else f"{value:.0f}x"
