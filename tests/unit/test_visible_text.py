"""Free text a person types and another reads (contract/text.py): controls and direction overrides are
refused naming the code point; text with nothing visible counts as empty."""

from __future__ import annotations

import pytest

from contract.errors import InvalidRequest
from contract.text import visible_text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Ustalenie sytuacji osoby \n", "Ustalenie sytuacji osoby"),
        ("Wiersz 1\n\tWiersz 2", "Wiersz 1\n\tWiersz 2"),
        ("Zażółć gęślą jaźń — „cudzysłów”", "Zażółć gęślą jaźń — „cudzysłów”"),
        ("\u200b\u200b\u200b", ""),  # zero-width spaces: strip() keeps them
        ("\u00a0\u3000 \t", ""),
        ("\u200d\u200c\ufeff", ""),
        ("\u200e\u200f", ""),  # direction marks alone (marks are allowed, only overrides/isolates are refused)
        ("", ""),
    ],
)
def test_text_is_stripped_and_invisible_text_is_empty(value: str, expected: str) -> None:
    assert visible_text(value, "Cel") == expected


@pytest.mark.parametrize(
    ("value", "code_point"),
    [
        ("Ustalenie \u202eynowelunu\u202c osoby", "U+202E"),
        ("\u2066\u2069", "U+2066"),
        ("Ustalenie\u0085sytuacji", "U+0085"),
        ("a\u0000b", "U+0000"),
        ("a\u001bb", "U+001B"),
        ("\u202aa", "U+202A"),
    ],
)
def test_controls_and_direction_overrides_are_refused_naming_the_character(value: str, code_point: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        visible_text(value, "Powod")
    assert code_point in str(refused.value) and "Powod" in str(refused.value)
    assert refused.value.code == "NIEPRAWIDLOWE_ZAPYTANIE"
