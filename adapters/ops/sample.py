"""Sample data of the OPS reference schema (schema.py): an invented client of the centre, their status and
the benefits granted to them, with the code tables. The OPS adapter turns these rows into the OPS data set.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from adapters.ops.schema import SPECS
from adapters.sample import GENERATED_AT, MARITAL_CODES, TODAY, KindSample, Person, Rows

STATUSES = ("korzystający z pomocy", "w trakcie wywiadu środowiskowego", "pomoc zakończona")
STATUS_CODES = {name: f"S{i}" for i, name in enumerate(STATUSES, start=1)}
BENEFITS = (
    ("Zasiłek stały", Decimal("1229.00")),
    ("Zasiłek okresowy", Decimal("500.00")),
    ("Zasiłek celowy", Decimal("300.00")),
    ("Posiłek w ramach programu osłonowego", Decimal("220.00")),
    ("Usługi opiekuńcze", Decimal("640.00")),
)
FORM_CODES = {name: f"{110 + 10 * i}" for i, (name, _amount) in enumerate(BENEFITS)}


class OpsSample(KindSample):
    """Rows of the reference OPS schema for invented people."""

    kind = "OPS"
    tables = tuple(spec.name for spec in SPECS)

    def dictionaries(self) -> Rows:
        """Forms of assistance and client statuses."""
        return {
            "sl_forma_pomocy": [{"kod_formy": c, "nazwa": n} for n, c in FORM_CODES.items()],
            "sl_status_klienta": [{"kod_statusu": c, "nazwa": n} for n, c in STATUS_CODES.items()],
        }

    def add(self, person: Person, rows: Rows) -> None:
        """The person as a client (registered unless assistance ended) with one to four benefits since 2021."""
        r = self.random
        post, town, street, house, flat = person.address
        rows["osoba"].append(
            {
                "id_osoby": person.key,
                "nazwisko": person.surname,
                "imie_pierwsze": person.first_name,
                "imie_drugie": person.second_name,
                "pesel": person.pesel,
                "data_ur": person.birth,
                "plec": person.sex,
                "stan_cywilny": MARITAL_CODES[person.marital],
                "typ_dokumentu": "DO",
                "seria_numer_dokumentu": person.id_card,
                "czy_usunieta": 0,
                "data_modyfikacji": GENERATED_AT,
            }
        )
        rows["adres_osoby"].append(
            {
                "id_adresu": self.next_id("adres_osoby"),
                "id_osoby": person.key,
                "rodzaj": "ZAM",
                "kod_pocztowy": post,
                "miejscowosc": town,
                "ulica": street,
                "nr_domu": house,
                "nr_mieszkania": flat,
                "data_modyfikacji": GENERATED_AT,
            }
        )
        status = r.choice(STATUSES)
        rows["klient"].append(
            {
                "id_klienta": self.next_id("klient"),
                "id_osoby": person.key,
                "czy_zarejestrowany": int(status != "pomoc zakończona" or r.random() < 0.5),
                "kod_statusu": STATUS_CODES[status],
                "data_modyfikacji": GENERATED_AT,
            }
        )
        for _ in range(r.choice((1, 2, 3, 4))):
            name, amount = r.choice(BENEFITS)
            start = self.population.date_between(dt.date(2021, 1, 1), TODAY)
            number = self.next_id("swiadczenie")
            ends = r.random() < 0.8
            rows["swiadczenie"].append(
                {
                    "id_swiadczenia": number,
                    "id_osoby": person.key,
                    "kod_formy": FORM_CODES[name],
                    "numer_decyzji": f"OPS.8310.{number}.{start.year}",
                    "data_od": start,
                    "data_do": min(TODAY, start + dt.timedelta(days=r.randrange(30, 365))) if ends else None,
                    "kwota_brutto": amount,
                    "kwota_netto": amount,
                    "data_modyfikacji": GENERATED_AT,
                }
            )
