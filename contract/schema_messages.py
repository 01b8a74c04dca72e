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
            r"\[facet 'maxLength'\] The value has a length of '(?P<n>\d+)'; this exceeds the allowed maximum "
            r"length of '(?P<m>\d+)'\.$",
            "wartość ma długość {n}, a dozwolona jest najwyżej {m}",
        ),
        (
            r"\[facet 'minLength'\] The value has a length of '(?P<n>\d+)'; this underruns the allowed minimum "
            r"length of '(?P<m>\d+)'\.$",
            "wartość ma długość {n}, a wymagana jest co najmniej {m}",
        ),
        (
            r"\[facet 'length'\] The value has a length of '(?P<n>\d+)'; this differs from the allowed length of "
            r"'(?P<m>\d+)'\.$",
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
    )
)


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
    return Subject(_NAMESPACE.sub("", found["element"]), found["attribute"], found["rest"].strip())


def polish(message: str) -> str:
    """libxml2's description of one schema violation as a Polish sentence ending in a full stop.

    `Element '{urn:x}DataUrodzenia': '2000-13-01' is not a valid value of the atomic type 'xs:date'.` →
    `Element DataUrodzenia: wartość '2000-13-01' nie jest poprawna: wymagana jest data w postaci RRRR-MM-DD.`
    """
    text = message.strip()
    subject = _SUBJECT.match(text)
    if subject is None:
        return f"Niezgodność ze schematem (komunikat walidatora libxml2): {_NAMESPACE.sub('', text)}"
    element, attribute, rest = subject["element"], subject["attribute"], subject["rest"].strip()
    root = rest.startswith("No matching global declaration")
    # The root's namespace is what is usually wrong about it; elsewhere the names alone say where.
    where = f"Element {_NAMESPACE.sub('', element)}"
    if root:
        namespace = element[1 : element.index("}")] if element.startswith("{") and "}" in element else ""
        where += f" (przestrzeń nazw {namespace})" if namespace else " (bez przestrzeni nazw)"
    if attribute:
        where = f"Atrybut {attribute} elementu {_NAMESPACE.sub('', element)}"
    for pattern, form in _FORMS:
        found = pattern.match(rest)
        if found is None:
            continue
        values = {name: value for name, value in found.groupdict().items() if value is not None}
        if "e" in values:
            values["e"] = _expected(values["e"])
        if "c" in values:
            values["c"] = _NAMESPACE.sub("", values["c"])
        if "t" in values:
            values["type"] = _type(values["t"])
        return f"{where}: {form.format(**values)}."
    return f"{where}: niezgodność ze schematem (komunikat walidatora libxml2: {_NAMESPACE.sub('', rest)})"
