"""A synthetic powiat: feed files (xsd/zasilanie) of a PUP, an OPS and an SR, deterministic for a seed.

Only invented people: names and streets come from Faker's Polish vocabularies, PESELs are valid but made
up, identity-card numbers carry a valid check digit. People overlap on purpose (known to two or three
offices) and SR decisions have children, so every category of the common model is exercised.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from faker import Faker
from lxml import etree

from contract import catalog
from contract.identifiers import id_card_check_digit, pesel_check_digit

M = "{" + catalog.MODEL_NS + "}"
F = "{" + catalog.FEED_NS + "}"
NSMAP = {None: catalog.FEED_NS, "m": catalog.MODEL_NS}
TODAY = dt.date(2026, 11, 1)  # fixed, so a seed always gives the same powiat

MARITAL = ("PANNA_KAWALER", "ZAMEZNA_ZONATY", "ROZWIEDZIONA_ROZWIEDZIONY", "WDOWA_WDOWIEC", "SEPARACJA")
PUP_BENEFITS = ("Zasiłek dla bezrobotnych", "Stypendium szkoleniowe", "Dodatek aktywizacyjny", "Stypendium stażowe")
OTHER_BENEFITS = ("Zwrot kosztów przejazdu", "Stypendium na kontynuowanie nauki", "Zwrot kosztów opieki nad dzieckiem")
TRAININGS = (
    "Obsługa wózków jezdniowych z egzaminem UDT",
    "Kadry i płace z obsługą programu Płatnik",
    "Spawanie metodą MAG",
    "Podstawy obsługi komputera i pakietu biurowego",
    "Prawo jazdy kategorii C+E",
    "Opiekun osoby starszej",
    "Florystyka",
    "Księgowość małych firm",
)
POSITIONS = (
    "Magazynier",
    "Sprzedawca",
    "Kucharz",
    "Pracownik produkcji",
    "Kierowca",
    "Sprzątaczka",
    "Recepcjonista",
    "Pomoc kuchenna",
    "Operator maszyn",
    "Opiekun osoby starszej",
)
OFFER_KINDS = ("Oferta pracy", "Staż", "Prace interwencyjne", "Roboty publiczne", "Prace społecznie użyteczne")
EDUCATION = (
    "gimnazjalne i poniżej",
    "zasadnicze zawodowe",
    "średnie ogólnokształcące",
    "policealne i średnie zawodowe",
    "wyższe",
)
# Occupations with their six-digit code in the Polish classification of occupations (KZiS).
OCCUPATIONS = (
    ("Kucharz", "512001"),
    ("Sprzedawca", "522301"),
    ("Mechanik pojazdów samochodowych", "723103"),
    ("Fryzjer", "514101"),
    ("Magazynier", "432103"),
    ("Robotnik gospodarczy", "515303"),
)
LICENCES = ("Prawo jazdy kat. B", "Prawo jazdy kat. C", "Uprawnienia SEP do 1 kV", "Uprawnienia UDT — wózki jezdniowe")
LANGUAGES = ("angielski", "niemiecki", "rosyjski", "ukraiński")
LEVELS = ("PODSTAWOWY", "SREDNI", "DOBRY", "BARDZO_DOBRY")
SKILLS = (
    "obsługa kasy fiskalnej",
    "obsługa komputera",
    "prowadzenie dokumentacji",
    "obsługa klienta",
    "praca w zespole",
)
VISITS = (
    "Wizyta u doradcy klienta",
    "Potwierdzenie gotowości do pracy",
    "Rozmowa z doradcą zawodowym",
    "Zajęcia aktywizacyjne",
)
PLACES = ("pokój 12, parter", "pokój 21, I piętro", "sala szkoleniowa, II piętro", "stanowisko obsługi klienta nr 3")
EMPLOYMENT = ("umowa o pracę", "umowa zlecenie", "umowa o dzieło", "działalność gospodarcza")
COMPANY_KINDS = ("Przedsiębiorstwo Handlowe", "Zakład Produkcyjny", "Usługi Transportowe", "Piekarnia", "Hurtownia")
STATUS_CHANGES = (
    ("Rejestracja", "bezrobotny", "Rejestracja jako bezrobotny z prawem do zasiłku"),
    ("Rejestracja", "bezrobotny", "Rejestracja jako bezrobotny bez prawa do zasiłku"),
    ("Zmiana profilu", "profil pomocy", "Ustalenie profilu pomocy"),
    ("Wyrejestrowanie", "utrata statusu", "Podjęcie zatrudnienia"),
    ("Wyrejestrowanie", "utrata statusu", "Niestawienie się w wyznaczonym terminie"),
)
REMOVAL_REASONS = (
    "Podjęcie zatrudnienia",
    "Niestawienie się w wyznaczonym terminie",
    "Odmowa przyjęcia propozycji",
    "Na własny wniosek",
)
OPS_STATUS = ("korzystający z pomocy", "w trakcie wywiadu środowiskowego", "pomoc zakończona")
OPS_BENEFITS = (
    ("Zasiłek stały", Decimal("1229.00")),
    ("Zasiłek okresowy", Decimal("500.00")),
    ("Zasiłek celowy", Decimal("300.00")),
    ("Posiłek w ramach programu osłonowego", Decimal("220.00")),
    ("Usługi opiekuńcze", Decimal("640.00")),
)
SR_BENEFITS = (
    ("Zasiłek rodzinny", Decimal("124.00")),
    ("Dodatek z tytułu samotnego wychowywania dziecka", Decimal("270.00")),
    ("Dodatek z tytułu rozpoczęcia roku szkolnego", Decimal("100.00")),
    ("Świadczenie pielęgnacyjne", Decimal("3287.00")),
    ("Zasiłek pielęgnacyjny", Decimal("215.84")),
)


@dataclass
class Person:
    """An invented person of the powiat."""

    key: int
    sex: str
    first_name: str
    second_name: str | None
    surname: str
    birth: dt.date
    pesel: str
    id_card: str
    marital: str
    address: tuple[str, str, str, str, str | None]  # post code, town, street, house, flat
    children: list[Person] = field(default_factory=list)


@dataclass
class DemoSummary:
    """What was generated: files and who is known where."""

    files: dict[str, Path]
    counts: dict[str, int]
    known_to: dict[str, tuple[str, ...]]  # PESEL -> data sets


def years_after(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later (29 February becomes 28 February in common years)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _female_surname(surname: str) -> str:
    for ending in ("ski", "cki", "dzki"):
        if surname.endswith(ending):
            return surname[:-1] + "a"
    if surname.endswith("ny"):
        return surname[:-1] + "a"
    return surname


class Powiat:
    """Generates the people and histories of one synthetic powiat from a seed."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        fake = Faker("pl_PL")
        fake.seed_instance(seed)
        person = fake.provider("faker.providers.person")
        address = fake.provider("faker.providers.address")
        self.male_names = list(person.first_names_male)
        self.female_names = list(person.first_names_female)
        self.surnames = list(person.male_last_names) + list(person.unisex_last_names)[:400]
        self.streets = list(address.streets)
        cities = list(address.cities)
        self.seat = cities[30 + self.random.randrange(60)]
        self.towns = [self.seat, *self.random.sample([c for c in cities[100:] if c != self.seat], 7)]
        self.post_prefix = f"{self.random.randrange(10, 99):02d}"
        self._used_pesel: set[str] = set()
        self._used_cards: set[str] = set()
        self._next_key = 1

    # -- people --------------------------------------------------------------------------------------------
    def pesel(self, birth: dt.date, sex: str) -> str:
        """A valid, unused PESEL for the date and sex (month offsets encode the century)."""
        offset = {18: 80, 19: 0, 20: 20, 21: 40, 22: 60}[birth.year // 100]
        while True:
            serial = self.random.randrange(1000)
            sex_digit = self.random.choice("02468" if sex == "K" else "13579")
            first_ten = f"{birth.year % 100:02d}{birth.month + offset:02d}{birth.day:02d}{serial:03d}{sex_digit}"
            value = first_ten + pesel_check_digit(first_ten)
            if value not in self._used_pesel:
                self._used_pesel.add(value)
                return value

    def id_card(self) -> str:
        """An identity-card number with a valid check digit (series letters chosen at random)."""
        while True:
            letters = "".join(self.random.choice("ABCDEFGHIJKLMNPRSTUWXYZ") for _ in range(3))
            rest = f"{self.random.randrange(100000):05d}"
            number = letters + id_card_check_digit(letters, rest) + rest
            if number not in self._used_cards:
                self._used_cards.add(number)
                return number

    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        days = max((end - start).days, 0)
        return start + dt.timedelta(days=self.random.randrange(days + 1))

    def address(self, surname_hint: int = 0) -> tuple[str, str, str, str, str | None]:
        town = self.random.choice(self.towns)
        post = f"{self.post_prefix}-{self.random.randrange(100, 999):03d}"
        street = self.random.choice(self.streets)
        house = str(self.random.randrange(1, 120)) + (self.random.choice(("", "", "", "A", "B")))
        flat = str(self.random.randrange(1, 60)) if self.random.random() < 0.45 else None
        return post, town, street, house, flat

    def person(
        self,
        min_age: int,
        max_age: int,
        surname: str | None = None,
        address: tuple[str, str, str, str, str | None] | None = None,
    ) -> Person:
        sex = self.random.choice("KM")
        birth = self.date_between(TODAY.replace(year=TODAY.year - max_age), TODAY.replace(year=TODAY.year - min_age))
        base = surname or self.random.choice(self.surnames)
        names = self.female_names if sex == "K" else self.male_names
        key = self._next_key
        self._next_key += 1
        adult = (TODAY - birth).days >= 18 * 365
        return Person(
            key=key,
            sex=sex,
            first_name=self.random.choice(names),
            second_name=self.random.choice(names) if self.random.random() < 0.3 else None,
            surname=_female_surname(base) if sex == "K" else base,
            birth=birth,
            pesel=self.pesel(birth, sex),
            id_card=self.id_card(),
            marital=self.random.choice(MARITAL[:3]) if adult else "PANNA_KAWALER",
            address=address or self.address(),
        )

    def parent_with_children(self) -> Person:
        parent = self.person(22, 50)
        base = parent.surname if parent.sex == "M" else self.random.choice(self.surnames)
        for _ in range(self.random.choice((1, 1, 2, 2, 3, 4))):
            child = self.person(0, 17, surname=base, address=parent.address)
            if child.birth > years_after(parent.birth, 18):
                parent.children.append(child)
        if not parent.children:
            parent.children.append(self.person(0, 3, surname=base, address=parent.address))
        return parent


# -- XML builders (element order follows hub/soap/model, i.e. xsd/model-1.xsd) --------------------------------------
def _sub(parent: etree._Element, name: str, text: object | None) -> None:
    if text is not None:
        etree.SubElement(parent, M + name).text = str(text).lower() if isinstance(text, bool) else str(text)


def personal_data(person: Person, tag: str = "DaneOsobowe", address_kind: str = "ZAMELDOWANIA") -> etree._Element:
    element = etree.Element(M + tag)
    _sub(element, "Nazwisko", person.surname)
    _sub(element, "Imie", person.first_name)
    _sub(element, "DrugieImie", person.second_name)
    _sub(element, "Pesel", person.pesel)
    _sub(element, "DataUrodzenia", person.birth.isoformat())
    document = etree.SubElement(element, M + "DokumentTozsamosci")
    _sub(document, "Rodzaj", "DOWOD_OSOBISTY")
    _sub(document, "Numer", person.id_card)
    _sub(element, "Plec", person.sex)
    _sub(element, "StanCywilny", person.marital)
    addresses = etree.SubElement(element, M + "Adresy")
    post, town, street, house, flat = person.address
    address = etree.SubElement(addresses, M + "Adres")
    _sub(address, "RodzajAdresu", address_kind)
    _sub(address, "KodPocztowy", post)
    _sub(address, "Miejscowosc", town)
    _sub(address, "Ulica", street)
    _sub(address, "NrDomu", house)
    _sub(address, "NrLokalu", flat)
    return element


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


class Histories:
    """Builds the category sections of each data set for a person."""

    def __init__(self, powiat: Powiat) -> None:
        self.p = powiat
        self.r = powiat.random

    def pup(self, person: Person) -> etree._Element:
        r = self.r
        data = etree.Element(F + "DanePUP")
        data.append(personal_data(person))
        start = self.p.date_between(dt.date(2019, 1, 1), dt.date(2025, 6, 1))
        periods = etree.SubElement(data, M + "OkresyRejestracji")
        cursor, spans = start, []
        for index in range(r.choice((1, 1, 2, 3))):
            end = cursor + dt.timedelta(days=r.randrange(60, 500))
            current = (index > 0 and r.random() < 0.3) or end > TODAY
            period = etree.SubElement(periods, M + "OkresRejestracji")
            _sub(period, "DataOd", cursor.isoformat())
            if not current:
                _sub(period, "DataDo", end.isoformat())
            _sub(period, "Status", r.choice(("BEZROBOTNY", "BEZROBOTNY", "POSZUKUJACY_PRACY")))
            if not current:
                _sub(period, "DataWykreslenia", end.isoformat())
                _sub(period, "PrzyczynaWykreslenia", r.choice(REMOVAL_REASONS))
            spans.append((cursor, min(end, TODAY)))
            if current:
                break
            cursor = end + dt.timedelta(days=r.randrange(30, 300))
            if cursor > TODAY - dt.timedelta(days=30):
                break
        first, last = spans[0][0], spans[-1][1]
        granted = etree.SubElement(data, M + "PrzyznaneSwiadczenia")
        drawn = etree.SubElement(data, M + "PobraneZasilki")
        for span_start, span_end in spans:
            if r.random() < 0.6:
                benefit_end = min(span_end, span_start + dt.timedelta(days=180))
                item = etree.SubElement(granted, M + "PrzyznaneSwiadczenie")
                _sub(item, "Nazwa", PUP_BENEFITS[0])
                _sub(item, "DataOd", span_start.isoformat())
                _sub(item, "DataDo", benefit_end.isoformat())
                month = span_start
                while month < benefit_end:
                    month_end = min(benefit_end, month + dt.timedelta(days=29))
                    # Until 31 May 2025 the benefit dropped after 90 days; the labour-market act of 2025
                    # (Dz.U. 2025 poz. 620, in force 1 June 2025) pays it in full for the whole period.
                    reduced = (month - span_start).days >= 90 and month < dt.date(2025, 6, 1)
                    gross = Decimal("1304.90") if reduced else Decimal("1662.00")
                    payment = etree.SubElement(drawn, M + "PobranyZasilek")
                    _sub(payment, "DataOd", month.isoformat())
                    _sub(payment, "DataDo", month_end.isoformat())
                    _sub(payment, "KwotaBrutto", _money(gross))
                    _sub(payment, "KwotaNetto", _money(gross * Decimal("0.8685")))
                    month = month_end + dt.timedelta(days=1)
            if r.random() < 0.25:
                item = etree.SubElement(granted, M + "PrzyznaneSwiadczenie")
                _sub(item, "Nazwa", r.choice(PUP_BENEFITS[1:]))
                _sub(item, "DataOd", span_start.isoformat())
                _sub(item, "DataDo", min(span_end, span_start + dt.timedelta(days=90)).isoformat())
        other = etree.SubElement(data, M + "InneSwiadczenia")
        for _ in range(r.choice((0, 0, 1, 2))):
            when = self.p.date_between(first, last)
            gross = Decimal(r.randrange(5000, 60000)) / 100
            item = etree.SubElement(other, M + "InneSwiadczenie")
            _sub(item, "Nazwa", r.choice(OTHER_BENEFITS))
            _sub(item, "DataOd", when.isoformat())
            _sub(item, "DataDo", (when + dt.timedelta(days=30)).isoformat())
            _sub(item, "KwotaBrutto", _money(gross))
            _sub(item, "KwotaNetto", _money(gross))
        offers = etree.SubElement(data, M + "PropozycjeSzkolen")
        attended = etree.SubElement(data, M + "SzkoleniaOdbyte")
        for _ in range(r.choice((0, 1, 1, 2))):
            when = self.p.date_between(first, last)
            accepted = r.random() < 0.7
            training = r.choice(TRAININGS)
            item = etree.SubElement(offers, M + "PropozycjaSzkolenia")
            _sub(item, "DataPrzedlozenia", when.isoformat())
            _sub(item, "CzyPrzyjeta", accepted)
            if not accepted:
                _sub(item, "CzyOdmowaUzasadniona", r.random() < 0.5)
            _sub(item, "Szkolenie", training)
            if accepted:
                begin = when + dt.timedelta(days=r.randrange(7, 40))
                outcome = (
                    "W_TRAKCIE"
                    if begin > TODAY - dt.timedelta(days=30)
                    else r.choice(("UKONCZONE", "UKONCZONE", "UKONCZONE", "PRZERWANE"))
                )
                course = etree.SubElement(attended, M + "SzkolenieOdbyte")
                _sub(course, "DataSkierowania", when.isoformat())
                _sub(course, "ZakresTematyczny", training)
                _sub(course, "SposobZakonczenia", outcome)
                _sub(course, "DataRozpoczecia", begin.isoformat())
                if outcome != "W_TRAKCIE":
                    _sub(course, "DataZakonczenia", (begin + dt.timedelta(days=r.randrange(10, 60))).isoformat())
        jobs = etree.SubElement(data, M + "PropozycjePracy")
        for _ in range(r.choice((0, 1, 2, 3))):
            accepted = r.random() < 0.4
            item = etree.SubElement(jobs, M + "PropozycjaPracy")
            _sub(item, "DataPrzedlozenia", self.p.date_between(first, last).isoformat())
            _sub(item, "CzyPrzyjeta", accepted)
            if not accepted:
                _sub(item, "CzyOdmowaUzasadniona", r.random() < 0.4)
            _sub(item, "Stanowisko", r.choice(POSITIONS))
            _sub(item, "RodzajPropozycji", r.choice(OFFER_KINDS))
        qualifications = etree.SubElement(data, M + "WyksztalcenieIKwalifikacje")
        education = etree.SubElement(qualifications, M + "Wyksztalcenia")
        _sub(education, "RodzajWyksztalcenia", r.choice(EDUCATION))
        occupations = etree.SubElement(qualifications, M + "Zawody")
        for name, code in r.sample(OCCUPATIONS, r.choice((1, 1, 2))):
            occupation = etree.SubElement(occupations, M + "Zawod")
            _sub(occupation, "Nazwa", name)
            _sub(occupation, "KodZawodu", code)
            _sub(occupation, "Rodzaj", r.choice(("WYUCZONY", "WYKONYWANY")))
        if r.random() < 0.5:
            licences = etree.SubElement(qualifications, M + "Uprawnienia")
            for licence in r.sample(LICENCES, r.choice((1, 2))):
                _sub(licences, "Uprawnienie", licence)
        if r.random() < 0.6:
            languages = etree.SubElement(qualifications, M + "JezykiObce")
            for name in r.sample(LANGUAGES, r.choice((1, 2))):
                language = etree.SubElement(languages, M + "JezykObcy")
                _sub(language, "Nazwa", name)
                for aspect in ("Mowa", "Pismo", "Czytanie"):
                    _sub(language, aspect, r.choice(LEVELS))
        skills = etree.SubElement(qualifications, M + "Umiejetnosci")
        for skill in r.sample(SKILLS, r.choice((1, 2, 3))):
            _sub(skills, "Umiejetnosc", skill)
        visits = etree.SubElement(data, M + "Wizyty")
        for _ in range(r.choice((1, 2, 3, 4))):
            planned = self.p.date_between(first, TODAY + dt.timedelta(days=40))
            visit = etree.SubElement(visits, M + "Wizyta")
            _sub(visit, "RodzajWizyty", r.choice(VISITS))
            _sub(visit, "Miejsce", r.choice(PLACES))
            _sub(visit, "DataPlanowana", planned.isoformat())
            if planned <= TODAY and r.random() < 0.85:
                _sub(visit, "DataFaktyczna", planned.isoformat())
        jobs_held = etree.SubElement(data, M + "HistoriaZatrudnienia")
        cursor = max(years_after(person.birth, 18), dt.date(2005, 1, 1))
        for _ in range(r.choice((0, 1, 2, 3))):
            if cursor >= first:
                break
            end = min(first - dt.timedelta(days=1), cursor + dt.timedelta(days=r.randrange(90, 2000)))
            job_title = r.choice(OCCUPATIONS)[0]
            job = etree.SubElement(jobs_held, M + "Zatrudnienie")
            _sub(job, "RodzajZatrudnienia", r.choice(EMPLOYMENT))
            _sub(job, "DataOd", cursor.isoformat())
            _sub(job, "DataDo", end.isoformat())
            _sub(job, "Pracodawca", f"{r.choice(COMPANY_KINDS)} „{r.choice(self.p.surnames)}” Sp. z o.o.")
            _sub(job, "Zawod", job_title)
            _sub(job, "Stanowisko", job_title)
            cursor = end + dt.timedelta(days=r.randrange(10, 200))
        statuses = etree.SubElement(data, M + "HistoriaStatusow")
        for span_start, _span_end in spans:
            for when, (kind, type_, description) in (
                (span_start, STATUS_CHANGES[r.randrange(2)]),
                (span_start + dt.timedelta(days=14), STATUS_CHANGES[2]),
            ):
                change = etree.SubElement(statuses, M + "ZmianaStatusu")
                _sub(change, "DataZmiany", min(when, TODAY).isoformat())
                _sub(change, "Rodzaj", kind)
                _sub(change, "Typ", type_)
                _sub(change, "Opis", description)
        for element in list(data):
            if len(element) == 0:
                data.remove(element)
        return data

    def ops(self, person: Person) -> etree._Element:
        r = self.r
        data = etree.Element(F + "DaneOPS")
        data.append(personal_data(person, address_kind="ZAMIESZKANIA"))
        info = etree.SubElement(data, M + "InformacjeOgolne")
        status = r.choice(OPS_STATUS)
        _sub(info, "CzyZarejestrowana", status != "pomoc zakończona" or r.random() < 0.5)
        _sub(info, "StatusWJednostce", status)
        benefits = etree.SubElement(data, M + "Swiadczenia")
        for _ in range(r.choice((1, 2, 3, 4))):
            name, amount = r.choice(OPS_BENEFITS)
            start = self.p.date_between(dt.date(2021, 1, 1), TODAY)
            item = etree.SubElement(benefits, M + "Swiadczenie")
            _sub(item, "Nazwa", name)
            _sub(item, "DataOd", start.isoformat())
            if r.random() < 0.8:
                _sub(item, "DataDo", min(TODAY, start + dt.timedelta(days=r.randrange(30, 365))).isoformat())
            _sub(item, "KwotaBrutto", _money(amount))
            _sub(item, "KwotaNetto", _money(amount))
        return data

    def sr(self, person: Person) -> etree._Element:
        r = self.r
        data = etree.Element(F + "DaneSR")
        data.append(personal_data(person))
        children = etree.SubElement(data, M + "DaneDzieci")
        for child in person.children:
            children.append(personal_data(child, tag="Dziecko"))
        granted = etree.SubElement(data, M + "PrzyznaneSwiadczenia")
        paid = etree.SubElement(data, M + "WyplaconeSwiadczenia")
        period_start = dt.date(2025, 11, 1)
        for number, (name, amount) in enumerate(
            r.sample(SR_BENEFITS[:3], r.choice((1, 1, 2))) + ([SR_BENEFITS[3]] if r.random() < 0.05 else []), start=1
        ):
            total = amount * (len(person.children) if name == "Zasiłek rodzinny" else 1)
            item = etree.SubElement(granted, M + "PrzyznaneSwiadczenie")
            _sub(item, "Rodzaj", name)
            _sub(item, "NumerDecyzji", f"SR.5210.{person.key}.{number}.2025")
            _sub(item, "DataOd", period_start.isoformat())
            _sub(item, "DataDo", dt.date(2026, 10, 31).isoformat())
            _sub(item, "Kwota", _money(total))
            months = 1 if name.startswith("Dodatek z tytułu rozpoczęcia") else 12
            for month in range(months):
                payment = etree.SubElement(paid, M + "Wyplata")
                _sub(payment, "Rodzaj", name)
                year, month_no = 2025 + (10 + month) // 12, (10 + month) % 12 + 1
                _sub(payment, "DataWyplaty", dt.date(year, month_no, 15).isoformat())
                _sub(payment, "Kwota", _money(total))
        return data


def write_feed(path: Path, data_set: str, records: Iterator[tuple[str, etree._Element]]) -> int:
    """Stream a full feed batch to `path`; return the number of records written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with etree.xmlfile(str(path), encoding="UTF-8") as xml:
        xml.write_declaration()
        with xml.element(
            F + "Paczka", {"Zbior": data_set, "Rodzaj": "PELNA", "IdPaczki": f"demo-{data_set}"}, nsmap=NSMAP
        ):
            for source_key, data in records:
                record = etree.Element(F + "Rekord", nsmap=NSMAP)
                etree.SubElement(record, F + "IdZrodlowy").text = source_key
                record.append(data)
                xml.write(record)
                count += 1
    return count


def generate(
    seed: int,
    out: Path,
    pup: int = 5000,
    ops: int = 2000,
    sr: int = 3000,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Write `pup.xml`, `ops.xml` and `sr.xml` under `out`; people overlap by design."""
    powiat = Powiat(seed)
    histories = Histories(powiat)
    r = powiat.random
    # Overlaps (common beneficiaries): all three; PUP+OPS; PUP+SR; OPS+SR.
    triple = min(pup, ops, sr) // 10
    pup_ops = min(pup - triple, ops - triple) // 5
    pup_sr = min(pup - triple - pup_ops, sr - triple) // 6
    ops_sr = min(ops - triple - pup_ops, sr - triple - pup_sr) // 8
    membership: list[tuple[Person, tuple[str, ...]]] = []

    def add(count: int, sets: tuple[str, ...]) -> None:
        for _ in range(max(count, 0)):
            adult_parent = "SR" in sets
            person = powiat.parent_with_children() if adult_parent else powiat.person(18, 64)
            membership.append((person, sets))

    add(triple, ("PUP", "OPS", "SR"))
    add(pup_ops, ("PUP", "OPS"))
    add(pup_sr, ("PUP", "SR"))
    add(ops_sr, ("OPS", "SR"))
    add(pup - triple - pup_ops - pup_sr, ("PUP",))
    add(ops - triple - pup_ops - ops_sr, ("OPS",))
    add(sr - triple - pup_sr - ops_sr, ("SR",))
    r.shuffle(membership)
    prefixes = {"PUP": "SYR", "OPS": "POM", "SR": "SR"}
    builders = {"PUP": histories.pup, "OPS": histories.ops, "SR": histories.sr}
    files: dict[str, Path] = {}
    counts: dict[str, int] = {}
    for data_set in ("PUP", "OPS", "SR"):
        members = [p for p, sets in membership if data_set in sets]
        path = out / f"{data_set.lower()}.xml"

        def records(members: list[Person] = members, data_set: str = data_set) -> Iterator[tuple[str, etree._Element]]:
            for person in members:
                yield f"{prefixes[data_set]}-{person.key:07d}", builders[data_set](person)
                if progress is not None:
                    progress(1)

        counts[data_set] = write_feed(path, data_set, records())
        files[data_set] = path
    known_to = {person.pesel: sets for person, sets in membership}
    return DemoSummary(files, counts, known_to)


# -- domain databases (the feeding modules' sources, issue 3) -----------------------------------------------------
# The same invented people, written into each office's domain database in its adapter's reference schema
# (adapters/*/schema.py): the demo then feeds the replicas through the adapters, as an office would.
GENERATED_AT = dt.datetime(2026, 11, 1, 12, 0, 0)  # data_modyfikacji of generated rows (fixed: reproducible)
MARITAL_CODES = {name: str(i) for i, name in enumerate(MARITAL, start=1)}
PUP_BENEFIT_CODES = {
    "Zasiłek dla bezrobotnych": ("ZAS", "Z"),
    "Stypendium szkoleniowe": ("STS", "I"),
    "Dodatek aktywizacyjny": ("DAK", "I"),
    "Stypendium stażowe": ("STZ", "I"),
    "Zwrot kosztów przejazdu": ("ZKP", "I"),
    "Stypendium na kontynuowanie nauki": ("SKN", "I"),
    "Zwrot kosztów opieki nad dzieckiem": ("ZKO", "I"),
}
REMOVAL_CODES = {reason: f"W{i}" for i, reason in enumerate(REMOVAL_REASONS, start=1)}
OPS_FORM_CODES = {name: f"{110 + 10 * i}" for i, (name, _amount) in enumerate(OPS_BENEFITS)}
OPS_STATUS_CODES = {name: f"S{i}" for i, name in enumerate(OPS_STATUS, start=1)}
SR_BENEFIT_CODES = {name: f"SR{i}" for i, (name, _amount) in enumerate(SR_BENEFITS, start=1)}
LEVEL_CODES = {"PODSTAWOWY": "1", "SREDNI": "2", "DOBRY": "3", "BARDZO_DOBRY": "4"}


@dataclass
class DomainSummary:
    """What was written: one domain database URL per office, counts, who is known where."""

    urls: dict[str, str]
    counts: dict[str, int]
    known_to: dict[str, tuple[str, ...]]
    history_rows: dict[str, int] = field(default_factory=dict)


Rows = dict[str, list[dict[str, Any]]]


class DomainRows:
    """Rows of one person for each office's reference schema (logical column names)."""

    def __init__(self, powiat: Powiat) -> None:
        self.p = powiat
        self.r = powiat.random
        self.ids: dict[str, int] = {}

    def _id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]

    def person_row(self, person: Person, *, ops: bool = False) -> dict[str, object]:
        common: dict[str, object] = {
            "id_osoby": person.key,
            "nazwisko": person.surname,
            "imie_drugie": person.second_name,
            "pesel": person.pesel,
            "plec": person.sex,
            "czy_usunieta": 0,
            "data_modyfikacji": GENERATED_AT,
        }
        if ops:
            common.update(
                imie_pierwsze=person.first_name,
                data_ur=person.birth,
                stan_cywilny=MARITAL_CODES[person.marital],
                typ_dokumentu="DO",
                seria_numer_dokumentu=person.id_card,
            )
        else:
            common.update(imie=person.first_name, data_urodzenia=person.birth, nr_dokumentu=person.id_card)
        return common

    def address_row(self, person: Person, table: str, kind: str, *, ops: bool = False) -> dict[str, object]:
        post, town, street, house, flat = person.address
        row: dict[str, object] = {
            "id_adresu": self._id(table),
            "id_osoby": person.key,
            "kod_pocztowy": post,
            "miejscowosc": town,
            "ulica": street,
            "nr_domu": house,
            "data_modyfikacji": GENERATED_AT,
        }
        if ops:
            row.update(rodzaj=kind, nr_mieszkania=flat)
        else:
            row.update(typ_adresu=kind, nr_lokalu=flat)
        return row

    def pup(self, person: Person, rows: Rows) -> None:
        r, p, key, mod = self.r, self.p, person.key, GENERATED_AT
        row = self.person_row(person)
        row.update(kod_stanu_cywilnego=MARITAL_CODES[person.marital], rodzaj_dokumentu="DO")
        rows["osoba"].append(row)
        rows["adres"].append(self.address_row(person, "pup_adres", "Z"))
        start = p.date_between(dt.date(2019, 1, 1), dt.date(2025, 6, 1))
        cursor, spans = start, []
        for index in range(r.choice((1, 1, 2, 3))):
            end = cursor + dt.timedelta(days=r.randrange(60, 500))
            current = (index > 0 and r.random() < 0.3) or end > TODAY
            reason = None if current else r.choice(REMOVAL_REASONS)
            rows["rejestracja"].append(
                {
                    "id_rejestracji": self._id("rejestracja"),
                    "id_osoby": key,
                    "data_rejestracji": cursor,
                    "data_wyrejestrowania": None if current else end,
                    "status": r.choice("BBP"),
                    "kod_przyczyny": REMOVAL_CODES[reason] if reason else None,
                    "data_modyfikacji": mod,
                }
            )
            spans.append((cursor, min(end, TODAY)))
            if current:
                break
            cursor = end + dt.timedelta(days=r.randrange(30, 300))
            if cursor > TODAY - dt.timedelta(days=30):
                break
        first, last = spans[0][0], spans[-1][1]
        for span_start, span_end in spans:
            if r.random() < 0.6:
                benefit_end = min(span_end, span_start + dt.timedelta(days=180))
                rows["decyzja_swiadczenie"].append(
                    {
                        "id_decyzji": self._id("decyzja"),
                        "id_osoby": key,
                        "kod_swiadczenia": "ZAS",
                        "data_od": span_start,
                        "data_do": benefit_end,
                        "data_modyfikacji": mod,
                    }
                )
                month = span_start
                while month < benefit_end:
                    month_end = min(benefit_end, month + dt.timedelta(days=29))
                    reduced = (month - span_start).days >= 90 and month < dt.date(2025, 6, 1)
                    gross = Decimal("1304.90") if reduced else Decimal("1662.00")
                    rows["wyplata"].append(
                        {
                            "id_wyplaty": self._id("wyplata"),
                            "id_osoby": key,
                            "kod_swiadczenia": "ZAS",
                            "okres_od": month,
                            "okres_do": month_end,
                            "kwota_brutto": gross,
                            "kwota_netto": (gross * Decimal("0.8685")).quantize(Decimal("0.01")),
                            "data_modyfikacji": mod,
                        }
                    )
                    month = month_end + dt.timedelta(days=1)
        for _ in range(r.choice((0, 0, 1, 2))):
            when = p.date_between(first, last)
            gross = Decimal(r.randrange(5000, 60000)) / 100
            rows["wyplata"].append(
                {
                    "id_wyplaty": self._id("wyplata"),
                    "id_osoby": key,
                    "kod_swiadczenia": PUP_BENEFIT_CODES[r.choice(OTHER_BENEFITS)][0],
                    "okres_od": when,
                    "okres_do": when + dt.timedelta(days=30),
                    "kwota_brutto": gross,
                    "kwota_netto": gross,
                    "data_modyfikacji": mod,
                }
            )
        for _ in range(r.choice((0, 1, 1, 2))):
            when = p.date_between(first, last)
            accepted = r.random() < 0.7
            training = r.choice(TRAININGS)
            rows["propozycja"].append(
                {
                    "id_propozycji": self._id("propozycja"),
                    "id_osoby": key,
                    "typ": "S",
                    "data_przedlozenia": when,
                    "czy_przyjeta": int(accepted),
                    "czy_odmowa_uzasadniona": None if accepted else int(r.random() < 0.5),
                    "opis": training,
                    "rodzaj_oferty": None,
                    "data_modyfikacji": mod,
                }
            )
            if accepted:
                begin = when + dt.timedelta(days=r.randrange(7, 40))
                ongoing = begin > TODAY - dt.timedelta(days=30)
                rows["szkolenie"].append(
                    {
                        "id_szkolenia": self._id("szkolenie"),
                        "id_osoby": key,
                        "data_skierowania": when,
                        "temat": training,
                        "kod_zakonczenia": "T" if ongoing else r.choice("UUUP"),
                        "data_rozpoczecia": begin,
                        "data_zakonczenia": None if ongoing else begin + dt.timedelta(days=r.randrange(10, 60)),
                        "data_modyfikacji": mod,
                    }
                )
        for _ in range(r.choice((0, 1, 2, 3))):
            accepted = r.random() < 0.4
            rows["propozycja"].append(
                {
                    "id_propozycji": self._id("propozycja"),
                    "id_osoby": key,
                    "typ": "P",
                    "data_przedlozenia": p.date_between(first, last),
                    "czy_przyjeta": int(accepted),
                    "czy_odmowa_uzasadniona": None if accepted else int(r.random() < 0.4),
                    "opis": r.choice(POSITIONS),
                    "rodzaj_oferty": r.choice(OFFER_KINDS),
                    "data_modyfikacji": mod,
                }
            )

        def qualification(kind: str, name: str, **extra: object) -> None:
            row: dict[str, object] = {
                "id_kwalifikacji": self._id("kwalifikacja"),
                "id_osoby": key,
                "typ": kind,
                "nazwa": name,
                "kod_zawodu": None,
                "rodzaj_zawodu": None,
                "poziom_mowa": None,
                "poziom_pismo": None,
                "poziom_czytanie": None,
                "data_modyfikacji": mod,
            }
            row.update(extra)
            rows["kwalifikacja"].append(row)

        qualification("W", r.choice(EDUCATION))
        for name, code in r.sample(OCCUPATIONS, r.choice((1, 1, 2))):
            qualification("Z", name, kod_zawodu=code, rodzaj_zawodu=r.choice("WK"))
        if r.random() < 0.5:
            for licence in r.sample(LICENCES, r.choice((1, 2))):
                qualification("U", licence)
        if r.random() < 0.6:
            for language in r.sample(LANGUAGES, r.choice((1, 2))):
                levels = [LEVEL_CODES[r.choice(LEVELS)] for _ in range(3)]
                qualification("J", language, poziom_mowa=levels[0], poziom_pismo=levels[1], poziom_czytanie=levels[2])
        for skill in r.sample(SKILLS, r.choice((1, 2, 3))):
            qualification("M", skill)
        for _ in range(r.choice((1, 2, 3, 4))):
            planned = p.date_between(first, TODAY + dt.timedelta(days=40))
            rows["kontakt"].append(
                {
                    "id_kontaktu": self._id("kontakt"),
                    "id_osoby": key,
                    "rodzaj": r.choice(VISITS),
                    "miejsce": r.choice(PLACES),
                    "data_planowana": planned,
                    "data_faktyczna": planned if planned <= TODAY and r.random() < 0.85 else None,
                    "data_modyfikacji": mod,
                }
            )
        cursor = max(years_after(person.birth, 18), dt.date(2005, 1, 1))
        for _ in range(r.choice((0, 1, 2, 3))):
            if cursor >= first:
                break
            end = min(first - dt.timedelta(days=1), cursor + dt.timedelta(days=r.randrange(90, 2000)))
            title = r.choice(OCCUPATIONS)[0]
            rows["zatrudnienie"].append(
                {
                    "id_zatrudnienia": self._id("zatrudnienie"),
                    "id_osoby": key,
                    "rodzaj_umowy": r.choice(EMPLOYMENT),
                    "data_od": cursor,
                    "data_do": end,
                    "pracodawca": f"{r.choice(COMPANY_KINDS)} „{r.choice(p.surnames)}” Sp. z o.o.",
                    "zawod": title,
                    "stanowisko": title,
                    "data_modyfikacji": mod,
                }
            )
            cursor = end + dt.timedelta(days=r.randrange(10, 200))
        for span_start, _span_end in spans:
            for when, (kind, type_, description) in (
                (span_start, STATUS_CHANGES[r.randrange(2)]),
                (span_start + dt.timedelta(days=14), STATUS_CHANGES[2]),
            ):
                rows["historia_statusu"].append(
                    {
                        "id_zmiany": self._id("historia_statusu"),
                        "id_osoby": key,
                        "data_zmiany": min(when, TODAY),
                        "rodzaj": kind,
                        "typ": type_,
                        "opis": description,
                        "data_modyfikacji": mod,
                    }
                )

    def ops(self, person: Person, rows: Rows) -> None:
        r, p, mod = self.r, self.p, GENERATED_AT
        rows["osoba"].append(self.person_row(person, ops=True))
        rows["adres_osoby"].append(self.address_row(person, "ops_adres", "ZAM", ops=True))
        status = r.choice(OPS_STATUS)
        rows["klient"].append(
            {
                "id_klienta": self._id("klient"),
                "id_osoby": person.key,
                "czy_zarejestrowany": int(status != "pomoc zakończona" or r.random() < 0.5),
                "kod_statusu": OPS_STATUS_CODES[status],
                "data_modyfikacji": mod,
            }
        )
        for _ in range(r.choice((1, 2, 3, 4))):
            name, amount = r.choice(OPS_BENEFITS)
            start = p.date_between(dt.date(2021, 1, 1), TODAY)
            number = self._id("swiadczenie")
            rows["swiadczenie"].append(
                {
                    "id_swiadczenia": number,
                    "id_osoby": person.key,
                    "kod_formy": OPS_FORM_CODES[name],
                    "numer_decyzji": f"OPS.8310.{number}.{start.year}",
                    "data_od": start,
                    "data_do": (
                        min(TODAY, start + dt.timedelta(days=r.randrange(30, 365))) if r.random() < 0.8 else None
                    ),
                    "kwota_brutto": amount,
                    "kwota_netto": amount,
                    "data_modyfikacji": mod,
                }
            )

    def sr(self, person: Person, rows: Rows) -> None:
        r, mod = self.r, GENERATED_AT
        for someone in (person, *person.children):
            row = self.person_row(someone)
            row.update(
                stan_cywilny=MARITAL_CODES[someone.marital], typ_dokumentu="DO" if someone is person else None
            )
            if someone is not person:
                row["nr_dokumentu"] = None
            rows["osoba"].append(row)
            rows["adres"].append(self.address_row(someone, "sr_adres", "Z"))
        decision = self._id("decyzja")
        rows["decyzja"].append(
            {
                "id_decyzji": decision,
                "id_osoby": person.key,
                "numer_decyzji": f"SR.5210.{person.key}.2025",
                "data_wydania": dt.date(2025, 10, 20),
                "data_modyfikacji": mod,
            }
        )
        for child in person.children:
            rows["decyzja_dziecko"].append(
                {
                    "id_pozycji": self._id("decyzja_dziecko"),
                    "id_decyzji": decision,
                    "id_osoby_dziecka": child.key,
                    "data_modyfikacji": mod,
                }
            )
        chosen = r.sample(SR_BENEFITS[:3], r.choice((1, 1, 2))) + ([SR_BENEFITS[3]] if r.random() < 0.05 else [])
        for name, amount in chosen:
            total = amount * (len(person.children) if name == "Zasiłek rodzinny" else 1)
            rows["decyzja_swiadczenie"].append(
                {
                    "id_pozycji": self._id("decyzja_swiadczenie"),
                    "id_decyzji": decision,
                    "kod_swiadczenia": SR_BENEFIT_CODES[name],
                    "data_od": dt.date(2025, 11, 1),
                    "data_do": dt.date(2026, 10, 31),
                    "kwota": total,
                    "data_modyfikacji": mod,
                }
            )
            for month in range(1 if name.startswith("Dodatek z tytułu rozpoczęcia") else 12):
                year, month_no = 2025 + (10 + month) // 12, (10 + month) % 12 + 1
                rows["wyplata"].append(
                    {
                        "id_wyplaty": self._id("sr_wyplata"),
                        "id_decyzji": decision,
                        "kod_swiadczenia": SR_BENEFIT_CODES[name],
                        "data_wyplaty": dt.date(year, month_no, 15),
                        "kwota": total,
                        "data_modyfikacji": mod,
                    }
                )


def dictionary_rows(data_set: str) -> Rows:
    """The code tables of each reference schema, as the demo's domain systems fill them."""
    tables: Rows
    if data_set == "PUP":
        tables = {
            "sl_stan_cywilny": [{"kod": code, "nazwa": name} for name, code in MARITAL_CODES.items()]
            + [{"kod": "9", "nazwa": "NIEUSTALONY"}],
            "sl_swiadczenie": [{"kod": c, "nazwa": n, "rodzaj": k} for n, (c, k) in PUP_BENEFIT_CODES.items()],
            "sl_przyczyna_wyrejestrowania": [{"kod": c, "nazwa": n} for n, c in REMOVAL_CODES.items()],
            "sl_zawod": [{"kod": c, "nazwa": n} for n, c in OCCUPATIONS],
        }
    elif data_set == "OPS":
        tables = {
            "sl_forma_pomocy": [{"kod_formy": c, "nazwa": n} for n, c in OPS_FORM_CODES.items()],
            "sl_status_klienta": [{"kod_statusu": c, "nazwa": n} for n, c in OPS_STATUS_CODES.items()],
        }
    else:
        tables = {"sl_swiadczenie_rodzinne": [{"kod": c, "nazwa": n} for n, c in SR_BENEFIT_CODES.items()]}
    return tables


def _membership(powiat: Powiat, pup: int, ops: int, sr: int) -> list[tuple[Person, tuple[str, ...]]]:
    """People of the powiat with the data sets that know them (overlapping on purpose)."""
    triple = min(pup, ops, sr) // 10
    pup_ops = min(pup - triple, ops - triple) // 5
    pup_sr = min(pup - triple - pup_ops, sr - triple) // 6
    ops_sr = min(ops - triple - pup_ops, sr - triple - pup_sr) // 8
    membership: list[tuple[Person, tuple[str, ...]]] = []

    def add(count: int, sets: tuple[str, ...]) -> None:
        for _ in range(max(count, 0)):
            person = powiat.parent_with_children() if "SR" in sets else powiat.person(18, 64)
            membership.append((person, sets))

    add(triple, ("PUP", "OPS", "SR"))
    add(pup_ops, ("PUP", "OPS"))
    add(pup_sr, ("PUP", "SR"))
    add(ops_sr, ("OPS", "SR"))
    add(pup - triple - pup_ops - pup_sr, ("PUP",))
    add(ops - triple - pup_ops - ops_sr, ("OPS",))
    add(sr - triple - pup_sr - ops_sr, ("SR",))
    powiat.random.shuffle(membership)
    return membership


def write_domain_databases(
    seed: int,
    out: Path,
    pup: int = 5000,
    ops: int = 2000,
    sr: int = 3000,
    progress: Callable[[int], None] | None = None,
    *,
    urls: dict[str, str] | None = None,
    chunk: int = 2000,
) -> DomainSummary:
    """Write each office's domain database (SQLite under `out` unless `urls` are given) in its reference schema.

    Rows are generated person by person and inserted in bulk (executemany) every `chunk` people, so
    memory stays flat even for a million people.
    """
    from sqlalchemy import Table, create_engine, event
    from sqlalchemy.engine import Engine

    from adapters.ops import OpsAdapter
    from adapters.pup import PupAdapter
    from adapters.sr import SrAdapter

    powiat = Powiat(seed)
    membership = _membership(powiat, pup, ops, sr)
    generator = DomainRows(powiat)
    adapters: dict[str, type[PupAdapter | OpsAdapter | SrAdapter]] = {
        "PUP": PupAdapter,
        "OPS": OpsAdapter,
        "SR": SrAdapter,
    }
    builders = {"PUP": generator.pup, "OPS": generator.ops, "SR": generator.sr}
    result = DomainSummary({}, {}, {person.pesel: sets for person, sets in membership})
    out.mkdir(parents=True, exist_ok=True)
    for data_set in ("PUP", "OPS", "SR"):
        url = (urls or {}).get(data_set) or f"sqlite:///{out / (data_set.lower() + '-dziedzinowa.sqlite')}"
        path = Path(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else None
        if path is not None and path.exists():
            path.unlink()
        engine = create_engine(url)
        if path is not None:

            @event.listens_for(engine, "connect")
            def _fast(dbapi_connection: object, _record: object) -> None:
                # Generation only: the file is written once; a crash just means generating again.
                dbapi_connection.execute("PRAGMA journal_mode = WAL")  # type: ignore[attr-defined]
                dbapi_connection.execute("PRAGMA synchronous = OFF")  # type: ignore[attr-defined]

        adapter = adapters[data_set](url, connect=False)
        adapter.create_schema(engine)
        tables = adapter.tables
        members = [person for person, sets in membership if data_set in sets]
        count, history = 0, 0
        with engine.begin() as connection:
            for name, values in dictionary_rows(data_set).items():
                connection.execute(tables[name].insert(), values)
        rows: Rows = {name: [] for name in tables}

        def flush(engine: Engine = engine, rows: Rows = rows, tables: dict[str, Table] = tables) -> int:
            written = 0
            with engine.begin() as connection:
                for name, values in rows.items():
                    if values:
                        connection.execute(tables[name].insert(), values)
                        written += len(values)
                        values.clear()
            return written

        for person in members:
            builders[data_set](person, rows)
            count += 1
            if progress is not None:
                progress(1)
            if count % chunk == 0:
                history += flush()
        history += flush()
        engine.dispose()
        result.urls[data_set] = url
        result.counts[data_set] = count
        result.history_rows[data_set] = history - count
    return result
