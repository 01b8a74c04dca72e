"""tomllib's English messages in Polish, for every TOML file a person edits: the hub's configuration
(`hub.settings`) and a feeding module's mapping file (`adapters.mapping`)."""

from __future__ import annotations

import re

#: tomllib's messages (Python 3.11-3.13), in Polish; one not listed stays as tomllib says it.
REASONS = (
    (r"Cannot overwrite a value", "klucz podany drugi raz"),
    (r"Cannot declare (.+) twice", r"sekcja \1 podana drugi raz"),
    (r"Duplicate inline table key (.+)", r"klucz \1 podany drugi raz w tabeli w nawiasach klamrowych"),
    (r"Cannot (?:mutate immutable|redefine) namespace (.+)", r"sekcji \1 zdefiniowanej wcześniej nie można tu zmienić"),
    (r"Invalid statement", "nieprawidłowy wiersz (oczekiwano: klucz = wartość albo [sekcja])"),
    (r"Invalid value", "nieprawidłowa wartość (tekst w cudzysłowie, liczba, true/false, data, lista albo tabela)"),
    (r"Unterminated string", "niezamknięty cudzysłów"),
    (r"Unclosed array", "niezamknięta lista (brak ])"),
    (r"Unclosed inline table", "niezamknięta tabela (brak })"),
    (r"Expected '=' after a key in a key/value pair", "po kluczu oczekiwano znaku ="),
    (r"Expected '\]' at the end of a table declaration", "brak ] na końcu nazwy sekcji"),
    (r"Expected '\]\]' at the end of an array declaration", "brak ]] na końcu nazwy sekcji"),
    (r"Expected newline or end of document after a statement", "po wartości oczekiwano końca wiersza"),
    (r"Invalid initial character for a key part", "nieprawidłowy pierwszy znak klucza"),
    (r"(?:Illegal|Found invalid) character (.+)", r"niedozwolony znak \1"),
    (r"Invalid date or datetime", "nieprawidłowa data lub czas"),
    (r"Unescaped '\\' in a string", "znak \\ bez pary w tekście (ścieżkę Windows zapisz w apostrofach)"),
)


def toml_reason(message: str) -> str:
    """tomllib's English message and position ("Invalid value (at line 3, column 7)") in Polish."""
    where = ""
    position = re.search(r" \(at line (\d+), column (\d+)\)$| \(at end of document\)$", message)
    if position:
        message = message[: position.start()]
        where = f" (wiersz {position[1]}, kolumna {position[2]})" if position[1] else " (na końcu pliku)"
    for english, polish in REASONS:
        if re.fullmatch(english, message):
            return re.sub(english, polish, re.sub(r"\(('[^()]*',?)+\)", _dotted, message)) + where
    return message + where


def _dotted(key: re.Match[str]) -> str:
    """A key as tomllib shows it, `('hub', 'x')`, as it is written: `hub.x`."""
    return ".".join(re.findall(r"'([^']*)'", key[0]))
