"""Polish names of the category codes, for reports a person can read (DESIGN.md, Data scope).

Read from `contract.catalog`, the one place the titles live; kinds of data set registered later by
plug-ins appear too. A caller may still pass its own labels to `audit.reports.build_report`.
"""

from __future__ import annotations

from collections.abc import Mapping

from contract import catalog


def category_titles(data_sets: Mapping[str, str] | None = None) -> Mapping[tuple[str, str], str]:
    """(data set kind, category code) -> the category's Polish title, for every kind known now; with
    `data_sets` (data set code -> its kind, from the hub's configuration) also (data set code, category
    code), so a gmina unit's data set (`SR-9901022`, kind SR) reads with its kind's titles."""
    titles = {(kind.code, category.code): category.title for kind in catalog.kinds() for category in kind.categories}
    for data_set, kind in (data_sets or {}).items():
        titles.update({(data_set, code): title for (k, code), title in list(titles.items()) if k == kind})
    return titles


def category_title(data_set: str, code: str, labels: Mapping[tuple[str, str], str] | None = None) -> str:
    """The Polish title of a category of a data set; the code itself when unknown."""
    table = category_titles() if labels is None else labels
    title = table.get((data_set, code))
    if title is None:
        title = next((t for (_kind, c), t in table.items() if c == code), code)
    return title
