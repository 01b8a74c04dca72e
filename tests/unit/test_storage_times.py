"""Times stored in the hub's database come back with their offset (UTC), as they went in.

SQLite's DATETIME keeps no offset: a case's DataZlozenia went out with +00:00 from ZlozWniosek and without one
(local time of no known zone) from the inboxes and the CLI; each reader added UTC back by hand, or did not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from hub.storage.documents import TemplateVersion
from hub.storage.tables import User, hub_engine

WARSAW_WINTER = dt.timezone(dt.timedelta(hours=1))


def test_a_stored_time_comes_back_aware_and_in_utc(tmp_path: Path) -> None:
    engine = hub_engine(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    moment = dt.datetime(2026, 12, 4, 10, 30, 15, 120000, tzinfo=WARSAW_WINTER)
    with Session(engine) as session, session.begin():
        session.add(
            TemplateVersion(
                document_type="T", version=1, xsd="", xsl="", metadata_json="{}", author="a", created=moment
            )
        )
        session.add(
            User(
                login="u", office="PUP", group="G", name="", password_hash="x", roles="", active=True,
                locked=True, locked_until=moment, failed_attempts=0, must_change_password=False, version=1,
            )
        )  # fmt: skip
    with Session(engine) as session:
        created = session.query(TemplateVersion).one().created
        until = session.get(User, "u").locked_until  # type: ignore[union-attr]
    for value in (created, until):
        assert value is not None and value.utcoffset() == dt.timedelta(0)
        assert value == moment  # the same instant
    engine.dispose()
