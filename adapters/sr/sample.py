"""Sample data of the SR reference schema (schema.py): an invented parent, their children, one decision on
family benefits for the 2025/2026 benefit period and its monthly payments, with the code table. The SR
adapter turns these rows into the SR data set.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from adapters.sample import GENERATED_AT, MARITAL_CODES, KindSample, Person, Rows
from adapters.sr.schema import SPECS

BENEFITS = (
    ("Zasiłek rodzinny", Decimal("124.00")),
    ("Dodatek z tytułu samotnego wychowywania dziecka", Decimal("270.00")),
    ("Dodatek z tytułu rozpoczęcia roku szkolnego", Decimal("100.00")),
    ("Świadczenie pielęgnacyjne", Decimal("3287.00")),
    ("Zasiłek pielęgnacyjny", Decimal("215.84")),
)
BENEFIT_CODES = {name: f"SR{i}" for i, (name, _amount) in enumerate(BENEFITS, start=1)}
# The benefit period ("okres zasiłkowy") runs from November to October (ustawa o świadczeniach rodzinnych,
# art. 3 pkt 13).
PERIOD_START, PERIOD_END, ISSUED = dt.date(2025, 11, 1), dt.date(2026, 10, 31), dt.date(2025, 10, 20)


class SrSample(KindSample):
    """Rows of the reference SR schema for invented parents (`Population.parent_with_children`)."""

    kind = "SR"
    tables = tuple(spec.name for spec in SPECS)

    def dictionaries(self) -> Rows:
        """Family benefits."""
        return {"sl_swiadczenie_rodzinne": [{"kod": c, "nazwa": n} for n, c in BENEFIT_CODES.items()]}

    def add(self, person: Person, rows: Rows) -> None:
        """The parent and children (only the parent has an ID card), one decision covering the children,
        one to three benefits with their payments."""
        r = self.random
        for someone in (person, *person.children):
            self._person(someone, parent=someone is person, rows=rows)
        decision = self.next_id("decyzja")
        rows["decyzja"].append(
            {
                "id_decyzji": decision,
                "id_osoby": person.key,
                "numer_decyzji": f"SR.5210.{person.key}.2025",
                "data_wydania": ISSUED,
                "data_modyfikacji": GENERATED_AT,
            }
        )
        for child in person.children:
            rows["decyzja_dziecko"].append(
                {
                    "id_pozycji": self.next_id("decyzja_dziecko"),
                    "id_decyzji": decision,
                    "id_osoby_dziecka": child.key,
                    "data_modyfikacji": GENERATED_AT,
                }
            )
        chosen = r.sample(BENEFITS[:3], r.choice((1, 1, 2))) + ([BENEFITS[3]] if r.random() < 0.05 else [])
        for name, amount in chosen:
            total = amount * (len(person.children) if name == "Zasiłek rodzinny" else 1)
            self._benefit(decision, BENEFIT_CODES[name], total, rows)
            # The school-start supplement is paid once; the others every month of the period.
            for month in range(1 if name.startswith("Dodatek z tytułu rozpoczęcia") else 12):
                year, month_no = 2025 + (10 + month) // 12, (10 + month) % 12 + 1
                rows["wyplata"].append(
                    {
                        "id_wyplaty": self.next_id("wyplata"),
                        "id_decyzji": decision,
                        "kod_swiadczenia": BENEFIT_CODES[name],
                        "data_wyplaty": dt.date(year, month_no, 15),
                        "kwota": total,
                        "data_modyfikacji": GENERATED_AT,
                    }
                )

    def _person(self, someone: Person, *, parent: bool, rows: Rows) -> None:
        post, town, street, house, flat = someone.address
        rows["osoba"].append(
            {
                "id_osoby": someone.key,
                "nazwisko": someone.surname,
                "imie": someone.first_name,
                "imie_drugie": someone.second_name,
                "pesel": someone.pesel,
                "data_urodzenia": someone.birth,
                "plec": someone.sex,
                "stan_cywilny": MARITAL_CODES[someone.marital],
                "typ_dokumentu": "DO" if parent else None,
                "nr_dokumentu": someone.id_card if parent else None,
                "czy_usunieta": 0,
                "data_modyfikacji": GENERATED_AT,
            }
        )
        rows["adres"].append(
            {
                "id_adresu": self.next_id("adres"),
                "id_osoby": someone.key,
                "typ_adresu": "Z",
                "kod_pocztowy": post,
                "miejscowosc": town,
                "ulica": street,
                "nr_domu": house,
                "nr_lokalu": flat,
                "data_modyfikacji": GENERATED_AT,
            }
        )

    def _benefit(self, decision: int, code: str, monthly: Decimal, rows: Rows) -> None:
        rows["decyzja_swiadczenie"].append(
            {
                "id_pozycji": self.next_id("decyzja_swiadczenie"),
                "id_decyzji": decision,
                "kod_swiadczenia": code,
                "data_od": PERIOD_START,
                "data_do": PERIOD_END,
                "kwota": monthly,
                "data_modyfikacji": GENERATED_AT,
            }
        )
