"""One palette and group order for every chart and table of the impact report (no matplotlib here, so the
HTML side and the chart cache can use them without importing a plotting library)."""

from __future__ import annotations

from collections.abc import Sequence

from warehouse.seeds import GROUPS

DPI = 100

GROUP_COLOURS: dict[str, str] = {
    # one palette for every chart and table: the groups of warehouse.seeds.GROUPS
    "independent_power": "#d62728",
    "nuclear_uranium": "#ff7f0e",
    "grid_equipment": "#2ca02c",
    "regulated_utilities": "#1f77b4",
    "gas": "#8c564b",
    "sector_etfs": "#9467bd",
    "ai_hardware": "#e377c2",
    "benchmarks": "#7f7f7f",
}
_SPARE_COLOURS = ("#17becf", "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39")
CATEGORY_MARKERS = {"efficiency": "v", "demand": "o", "policy": "s"}


def group_colour(group: str) -> str:
    """The group's colour; groups outside the seed list get a stable spare colour."""
    if group in GROUP_COLOURS:
        return GROUP_COLOURS[group]
    return _SPARE_COLOURS[sum(map(ord, group)) % len(_SPARE_COLOURS)]


def group_order(groups: Sequence[str]) -> list[str]:
    known = [g for g in GROUPS if g in groups]
    return known + sorted(set(groups) - set(known))
