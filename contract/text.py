"""Free text a person types and another person reads (a purpose, a refusal reason): what it may hold.

The XML schema admits any character XML 1.0 does; a reader must still see what was stored. So a text is
refused when it holds a C0/C1 control other than tab and line breaks, or a bidirectional override, embedding
or isolate (U+202A–U+202E, U+2066–U+2069: the clerk would see a different order of words than the one
stored and recorded), and it counts as empty when nothing in it is visible (only spaces, zero-width
characters, joiners or marks of direction).
"""

from __future__ import annotations

import unicodedata

from contract.errors import Detail, DetailKind, InvalidRequest

#: The longest text the documents contract carries in one element (its type `Tekst`): a template's title,
#: description, author and legal basis among them.
TEXT_MAX_LENGTH = 2000
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: XML 1.0, 2.2: the two non-characters XML cannot carry (text typed into a JSON file or a terminal can).
_NOT_XML = frozenset("\ufffe\uffff")


#: The controls and marks of direction `forbidden_character` finds, each mapped to its code point in sight.
_IN_SIGHT = {
    code: f"<U+{code:04X}>"
    for code in (*range(0x00, 0x20), *range(0x7F, 0xA0), *map(ord, _BIDI_CONTROLS))
    if chr(code) not in _ALLOWED_CONTROLS
}


def in_sight(value: str) -> str:
    """`value` with every control (but tab and line breaks) and mark of direction shown as its code point
    (`<U+202E>`): for a text stored before it was checked, or not checked (a code refused, recorded as sent),
    when a person reads it (a report's CSV or PDF)."""
    return value.translate(_IN_SIGHT)


def forbidden_character(value: str) -> str | None:
    """The code point (`U+000B`) of the first control, bidirectional override or character XML cannot carry
    in `value`, or None."""
    for character in value:
        if (unicodedata.category(character) == "Cc" and character not in _ALLOWED_CONTROLS) or (
            character in _BIDI_CONTROLS or character in _NOT_XML
        ):
            return f"U+{ord(character):04X}"
    return None


def visible_text(value: str, field: str) -> str:
    """`value` stripped, or "" when nothing in it is visible; `InvalidRequest` naming the field and the
    character's code point when it holds a control or a bidirectional override."""
    name = forbidden_character(value)
    if name is not None:
        raise InvalidRequest(
            f"Pole {field} zawiera niedozwolony znak sterujący {name} "
            "(znaki sterujące i znaki zmiany kierunku tekstu nie są przyjmowane).",
            details=(Detail(DetailKind.DESCRIPTION, f"{field}: {name}"),),
        )
    if not any(unicodedata.category(c)[0] not in "ZC" for c in value):
        return ""
    return value.strip()
