"""Synthetic documents shaped like ePUAP documents (OpisDokumentu, DaneDokumentu, TrescDokumentu).

All persons and numbers are invented; the PESEL has a valid check digit but belongs to no one.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

NS = "urn:pl:platforma-komunikacyjna:wnioski:1"
META = "http://crd.gov.pl/xml/schematy/meta/2009/11/16/"


def wniosek(*, records: int = 5, pesel: str = "85031512375", identifier: str = "Dokument-1") -> bytes:
    """A request ("wniosek") for a certificate of registration periods, with ``records`` periods."""
    periods = "".join(
        f"<wn:Okres><wn:Od>20{10 + i % 15:02d}-0{1 + i % 9}-01</wn:Od><wn:Do>20{10 + i % 15:02d}-1{i % 3}-28</wn:Do>"
        f"<wn:StatusNaRynkuPracy>{'bezrobotny' if i % 2 else 'poszukujący pracy'}</wn:StatusNaRynkuPracy>"
        f"<wn:Uwagi>Okres nr {i + 1}: zgłoszenie w urzędzie, wizyta u doradcy zawodowego, "
        f"propozycja szkolenia „Obsługa kas fiskalnych”.</wn:Uwagi></wn:Okres>"
        for i in range(records)
    )
    text = escape(
        "Zwracam się z prośbą o wydanie zaświadczenia o okresach rejestracji w powiatowym urzędzie pracy, "
        "potrzebnego do złożenia wniosku o świadczenie w ośrodku pomocy społecznej. Zażółć gęślą jaźń."
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<wn:Dokument xmlns:wn="{NS}" xmlns:meta="{META}" Id="{identifier}">\n'
        "  <wn:OpisDokumentu>\n"
        '    <meta:Identyfikator typIdentyfikatora="idDokumentu"><meta:Wartosc>PUP/2026/11/000123</meta:Wartosc>'
        "</meta:Identyfikator>\n"
        '    <meta:Data typDaty="utworzony"><meta:Czas>2026-11-20</meta:Czas></meta:Data>\n'
        "    <meta:Tytul>Wniosek o wydanie zaświadczenia o okresach rejestracji</meta:Tytul>\n"
        "  </wn:OpisDokumentu>\n"
        "  <wn:DaneDokumentu>\n"
        "    <wn:Nadawca><wn:Nazwisko>Testowy</wn:Nazwisko><wn:Imie>Jan</wn:Imie>"
        f"<wn:PESEL>{pesel}</wn:PESEL></wn:Nadawca>\n"
        "    <wn:Adresat><wn:Nazwa>Powiatowy Urząd Pracy w Testowie</wn:Nazwa></wn:Adresat>\n"
        "  </wn:DaneDokumentu>\n"
        "  <wn:TrescDokumentu>\n"
        "    <wn:PodstawaPrawna>ustawa o rynku pracy i służbach zatrudnienia (Dz.U. 2025 poz. 620)"
        "</wn:PodstawaPrawna>\n"
        f"    <wn:Tresc>{text}</wn:Tresc>\n"
        f"    <wn:OkresyRejestracji>{periods}</wn:OkresyRejestracji>\n"
        "  </wn:TrescDokumentu>\n"
        "</wn:Dokument>\n"
    ).encode()


def wniosek_of_size(size: int) -> bytes:
    """A ``wniosek`` of about ``size`` bytes (within one record)."""
    records = 1
    while len(wniosek(records=records)) < size:
        records += 1
    return wniosek(records=records)
