"""libxml2's reports of schema violations, in Polish.

lxml validates with libxml2, whose messages are English and fixed in form (xmlschemas.c), e.g. `Element
'{urn:x}Pesel': [facet 'pattern'] The value '123' is not accepted by the pattern '[0-9]{11}'.` A clerk or an
integrator reads them in a SOAP Fault or in a feed's report, so `polish` says the same in Polish: the element
or attribute (namespaces left out), what is wrong and what the schema expects. A form this module does not
know stays libxml2's text after a Polish lead-in, so nothing the validator said is lost.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Subject", "polish", "subject"]

# `Element '{ns}Name'` or `Element '{ns}Name', attribute 'a'`, then `: ` and the description.
_SUBJECT = re.compile(r"^Element '(?P<element>[^']*)'(?:, attribute '(?P<attribute>[^']*)')?: (?P<rest>.*)$", re.S)
_NAMESPACE = re.compile(r"\{[^{}\s']*\}")

#: XML Schema's built-in types a feed or a request uses, as a person names them.
_TYPES = {
    "xs:date": "data w postaci RRRR-MM-DD",
    "xs:dateTime": "data i godzina w postaci RRRR-MM-DDTGG:MM:SS",
    "xs:time": "godzina w postaci GG:MM:SS",
    "xs:int": "liczba całkowita",
    "xs:integer": "liczba całkowita",
    "xs:long": "liczba całkowita",
    "xs:short": "liczba całkowita",
    "xs:nonNegativeInteger": "liczba całkowita nieujemna",
    "xs:positiveInteger": "liczba całkowita dodatnia",
    "xs:unsignedInt": "liczba całkowita nieujemna",
    "xs:decimal": "liczba dziesiętna (z kropką)",
    "xs:boolean": "wartość logiczna true, false, 1 albo 0",
    "xs:base64Binary": "dane w kodowaniu Base64",
    "xs:anyURI": "adres URI",
    "xs:gYear": "rok w postaci RRRR",
}


def _type(name: str) -> str:
    return _TYPES.get(name, f"typu {name}")


def _expected(listing: str) -> str:
    """`( {ns}A, {ns}B )` → `A, B`."""
    return ", ".join(part.strip() for part in _NAMESPACE.sub("", listing).strip(" ()").split(",") if part.strip())


# (pattern of the description, its Polish form); groups by name. Checked in order, the first match wins.
_FORMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), polish_form)
    for pattern, polish_form in (
        (
            r"\[facet 'pattern'\] The value '(?P<v>.*)' is not accepted by the pattern '(?P<p>.*)'\.$",
            "wartość '{v}' nie pasuje do wzorca '{p}'",
        ),
        (
            r"\[facet 'maxLength'\] The value (?:'(?P<v>.*)' )?has a length of '(?P<n>\d+)'; this exceeds the allowed "
            r"maximum length of '(?P<m>\d+)'\.$",
            "wartość ma długość {n}, a dozwolona jest najwyżej {m}",
        ),
        (
            r"\[facet 'minLength'\] The value (?:'(?P<v>.*)' )?has a length of '(?P<n>\d+)'; this underruns the "
            r"allowed minimum length of '(?P<m>\d+)'\.$",
            "wartość ma długość {n}, a wymagana jest co najmniej {m}",
        ),
        (
            r"\[facet 'length'\] The value (?:'(?P<v>.*)' )?has a length of '(?P<n>\d+)'; this differs from the "
            r"allowed length of '(?P<m>\d+)'\.$",
            "wartość ma długość {n}, a wymagana jest dokładnie {m}",
        ),
        (
            r"\[facet 'enumeration'\] The value '(?P<v>.*)' is not an element of the set \{(?P<set>.*)\}\.$",
            "wartość '{v}' nie należy do wartości dozwolonych: {set}",
        ),
        (
            r"\[facet 'maxInclusive'\] The value '(?P<v>.*)' is greater than the maximum value allowed "
            r"\('(?P<m>.*)'\)\.$",
            "wartość '{v}' jest większa niż największa dozwolona ({m})",
        ),
        (
            r"\[facet 'minInclusive'\] The value '(?P<v>.*)' is less than the minimum value allowed "
            r"\('(?P<m>.*)'\)\.$",
            "wartość '{v}' jest mniejsza niż najmniejsza dozwolona ({m})",
        ),
        (
            r"\[facet 'maxExclusive'\] The value '(?P<v>.*)' must be less than '(?P<m>.*)'\.$",
            "wartość '{v}' musi być mniejsza niż {m}",
        ),
        (
            r"\[facet 'minExclusive'\] The value '(?P<v>.*)' must be greater than '(?P<m>.*)'\.$",
            "wartość '{v}' musi być większa niż {m}",
        ),
        (
            r"\[facet 'totalDigits'\] The value '(?P<v>.*)' has more digits than are allowed \('(?P<m>.*)'\)\.$",
            "wartość '{v}' ma więcej cyfr, niż dozwala schemat (najwyżej {m})",
        ),
        (
            r"\[facet 'fractionDigits'\] The value '(?P<v>.*)' has more fractional digits than are allowed "
            r"\('(?P<m>.*)'\)\.$",
            "wartość '{v}' ma więcej cyfr po kropce dziesiętnej, niż dozwala schemat (najwyżej {m})",
        ),
        (
            r"'(?P<v>.*)' is not a valid value of the atomic type '(?P<t>[^']*)'\.$",
            "wartość '{v}' nie jest poprawna: wymagana jest {type}",
        ),
        (
            r"'(?P<v>.*)' is not a valid value of the (?:local )?(?:atomic|list|union) type\.$",
            "wartość '{v}' nie jest poprawną wartością typu określonego w schemacie",
        ),
        (
            r"'(?P<v>.*)' is not a valid value of the (?:list|union) type '(?P<t>[^']*)'\.$",
            "wartość '{v}' nie jest poprawną wartością typu {t}",
        ),
        (
            r"Missing child element\(s\)\. Expected is one of (?P<e>\(.*\))\.$",
            "brakuje wymaganego elementu; oczekiwany jest jeden z: {e}",
        ),
        (r"Missing child element\(s\)\. Expected is (?P<e>\(.*\))\.$", "brakuje wymaganego elementu {e}"),
        (r"Missing child element\(s\)\.$", "brakuje wymaganego elementu"),
        (
            r"This element is not expected\. Expected is one of (?P<e>\(.*\))\.$",
            "niedozwolony w tym miejscu; oczekiwany jest jeden z: {e}",
        ),
        (
            r"This element is not expected\. Expected is (?P<e>\(.*\))\.$",
            "niedozwolony w tym miejscu; oczekiwany jest {e}",
        ),
        (r"This element is not expected\.$", "niedozwolony w tym miejscu"),
        (r"The attribute '(?P<a>[^']*)' is required but missing\.$", "brakuje wymaganego atrybutu {a}"),
        (r"The attribute '(?P<a>[^']*)' is not allowed\.$", "niedozwolony w tym elemencie"),
        (
            r"Character content other than whitespace is not allowed because the content type is 'element-only'\.$",
            "tekst jest dozwolony tylko wewnątrz elementów podrzędnych",
        ),
        (
            r"Element content is not allowed, because the (?:type definition is simple|content type is a simple type "
            r"definition)\.$",
            "może zawierać tylko wartość, bez elementów podrzędnych",
        ),
        (r"Element content is not allowed, because the content type is empty\.$", "musi być pusty"),
        (r"Character content is not allowed, because the content type is empty\.$", "musi być pusty"),
        (
            r"Duplicate key-sequence \[(?P<v>.*)\] in (?:unique|key) identity-constraint '(?P<c>[^']*)'\.$",
            "wartość {v} powtarza się, a musi być niepowtarzalna ({c})",
        ),
        (
            r"No match found for key-sequence \[(?P<v>.*)\] of keyref '(?P<c>[^']*)'\.$",
            "wartość {v} nie wskazuje żadnego elementu ({c})",
        ),
        (
            r"No matching global declaration available for the validation root\.$",
            "schemat nie zna takiego elementu głównego (sprawdź nazwę i przestrzeń nazw)",
        ),
        (r"The element is not 'nillable'\.$", "nie może mieć atrybutu xsi:nil"),
        (
            r"Neither character nor element content is allowed because the element is 'nilled'\.$",
            'ma atrybut xsi:nil="true", więc musi być pusty',
        ),
        (
            r"The type definition '(?P<q>[^']*)', specified by xsi:type, is blocked or not validly derived from the "
            r"type definition of the element declaration\.$",
            "typ {q} podany w xsi:type nie jest typem tego elementu ani typem od niego pochodnym (usuń xsi:type)",
        ),
        (
            r"The QName value '(?P<q>[^']*)' of the xsi:type attribute does not resolve to a type definition\.$",
            "typ {q} podany w xsi:type nie istnieje w schemacie (usuń xsi:type)",
        ),
        (
            r"The QName value '(?P<v>[^']*)' has no corresponding namespace declaration in scope\.$",
            "prefiks nazwy '{v}' nie ma deklaracji przestrzeni nazw (xmlns:…) w zasięgu",
        ),
        # libxml2 cuts its reports at about 64,000 characters: a facet's report about a very long value then
        # ends inside the value.
        (
            r"\[facet '(?P<f>[A-Za-z]+)'\] The value '(?P<v>.*)$",
            "wartość '{v}' nie spełnia ograniczenia {f} określonego w schemacie",
        ),
    )
)

# Spyne's own report of a value its type cannot hold (a year after 9999 or before 1 in an xs:date or xs:dateTime
# libxml2 accepted): it names no element.
_SPYNE_VALUE = re.compile(r"^The value '(?P<v>.*)' could not be validated\.$", re.S)

#: Values are quoted up to this many characters (libxml2 quotes a 70,000-character value whole).
_VALUE_SHOWN = 80

_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"


def _shown(value: str) -> str:
    return value if len(value) <= _VALUE_SHOWN else value[:_VALUE_SHOWN] + "…"


def _attribute(name: str) -> str:
    """An attribute's name as a person writes it: `xsi:type`, else without its namespace."""
    return "xsi:" + name[len(_XSI) :] if name.startswith(_XSI) else _NAMESPACE.sub("", name)


class Subject(NamedTuple):
    """What a libxml2 report is about: the element (its namespace left out), the attribute if any, and the
    English description that follows (`The value 'x' is not …`)."""

    element: str
    attribute: str | None
    rest: str


def subject(message: str) -> Subject | None:
    """The subject of libxml2's report of one schema violation, or None for a report of another form."""
    found = _SUBJECT.match(message.strip())
    if found is None:
        return None
    attribute = None if found["attribute"] is None else _attribute(found["attribute"])
    return Subject(_NAMESPACE.sub("", found["element"]), attribute, found["rest"].strip())


def polish(message: str) -> str:
    """libxml2's description of one schema violation as a Polish sentence ending in a full stop.

    `Element '{urn:x}DataUrodzenia': '2000-13-01' is not a valid value of the atomic type 'xs:date'.` →
    `Element DataUrodzenia: wartość '2000-13-01' nie jest poprawna: wymagana jest data w postaci RRRR-MM-DD.`
    """
    text = message.strip()
    subject = _SUBJECT.match(text)
    if subject is None:
        if (value := _SPYNE_VALUE.match(text)) is not None:
            return (
                f"Wartość '{_shown(value['v'])}' ma poprawny zapis, ale wykracza poza zakres, który platforma "
                "przyjmuje (np. rok spoza lat 1–9999)."
            )
        return f"Niezgodność ze schematem (komunikat walidatora libxml2): {_NAMESPACE.sub('', text)}"
    element, attribute, rest = subject["element"], subject["attribute"], subject["rest"].strip()
    root = rest.startswith("No matching global declaration")
    # The root's namespace is what is usually wrong about it; elsewhere the names alone say where.
    where = f"Element {_NAMESPACE.sub('', element)}"
    if root:
        namespace = element[1 : element.index("}")] if element.startswith("{") and "}" in element else ""
        where += f" (przestrzeń nazw {namespace})" if namespace else " (bez przestrzeni nazw)"
    if attribute:
        where = f"Atrybut {_attribute(attribute)} elementu {_NAMESPACE.sub('', element)}"
    for pattern, form in _FORMS:
        found = pattern.match(rest)
        if found is None:
            continue
        values = {name: value for name, value in found.groupdict().items() if value is not None}
        if "e" in values:
            values["e"] = _expected(values["e"])
        for name in ("c", "q"):
            if name in values:
                values[name] = _NAMESPACE.sub("", values[name])
        if "v" in values:
            values["v"] = _shown(values["v"])
        if "t" in values:
            values["type"] = _type(values["t"])
        return f"{where}: {form.format(**values)}."
    return f"{where}: niezgodność ze schematem (komunikat walidatora libxml2: {_NAMESPACE.sub('', rest)})"
