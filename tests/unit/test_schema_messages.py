"""libxml2's schema violations in Polish (contract.schema_messages): each form produced by the real validator."""

from __future__ import annotations

import pytest
from lxml import etree

from contract.schema_messages import polish

SCHEMA = b"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" targetNamespace="urn:t"
  elementFormDefault="qualified">
 <xs:element name="R"><xs:complexType><xs:sequence>
  <xs:element name="P"><xs:simpleType><xs:restriction base="xs:string">
   <xs:pattern value="[0-9]{11}"/></xs:restriction></xs:simpleType></xs:element>
  <xs:element name="L" minOccurs="0"><xs:simpleType><xs:restriction base="xs:string">
   <xs:minLength value="2"/><xs:maxLength value="3"/></xs:restriction></xs:simpleType></xs:element>
  <xs:element name="X" minOccurs="0"><xs:simpleType><xs:restriction base="xs:string">
   <xs:length value="3"/></xs:restriction></xs:simpleType></xs:element>
  <xs:element name="E" minOccurs="0"><xs:simpleType><xs:restriction base="xs:string">
   <xs:enumeration value="A"/><xs:enumeration value="B"/></xs:restriction></xs:simpleType></xs:element>
  <xs:element name="D" minOccurs="0" type="xs:date"/>
  <xs:element name="I" minOccurs="0"><xs:simpleType><xs:restriction base="xs:int">
   <xs:minInclusive value="1"/><xs:maxInclusive value="9"/></xs:restriction></xs:simpleType></xs:element>
  <xs:element name="J" minOccurs="0"><xs:simpleType><xs:restriction base="xs:int">
   <xs:minExclusive value="1"/><xs:maxExclusive value="9"/></xs:restriction></xs:simpleType></xs:element>
  <xs:element name="K" minOccurs="0"><xs:simpleType><xs:restriction base="xs:decimal">
   <xs:totalDigits value="3"/><xs:fractionDigits value="1"/></xs:restriction></xs:simpleType></xs:element>
  <xs:element name="B" minOccurs="0" type="xs:boolean"/>
  <xs:element name="C" minOccurs="0"><xs:complexType><xs:sequence><xs:element name="Q" type="xs:string"/>
   </xs:sequence><xs:attribute name="a" type="xs:int" use="required"/>
   <xs:attribute name="s"><xs:simpleType><xs:restriction base="xs:string"><xs:minLength value="2"/>
   </xs:restriction></xs:simpleType></xs:attribute></xs:complexType></xs:element>
  <xs:element name="N" minOccurs="0" nillable="true" type="xs:string"/>
  <xs:element name="U" minOccurs="0" maxOccurs="unbounded" type="xs:string"/>
 </xs:sequence></xs:complexType>
 <xs:unique name="u"><xs:selector xpath="t:U"/><xs:field xpath="."/></xs:unique>
 </xs:element>
</xs:schema>"""

P = "<P>12345678901</P>"
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
CASES = [
    ("<P>12</P>", "Element P: wartość '12' nie pasuje do wzorca '[0-9]{11}'."),
    (P + "<L>abcd</L>", "Element L: wartość ma długość 4, a dozwolona jest najwyżej 3."),
    (P + "<L>a</L>", "Element L: wartość ma długość 1, a wymagana jest co najmniej 2."),
    (P + "<X>ab</X>", "Element X: wartość ma długość 2, a wymagana jest dokładnie 3."),
    (P + "<E>C</E>", "Element E: wartość 'C' nie należy do wartości dozwolonych: 'A', 'B'."),
    (
        P + "<D>2000-13-01</D>",
        "Element D: wartość '2000-13-01' nie jest poprawna: wymagana jest data w postaci RRRR-MM-DD.",
    ),
    (P + "<I>10</I>", "Element I: wartość '10' jest większa niż największa dozwolona (9)."),
    (P + "<I>0</I>", "Element I: wartość '0' jest mniejsza niż najmniejsza dozwolona (1)."),
    (P + "<I>abc</I>", "Element I: wartość 'abc' nie jest poprawną wartością typu określonego w schemacie."),
    (P + "<J>9</J>", "Element J: wartość '9' musi być mniejsza niż 9."),
    (P + "<J>1</J>", "Element J: wartość '1' musi być większa niż 1."),
    (P + "<K>1234</K>", "Element K: wartość '1234' ma więcej cyfr, niż dozwala schemat (najwyżej 3)."),
    (
        P + "<K>1.23</K>",
        "Element K: wartość '1.23' ma więcej cyfr po kropce dziesiętnej, niż dozwala schemat (najwyżej 1).",
    ),
    (
        P + "<B>tak</B>",
        "Element B: wartość 'tak' nie jest poprawna: wymagana jest wartość logiczna true, false, 1 albo 0.",
    ),
    (P + '<C a="1"/>', "Element C: brakuje wymaganego elementu Q."),
    (P + "<C><Q/></C>", "Element C: brakuje wymaganego atrybutu a."),
    (P + '<C a="x"><Q/></C>', "Atrybut a elementu C: wartość 'x' nie jest poprawna: wymagana jest liczba całkowita."),
    (P + '<C a="1" b="2"><Q/></C>', "Atrybut b elementu C: niedozwolony w tym elemencie."),
    (P + "<U>a</U><Z/>", "Element Z: niedozwolony w tym miejscu; oczekiwany jest U."),
    (P + "<Z/>", "Element Z: niedozwolony w tym miejscu; oczekiwany jest jeden z: L, X, E, D, I, J, K, B, C, N."),
    ("", "Element R: brakuje wymaganego elementu P."),
    ("tekst" + P, "Element R: tekst jest dozwolony tylko wewnątrz elementów podrzędnych."),
    (P + "<U>a</U><U>a</U>", "Element U: wartość 'a' powtarza się, a musi być niepowtarzalna (u)."),
    ("<P><Y/>12345678901</P>", "Element P: może zawierać tylko wartość, bez elementów podrzędnych."),
    # Forms a wrong-type sweep over every operation found still in English (the attribute's value is named, too).
    (P + '<C a="1" s=""><Q/></C>', "Atrybut s elementu C: wartość ma długość 0, a wymagana jest co najmniej 2."),
    (P + f'<N {XSI}xsi:nil="true">x</N>', 'Element N: ma atrybut xsi:nil="true", więc musi być pusty.'),
    (
        P + f'<U {XSI}xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:type="xs:int">1</U>',
        "Atrybut xsi:type elementu U: typ int podany w xsi:type nie jest typem tego elementu ani typem od niego "
        "pochodnym (usuń xsi:type).",
    ),
    (
        P + f'<U {XSI}xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:type="xs:Nic">1</U>',
        "Atrybut xsi:type elementu U: typ Nic podany w xsi:type nie istnieje w schemacie (usuń xsi:type).",
    ),
    (
        P + f'<U {XSI}xsi:type="q:Typ">1</U>',
        "Atrybut xsi:type elementu U: prefiks nazwy 'q:Typ' nie ma deklaracji przestrzeni nazw (xmlns:…) w zasięgu.",
    ),
    (
        P + f"<E>{'W' * 70_000}</E>",  # libxml2 cuts its report inside the value: quoted in part
        f"Element E: wartość '{'W' * 80}…' nie spełnia ograniczenia enumeration określonego w schemacie.",
    ),
    (P + f"<E>{'W' * 300}</E>", f"Element E: wartość '{'W' * 80}…' nie należy do wartości dozwolonych: 'A', 'B'."),
]


def _messages(document: str) -> list[str]:
    schema = etree.XMLSchema(etree.fromstring(SCHEMA))
    assert not schema.validate(etree.fromstring(document, etree.XMLParser(huge_tree=True)))
    return [entry.message for entry in schema.error_log]


@pytest.mark.parametrize(("content", "expected"), CASES, ids=[expected.split(":")[1][:40] for _, expected in CASES])
def test_each_form_libxml2_reports_reads_in_polish(content: str, expected: str) -> None:
    english = _messages(f'<R xmlns="urn:t">{content}</R>')
    assert polish(english[0]) == expected, english[0]


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ('<Inny xmlns="urn:t"/>', "Element Inny (przestrzeń nazw urn:t): schemat nie zna takiego elementu głównego"),
        ("<R/>", "Element R (bez przestrzeni nazw): schemat nie zna takiego elementu głównego"),
    ],
)
def test_an_unknown_root_names_its_namespace_which_is_what_is_usually_wrong(root: str, expected: str) -> None:
    assert polish(_messages(root)[0]).startswith(expected)


def test_a_form_not_known_keeps_libxml2s_words_after_a_polish_lead_in() -> None:
    assert polish("Element '{urn:t}P': Something new in libxml2 3.0.") == (
        "Element P: niezgodność ze schematem (komunikat walidatora libxml2: Something new in libxml2 3.0.)"
    )
    assert polish("not about an element").startswith("Niezgodność ze schematem (komunikat walidatora libxml2): ")


def test_spynes_report_of_a_value_out_of_its_types_range_reads_in_polish() -> None:
    """A year after 9999 passes libxml2 as an xs:dateTime and is refused by Spyne, in English, naming no element."""
    assert polish("The value '12345-01-01T00:00:00Z' could not be validated.") == (
        "Wartość '12345-01-01T00:00:00Z' ma poprawny zapis, ale wykracza poza zakres, który platforma przyjmuje "
        "(np. rok spoza lat 1–9999)."
    )
