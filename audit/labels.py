"""Polish names of the category codes, for reports a person can read (DESIGN.md, Data scope).

Read from `contract.catalog`, the one place the titles live; kinds of data set registered later by
plug-ins appear too. A caller may still pass its own labels to `audit.reports.build_report`.
"""

from __future__ import annotations

from collections.abc import Mapping

from contract import catalog


def category_titles() -> Mapping[tuple[str, str], str]:
    """(data set kind, category code) -> the category's Polish title, for every kind known now."""
    return {(kind.code, category.code): category.title for kind in catalog.kinds() for category in kind.categories}


def category_title(data_set: str, code: str, labels: Mapping[tuple[str, str], str] | None = None) -> str:
    """The Polish title of a category of a data set; the code itself when unknown."""
    table = category_titles() if labels is None else labels
    title = table.get((data_set, code))
    if title is None:
        title = next((t for (_kind, c), t in table.items() if c == code), code)
    return title
