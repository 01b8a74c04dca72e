"""The feed format (guideline 4): a batch of beneficiary records of one data set, as sent by a feeder,
and the feed service's answers (a receipt per batch, the state of a replica for resuming)."""

from __future__ import annotations

from spyne import Boolean, ComplexModel, DateTime, Enum, Integer, Unicode, XmlAttribute

from contract.catalog import FEED_NS, UNIT_CODE_LENGTH
from hub.soap.model.common import many, named, required
from hub.soap.model.ops import DaneOPS
from hub.soap.model.pup import DanePUP
from hub.soap.model.sr import DaneSR

BatchKind = named(Enum("PELNA", "PRZYROSTOWA", type_name="RodzajPaczki"), FEED_NS)


SourceKey = named(Unicode(min_len=1, max_len=64, type_name="Identyfikator"), FEED_NS)
DataSetCode = named(Unicode(min_len=1, max_len=UNIT_CODE_LENGTH, type_name="KodZbioru"), FEED_NS)
# Opaque to the hub: the feeder's position (change window and last source key sent), stored per batch.
Watermark = named(Unicode(max_len=200, type_name="Znacznik"), FEED_NS)
BatchNumber = named(Integer(ge=1, type_name="NumerPaczki"), FEED_NS)
Count = named(Integer(ge=0, type_name="Liczba"), FEED_NS)
Digest = named(Unicode(pattern=r"[0-9a-f]{64}", type_name="SkrotSHA256"), FEED_NS)
Reason = named(Unicode(max_len=500, type_name="Powod"), FEED_NS)


class FeedType(ComplexModel):
    __namespace__ = FEED_NS


class Rekord(FeedType):
    """One beneficiary as the domain system knows them: a source key and the data set's sections.

    `Usuniety` marks a person deleted or removed from the register at the source (incremental batches).
    """

    _type_info = [
        ("IdZrodlowy", required(SourceKey)),
        ("Usuniety", Boolean),
        ("DanePUP", DanePUP),
        ("DaneOPS", DaneOPS),
        ("DaneSR", DaneSR),
    ]


class Paczka(FeedType):
    """A batch of records of one data set: a full snapshot or the changes since a watermark.

    A full snapshot may span several batches of one run (`IdZasilenia`, `NumerPaczki` from 1); it becomes
    visible at once when the batch with `Koniec="true"` is applied. A batch without `IdZasilenia` is a
    whole snapshot (or a whole set of changes) on its own. `Znacznik` is the position the batch reached.
    """

    _type_info = [
        ("Zbior", XmlAttribute(DataSetCode, use="required")),
        ("Rodzaj", XmlAttribute(BatchKind, use="required")),
        ("IdPaczki", XmlAttribute(SourceKey)),
        ("Utworzono", XmlAttribute(DateTime)),
        ("IdZasilenia", XmlAttribute(SourceKey)),
        ("NumerPaczki", XmlAttribute(BatchNumber)),
        ("Znacznik", XmlAttribute(Watermark)),
        ("Koniec", XmlAttribute(Boolean)),
        ("Rekord", many(Rekord)),
    ]


class Odrzucenie(FeedType):
    """A record that was not applied: its source key and the reason (Polish)."""

    _type_info = [("IdZrodlowy", required(SourceKey)), ("Powod", required(Reason))]


class Odrzucone(FeedType):
    _type_info = [("Odrzucenie", many(Odrzucenie))]


class Pokwitowanie(FeedType):
    """The receipt of one applied batch: counts, rejections, the digest of what was applied, the watermark."""

    _type_info = [
        ("Zbior", required(DataSetCode)),
        ("Rodzaj", required(BatchKind)),
        ("IdPaczki", SourceKey),
        ("IdZasilenia", SourceKey),
        ("NumerPaczki", BatchNumber),
        ("Przeczytano", required(Count)),
        ("Zastosowano", required(Count)),
        ("Usunieto", required(Count)),
        ("Odrzucono", required(Count)),
        ("Odrzucone", Odrzucone),
        ("SkrotSHA256", required(Digest)),
        ("Znacznik", Watermark),
        ("Powtorzona", required(Boolean)),
        ("Opublikowano", required(Boolean)),
    ]


class ZasilenieOtwarte(FeedType):
    """A full snapshot being fed and not yet published: its run, last batch number and watermark."""

    _type_info = [
        ("IdZasilenia", required(SourceKey)),
        ("NumerPaczki", required(BatchNumber)),
        ("Znacznik", Watermark),
    ]


class StanRepliki(FeedType):
    """Where a replica stands, so a feeder resumes after the last applied batch (no loss, no duplicates)."""

    _type_info = [
        ("Zbior", required(DataSetCode)),
        ("LiczbaOsob", required(Count)),
        ("Znacznik", Watermark),
        ("IdZasilenia", SourceKey),
        ("NumerPaczki", BatchNumber),
        ("ZasilenieOtwarte", ZasilenieOtwarte),
    ]
