"""Sample data shared by the adapters' generators: invented people and the frame of a kind's generator.

Only invented people: names and streets come from Faker's Polish vocabularies, PESELs are valid but made
up, identity-card numbers carry a valid check digit. Each kind turns a person into rows of its reference
schema (`adapters/<kind>/sample.py`); the demo writes those rows into the offices' domain databases and
makes every other form of the person (replicas, feed files) by running the kind's adapter over them.

Everything is drawn from one `random.Random` of the `Population`, so a seed always gives the same rows.
"""

from __future__ import annotations

import abc
import datetime as dt
import itertools
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from faker import Faker

from contract.identifiers import id_card_check_digit, pesel_check_digit

__all__ = [
    "GENERATED_AT",
    "MARITAL",
    "MARITAL_CODES",
    "TODAY",
    "Address",
    "KindSample",
    "Person",
    "Population",
    "Rows",
    "years_after",
]

TODAY = dt.date(2026, 11, 1)  # fixed, so a seed always gives the same people and histories
GENERATED_AT = dt.datetime(2026, 11, 1, 12, 0, 0)  # data_modyfikacji of generated rows (fixed: reproducible)

MARITAL = ("PANNA_KAWALER", "ZAMEZNA_ZONATY", "ROZWIEDZIONA_ROZWIEDZIONY", "WDOWA_WDOWIEC", "SEPARACJA")
#: The marital-status codes of the reference schemas (each mapping.toml translates them back).
MARITAL_CODES = {name: str(i) for i, name in enumerate(MARITAL, start=1)}

#: Post code, town, street, house, flat.
Address = tuple[str, str, str, str, str | None]
#: Rows by logical table name, each a dict of logical column names (as the reference schema names them).
Rows = dict[str, list[dict[str, Any]]]


@dataclass
class Person:
    """An invented person; `key` is their `id_osoby` in every office's domain database."""

    key: int
    sex: str
    first_name: str
    second_name: str | None
    surname: str
    birth: dt.date
    pesel: str
    id_card: str
    marital: str
    address: Address
    children: list[Person] = field(default_factory=list)


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


class Population:
    """Invents the people of one synthetic powiat from a seed: names, PESELs, ID cards, addresses, children."""

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
        """A day from `start` to `end` inclusive (`start` when the range is empty)."""
        days = max((end - start).days, 0)
        return start + dt.timedelta(days=self.random.randrange(days + 1))

    def address(self) -> Address:
        """An address in one of the powiat's towns."""
        town = self.random.choice(self.towns)
        post = f"{self.post_prefix}-{self.random.randrange(100, 999):03d}"
        street = self.random.choice(self.streets)
        house = str(self.random.randrange(1, 120)) + (self.random.choice(("", "", "", "A", "B")))
        flat = str(self.random.randrange(1, 60)) if self.random.random() < 0.45 else None
        return post, town, street, house, flat

    def person(self, min_age: int, max_age: int, surname: str | None = None, address: Address | None = None) -> Person:
        """A new person aged `min_age` to `max_age` on `TODAY`, with a new key."""
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
        """An adult with one to four children under 18 at the same address (born after the parent's 18th)."""
        parent = self.person(22, 50)
        base = parent.surname if parent.sex == "M" else self.random.choice(self.surnames)
        for _ in range(self.random.choice((1, 1, 2, 2, 3, 4))):
            child = self.person(0, 17, surname=base, address=parent.address)
            if child.birth > years_after(parent.birth, 18):
                parent.children.append(child)
        if not parent.children:
            parent.children.append(self.person(0, 3, surname=base, address=parent.address))
        return parent


class KindSample(abc.ABC):
    """A kind's sample-data generator: the rows of its reference schema for invented people.

    Rows use the schema's logical names; every table of `tables` (the schema's, in creation order) has a
    list in `empty()`, so rows can be inserted table by table in that order (dictionaries first).
    """

    #: The data set kind (PUP, OPS, SR).
    kind: ClassVar[str]
    #: The reference schema's logical tables, in creation order.
    tables: ClassVar[tuple[str, ...]]

    def __init__(self, population: Population) -> None:
        self.population = population
        self.random = population.random
        self._ids: defaultdict[str, Iterator[int]] = defaultdict(lambda: itertools.count(1))

    def next_id(self, table: str) -> int:
        """The next key of a history table (1, 2, ... for each table)."""
        return next(self._ids[table])

    def empty(self) -> Rows:
        """No rows yet, a list for each table."""
        return {name: [] for name in self.tables}

    @abc.abstractmethod
    def dictionaries(self) -> Rows:
        """The code tables, as the office's domain system fills them."""

    @abc.abstractmethod
    def add(self, person: Person, rows: Rows) -> None:
        """Append the person's rows (the person, addresses, histories) to `rows`."""
