"""Sample data of the PUP reference schema (schema.py): an invented person's registrations, benefits and
payments, offers and trainings, qualifications, visits, employment and status history, with the code
tables. The PUP adapter turns these rows into the PUP data set, as it does a real office's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from adapters.pup.schema import SPECS
from adapters.sample import GENERATED_AT, MARITAL_CODES, TODAY, KindSample, Person, Rows, years_after

PUP_BENEFITS = ("Zasiłek dla bezrobotnych", "Stypendium szkoleniowe", "Dodatek aktywizacyjny", "Stypendium stażowe")
OTHER_BENEFITS = ("Zwrot kosztów przejazdu", "Stypendium na kontynuowanie nauki", "Zwrot kosztów opieki nad dzieckiem")
#: Benefit name -> (code, kind: Z = unemployment benefit, I = other) of `sl_swiadczenie`.
BENEFIT_CODES = {
    "Zasiłek dla bezrobotnych": ("ZAS", "Z"),
    "Stypendium szkoleniowe": ("STS", "I"),
    "Dodatek aktywizacyjny": ("DAK", "I"),
    "Stypendium stażowe": ("STZ", "I"),
    "Zwrot kosztów przejazdu": ("ZKP", "I"),
    "Stypendium na kontynuowanie nauki": ("SKN", "I"),
    "Zwrot kosztów opieki nad dzieckiem": ("ZKO", "I"),
}
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
#: Language levels by their code in the reference schema (mapping.toml: poziom_jezyka).
LEVEL_CODES = ("1", "2", "3", "4")
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
REMOVAL_CODES = {reason: f"W{i}" for i, reason in enumerate(REMOVAL_REASONS, start=1)}
# Until 31 May 2025 the benefit dropped after 90 days; the labour-market act of 2025 (Dz.U. 2025 poz. 620,
# in force 1 June 2025) pays it in full for the whole period.
FULL_BENEFIT, REDUCED_BENEFIT, REFORM = Decimal("1662.00"), Decimal("1304.90"), dt.date(2025, 6, 1)
NET_SHARE = Decimal("0.8685")

Span = tuple[dt.date, dt.date]


class PupSample(KindSample):
    """Rows of the reference PUP schema for invented people."""

    kind = "PUP"
    tables = tuple(spec.name for spec in SPECS)

    def dictionaries(self) -> Rows:
        """Marital states, benefits, reasons for removal from the register, occupations."""
        return {
            "sl_stan_cywilny": [{"kod": code, "nazwa": name} for name, code in MARITAL_CODES.items()]
            + [{"kod": "9", "nazwa": "NIEUSTALONY"}],
            "sl_swiadczenie": [{"kod": c, "nazwa": n, "rodzaj": k} for n, (c, k) in BENEFIT_CODES.items()],
            "sl_przyczyna_wyrejestrowania": [{"kod": c, "nazwa": n} for n, c in REMOVAL_CODES.items()],
            "sl_zawod": [{"kod": c, "nazwa": n} for n, c in OCCUPATIONS],
        }

    def add(self, person: Person, rows: Rows) -> None:
        """The person registered once to three times since 2019, with what happened while registered."""
        post, town, street, house, flat = person.address
        rows["osoba"].append(
            {
                "id_osoby": person.key,
                "nazwisko": person.surname,
                "imie": person.first_name,
                "imie_drugie": person.second_name,
                "pesel": person.pesel,
                "data_urodzenia": person.birth,
                "plec": person.sex,
                "kod_stanu_cywilnego": MARITAL_CODES[person.marital],
                "rodzaj_dokumentu": "DO",
                "nr_dokumentu": person.id_card,
                "czy_usunieta": 0,
                "data_modyfikacji": GENERATED_AT,
            }
        )
        rows["adres"].append(
            {
                "id_adresu": self.next_id("adres"),
                "id_osoby": person.key,
                "typ_adresu": "Z",
                "kod_pocztowy": post,
                "miejscowosc": town,
                "ulica": street,
                "nr_domu": house,
                "nr_lokalu": flat,
                "data_modyfikacji": GENERATED_AT,
            }
        )
        spans = self._registrations(person.key, rows)
        first, last = spans[0][0], spans[-1][1]
        self._benefits(person.key, spans, rows)
        self._offers(person.key, first, last, rows)
        self._qualifications(person.key, rows)
        self._visits(person.key, first, rows)
        self._employment(person, first, rows)
        self._statuses(person.key, spans, rows)

    def _row(self, rows: Rows, table: str, key_column: str, key: int, **values: object) -> None:
        """Append a history row: its own key, the person, the values, the modification time."""
        rows[table].append(
            {key_column: self.next_id(table), "id_osoby": key, **values, "data_modyfikacji": GENERATED_AT}
        )

    def _registrations(self, key: int, rows: Rows) -> list[Span]:
        """One to three registration periods; the last may be current. Returns them as (start, end)."""
        r = self.random
        start = self.population.date_between(dt.date(2019, 1, 1), dt.date(2025, 6, 1))
        cursor, spans = start, []
        for index in range(r.choice((1, 1, 2, 3))):
            end = cursor + dt.timedelta(days=r.randrange(60, 500))
            current = (index > 0 and r.random() < 0.3) or end > TODAY
            reason = None if current else r.choice(REMOVAL_REASONS)
            self._row(
                rows,
                "rejestracja",
                "id_rejestracji",
                key,
                data_rejestracji=cursor,
                data_wyrejestrowania=None if current else end,
                status=r.choice("BBP"),
                kod_przyczyny=REMOVAL_CODES[reason] if reason else None,
            )
            spans.append((cursor, min(end, TODAY)))
            if current:
                break
            cursor = end + dt.timedelta(days=r.randrange(30, 300))
            if cursor > TODAY - dt.timedelta(days=30):
                break
        return spans

    def _benefits(self, key: int, spans: list[Span], rows: Rows) -> None:
        """The unemployment benefit (decision and monthly payments) in some periods; other payments."""
        r = self.random
        for span_start, span_end in spans:
            if r.random() >= 0.6:
                continue
            benefit_end = min(span_end, span_start + dt.timedelta(days=180))
            self._row(
                rows,
                "decyzja_swiadczenie",
                "id_decyzji",
                key,
                kod_swiadczenia="ZAS",
                data_od=span_start,
                data_do=benefit_end,
            )
            month = span_start
            while month < benefit_end:
                month_end = min(benefit_end, month + dt.timedelta(days=29))
                reduced = (month - span_start).days >= 90 and month < REFORM
                gross = REDUCED_BENEFIT if reduced else FULL_BENEFIT
                self._payment(rows, key, "ZAS", month, month_end, gross, (gross * NET_SHARE).quantize(Decimal("0.01")))
                month = month_end + dt.timedelta(days=1)
        first, last = spans[0][0], spans[-1][1]
        for _ in range(r.choice((0, 0, 1, 2))):
            when = self.population.date_between(first, last)
            gross = Decimal(r.randrange(5000, 60000)) / 100
            code = BENEFIT_CODES[r.choice(OTHER_BENEFITS)][0]
            self._payment(rows, key, code, when, when + dt.timedelta(days=30), gross, gross)

    def _payment(
        self, rows: Rows, key: int, code: str, start: dt.date, end: dt.date, gross: Decimal, net: Decimal
    ) -> None:
        self._row(
            rows,
            "wyplata",
            "id_wyplaty",
            key,
            kod_swiadczenia=code,
            okres_od=start,
            okres_do=end,
            kwota_brutto=gross,
            kwota_netto=net,
        )

    def _offers(self, key: int, first: dt.date, last: dt.date, rows: Rows) -> None:
        """Training offers (an accepted one leads to a training) and job offers."""
        r, between = self.random, self.population.date_between
        for _ in range(r.choice((0, 1, 1, 2))):
            when = between(first, last)
            accepted = r.random() < 0.7
            training = r.choice(TRAININGS)
            justified = None if accepted else int(r.random() < 0.5)
            self._offer(rows, key, "S", when, accepted, justified, training, None)
            if accepted:
                begin = when + dt.timedelta(days=r.randrange(7, 40))
                ongoing = begin > TODAY - dt.timedelta(days=30)
                self._row(
                    rows,
                    "szkolenie",
                    "id_szkolenia",
                    key,
                    data_skierowania=when,
                    temat=training,
                    kod_zakonczenia="T" if ongoing else r.choice("UUUP"),
                    data_rozpoczecia=begin,
                    data_zakonczenia=None if ongoing else begin + dt.timedelta(days=r.randrange(10, 60)),
                )
        for _ in range(r.choice((0, 1, 2, 3))):
            accepted = r.random() < 0.4
            when = between(first, last)
            justified = None if accepted else int(r.random() < 0.4)
            self._offer(rows, key, "P", when, accepted, justified, r.choice(POSITIONS), r.choice(OFFER_KINDS))

    def _offer(
        self,
        rows: Rows,
        key: int,
        kind: str,
        when: dt.date,
        accepted: bool,
        justified: int | None,
        what: str,
        offer: str | None,
    ) -> None:
        self._row(
            rows,
            "propozycja",
            "id_propozycji",
            key,
            typ=kind,
            data_przedlozenia=when,
            czy_przyjeta=int(accepted),
            czy_odmowa_uzasadniona=justified,
            opis=what,
            rodzaj_oferty=offer,
        )

    def _qualifications(self, key: int, rows: Rows) -> None:
        """Education, one or two occupations, perhaps licences and languages, some skills."""
        r = self.random

        def qualification(kind: str, name: str, **extra: object) -> None:
            values: dict[str, object] = {
                "typ": kind,
                "nazwa": name,
                "kod_zawodu": None,
                "rodzaj_zawodu": None,
                "poziom_mowa": None,
                "poziom_pismo": None,
                "poziom_czytanie": None,
            }
            self._row(rows, "kwalifikacja", "id_kwalifikacji", key, **(values | extra))

        qualification("W", r.choice(EDUCATION))
        for name, code in r.sample(OCCUPATIONS, r.choice((1, 1, 2))):
            qualification("Z", name, kod_zawodu=code, rodzaj_zawodu=r.choice("WK"))
        if r.random() < 0.5:
            for licence in r.sample(LICENCES, r.choice((1, 2))):
                qualification("U", licence)
        if r.random() < 0.6:
            for language in r.sample(LANGUAGES, r.choice((1, 2))):
                speaking, writing, reading = (r.choice(LEVEL_CODES) for _ in range(3))
                qualification("J", language, poziom_mowa=speaking, poziom_pismo=writing, poziom_czytanie=reading)
        for skill in r.sample(SKILLS, r.choice((1, 2, 3))):
            qualification("M", skill)

    def _visits(self, key: int, first: dt.date, rows: Rows) -> None:
        """One to four visits, planned up to 40 days ahead; most of the past ones took place."""
        r = self.random
        for _ in range(r.choice((1, 2, 3, 4))):
            planned = self.population.date_between(first, TODAY + dt.timedelta(days=40))
            self._row(
                rows,
                "kontakt",
                "id_kontaktu",
                key,
                rodzaj=r.choice(VISITS),
                miejsce=r.choice(PLACES),
                data_planowana=planned,
                data_faktyczna=planned if planned <= TODAY and r.random() < 0.85 else None,
            )

    def _employment(self, person: Person, first: dt.date, rows: Rows) -> None:
        """Up to three jobs between the person's 18th birthday (2005 at the earliest) and the registration."""
        r = self.random
        cursor = max(years_after(person.birth, 18), dt.date(2005, 1, 1))
        for _ in range(r.choice((0, 1, 2, 3))):
            if cursor >= first:
                break
            end = min(first - dt.timedelta(days=1), cursor + dt.timedelta(days=r.randrange(90, 2000)))
            title = r.choice(OCCUPATIONS)[0]
            self._row(
                rows,
                "zatrudnienie",
                "id_zatrudnienia",
                person.key,
                rodzaj_umowy=r.choice(EMPLOYMENT),
                data_od=cursor,
                data_do=end,
                pracodawca=f"{r.choice(COMPANY_KINDS)} „{r.choice(self.population.surnames)}” Sp. z o.o.",
                zawod=title,
                stanowisko=title,
            )
            cursor = end + dt.timedelta(days=r.randrange(10, 200))

    def _statuses(self, key: int, spans: list[Span], rows: Rows) -> None:
        """A registration and a profile change at the start of every period."""
        r = self.random
        for span_start, _span_end in spans:
            for when, (kind, type_, description) in (
                (span_start, STATUS_CHANGES[r.randrange(2)]),
                (span_start + dt.timedelta(days=14), STATUS_CHANGES[2]),
            ):
                self._row(
                    rows,
                    "historia_statusu",
                    "id_zmiany",
                    key,
                    data_zmiany=min(when, TODAY),
                    rodzaj=kind,
                    typ=type_,
                    opis=description,
                )
