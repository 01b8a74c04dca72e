"""The PUP data set (powiatowy urząd pracy): guideline items PUP 1-9, one type per category."""

from __future__ import annotations

from hub.soap.model.common import (
    MODEL_NS,
    Amount,
    Boolean,
    DaneOsobowe,
    Date,
    Enum,
    ModelType,
    RequiredDate,
    RequiredText,
    Text,
    Unicode,
    many,
    named,
    required,
)

LabourMarketStatus = named(Enum("BEZROBOTNY", "POSZUKUJACY_PRACY", type_name="StatusNaRynkuPracy"), MODEL_NS)
TrainingOutcome = named(Enum("UKONCZONE", "PRZERWANE", "W_TRAKCIE", type_name="SposobZakonczeniaSzkolenia"), MODEL_NS)
OccupationKind = named(Enum("WYUCZONY", "WYKONYWANY", type_name="RodzajZawodu"), MODEL_NS)
LanguageLevel = named(
    Enum("BRAK", "PODSTAWOWY", "SREDNI", "DOBRY", "BARDZO_DOBRY", type_name="StopienZnajomosciJezyka"), MODEL_NS
)

RequiredFlag = required(Boolean)
# Classification of occupations and specialities (KZiS): six digits.
OccupationCode = named(Unicode(pattern=r"[0-9]{6}", type_name="KodZawodu"))
RequiredAmount = required(Amount)


class OkresRejestracji(ModelType):
    """A registration period (PUP 2.1) and, if it ended so, the removal from the register (PUP 2)."""

    _type_info = [
        ("DataOd", RequiredDate),
        ("DataDo", Date),
        ("Status", required(LabourMarketStatus)),
        ("DataWykreslenia", Date),
        ("PrzyczynaWykreslenia", Text),
    ]


class OkresyRejestracji(ModelType):
    _type_info = [("OkresRejestracji", many(OkresRejestracji))]


class PrzyznaneSwiadczenie(ModelType):
    """A benefit or allowance granted by the PUP (PUP 2.2)."""

    _type_info = [("Nazwa", RequiredText), ("DataOd", RequiredDate), ("DataDo", Date)]


class PrzyznaneSwiadczenia(ModelType):
    _type_info = [("PrzyznaneSwiadczenie", many(PrzyznaneSwiadczenie))]


class PobranyZasilek(ModelType):
    """An unemployment benefit drawn (PUP 2.3): period and gross/net amount."""

    _type_info = [
        ("DataOd", RequiredDate),
        ("DataDo", RequiredDate),
        ("KwotaBrutto", RequiredAmount),
        ("KwotaNetto", RequiredAmount),
    ]


class PobraneZasilki(ModelType):
    _type_info = [("PobranyZasilek", many(PobranyZasilek))]


class InneSwiadczenie(ModelType):
    """Another benefit drawn at the PUP (PUP 2.4): period and gross/net amount; the name is optional."""

    _type_info = [
        ("Nazwa", Text),
        ("DataOd", RequiredDate),
        ("DataDo", RequiredDate),
        ("KwotaBrutto", RequiredAmount),
        ("KwotaNetto", RequiredAmount),
    ]


class InneSwiadczenia(ModelType):
    _type_info = [("InneSwiadczenie", many(InneSwiadczenie))]


class PropozycjaSzkolenia(ModelType):
    """A training offered (PUP 3), with acceptance and whether a refusal was justified."""

    _type_info = [
        ("DataPrzedlozenia", RequiredDate),
        ("CzyPrzyjeta", RequiredFlag),
        ("CzyOdmowaUzasadniona", Boolean),
        ("Szkolenie", RequiredText),
    ]


class PropozycjeSzkolen(ModelType):
    _type_info = [("PropozycjaSzkolenia", many(PropozycjaSzkolenia))]


class SzkolenieOdbyte(ModelType):
    """A training attended (PUP 4): referral date, subject, outcome, start and end."""

    _type_info = [
        ("DataSkierowania", RequiredDate),
        ("ZakresTematyczny", RequiredText),
        ("SposobZakonczenia", required(TrainingOutcome)),
        ("DataRozpoczecia", RequiredDate),
        ("DataZakonczenia", Date),
    ]


class SzkoleniaOdbyte(ModelType):
    _type_info = [("SzkolenieOdbyte", many(SzkolenieOdbyte))]


class PropozycjaPracy(ModelType):
    """A job offered (PUP 5): date, acceptance, justified refusal, position, kind of offer."""

    _type_info = [
        ("DataPrzedlozenia", RequiredDate),
        ("CzyPrzyjeta", RequiredFlag),
        ("CzyOdmowaUzasadniona", Boolean),
        ("Stanowisko", RequiredText),
        ("RodzajPropozycji", RequiredText),
    ]


class PropozycjePracy(ModelType):
    _type_info = [("PropozycjaPracy", many(PropozycjaPracy))]


class Zawod(ModelType):
    """An occupation (PUP 6.2): its name and whether it is learned or practised."""

    _type_info = [
        ("Nazwa", RequiredText),
        ("KodZawodu", OccupationCode),
        ("Rodzaj", required(OccupationKind)),
    ]


class JezykObcy(ModelType):
    """A foreign language (PUP 6.4) with the level in speaking, writing and reading."""

    _type_info = [
        ("Nazwa", RequiredText),
        ("Mowa", required(LanguageLevel)),
        ("Pismo", required(LanguageLevel)),
        ("Czytanie", required(LanguageLevel)),
    ]


class Wyksztalcenia(ModelType):
    _type_info = [("RodzajWyksztalcenia", many(RequiredText))]


class Zawody(ModelType):
    _type_info = [("Zawod", many(Zawod))]


class Uprawnienia(ModelType):
    _type_info = [("Uprawnienie", many(RequiredText))]


class JezykiObce(ModelType):
    _type_info = [("JezykObcy", many(JezykObcy))]


class Umiejetnosci(ModelType):
    _type_info = [("Umiejetnosc", many(RequiredText))]


class WyksztalcenieIKwalifikacje(ModelType):
    """Education and qualifications (PUP 6.1-6.5)."""

    _type_info = [
        ("Wyksztalcenia", Wyksztalcenia),
        ("Zawody", Zawody),
        ("Uprawnienia", Uprawnienia),
        ("JezykiObce", JezykiObce),
        ("Umiejetnosci", Umiejetnosci),
    ]


class Wizyta(ModelType):
    """A contact with the office (PUP 7): kind, place, planned and actual date."""

    _type_info = [
        ("RodzajWizyty", RequiredText),
        ("Miejsce", RequiredText),
        ("DataPlanowana", RequiredDate),
        ("DataFaktyczna", Date),
    ]


class Wizyty(ModelType):
    _type_info = [("Wizyta", many(Wizyta))]


class Zatrudnienie(ModelType):
    """An employment (PUP 8): kind, period, employer, occupation, position."""

    _type_info = [
        ("RodzajZatrudnienia", RequiredText),
        ("DataOd", RequiredDate),
        ("DataDo", Date),
        ("Pracodawca", RequiredText),
        ("Zawod", Text),
        ("Stanowisko", Text),
    ]


class HistoriaZatrudnienia(ModelType):
    _type_info = [("Zatrudnienie", many(Zatrudnienie))]


class ZmianaStatusu(ModelType):
    """A change of the person's status at the PUP (PUP 9): date, kind, type, description."""

    _type_info = [
        ("DataZmiany", RequiredDate),
        ("Rodzaj", RequiredText),
        ("Typ", RequiredText),
        ("Opis", Text),
    ]


class HistoriaStatusow(ModelType):
    _type_info = [("ZmianaStatusu", many(ZmianaStatusu))]


class DanePUP(ModelType):
    """What the PUP data set holds about one person; each element is one category, all optional."""

    _type_info = [
        ("DaneOsobowe", DaneOsobowe),
        ("OkresyRejestracji", OkresyRejestracji),
        ("PrzyznaneSwiadczenia", PrzyznaneSwiadczenia),
        ("PobraneZasilki", PobraneZasilki),
        ("InneSwiadczenia", InneSwiadczenia),
        ("PropozycjeSzkolen", PropozycjeSzkolen),
        ("SzkoleniaOdbyte", SzkoleniaOdbyte),
        ("PropozycjePracy", PropozycjePracy),
        ("WyksztalcenieIKwalifikacje", WyksztalcenieIKwalifikacje),
        ("Wizyty", Wizyty),
        ("HistoriaZatrudnienia", HistoriaZatrudnienia),
        ("HistoriaStatusow", HistoriaStatusow),
    ]
