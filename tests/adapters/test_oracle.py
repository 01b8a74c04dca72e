"""Oracle has no server here: the adapters' queries and reference DDL must compile for Oracle 19c.

python-oracledb's thin mode needs no client libraries; SQLAlchemy compiles without a connection but
assumes the newest Oracle unless told the server version (STACK.md), so the dialect is set to 19c.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import oracle
from sqlalchemy.schema import CreateIndex, CreateTable

from adapters import adapter_class


def oracle_19c() -> Any:
    dialect = oracle.dialect()
    dialect.server_version_info = (19, 0, 0, 0, 0)
    dialect._supports_offset_fetch = True
    return dialect


def compiled(statement: Any) -> str:
    return str(statement.compile(dialect=oracle_19c(), compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("name", ["pup", "ops", "sr"])
def test_reading_queries_compile_for_oracle_19c(name: str) -> None:
    adapter = adapter_class(name)("oracle+oracledb://zasilacz@db:1521/?service_name=DZIEDZINA", connect=False)  # type: ignore[call-arg]
    key = adapter.key_column
    people = select(key.label("_klucz"), *adapter.person_columns()).where(adapter.in_data_set(), key > 100)
    sql = compiled(people.order_by(key).limit(1000))
    assert "FETCH FIRST 1000 ROWS ONLY" in sql and "LIMIT" not in sql
    for child in adapter.children():
        query = select(child.person.label("_osoba"), *child.columns).select_from(child.from_)
        sql = compiled(query.where(child.person.between(1, 1000)).order_by(child.person, *child.order_by))
        assert "BETWEEN 1 AND 1000" in sql
    sql = compiled(adapter.people_query([3, 5, 8]))
    assert "CASE WHEN" in sql and "IN (3, 5, 8)" in sql and "= 0 AS" not in sql
    since, until = dt.datetime(2026, 11, 1, 12), dt.datetime(2026, 11, 25, 8)
    changed = adapter.changed_keys(since, until).subquery("zmienione")
    sql = compiled(select(changed.c.k).where(changed.c.k > 5).order_by(changed.c.k).limit(500))
    assert "UNION" in sql and "FETCH FIRST 500 ROWS ONLY" in sql and "'2026-11-01 12:00:00'" in sql


@pytest.mark.parametrize("name", ["pup", "ops", "sr"])
def test_reference_schema_ddl_compiles_for_oracle_with_a_schema_owner(name: str) -> None:
    override = {"source": {"schema": "syriusz"}}  # lower case: case-insensitive, i.e. SYRIUSZ in Oracle
    adapter = adapter_class(name)("oracle+oracledb://x@db/?service_name=X", override, connect=False)  # type: ignore[call-arg]
    dialect = oracle_19c()
    for table in adapter.metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=dialect))
        assert ddl.startswith("\nCREATE TABLE syriusz.")
        if "data_modyfikacji" in ddl:  # sub-second change stamps: TIMESTAMP, not Oracle's DATE
            assert "data_modyfikacji TIMESTAMP NOT NULL" in ddl
        for index in table.indexes:
            assert "syriusz." in str(CreateIndex(index).compile(dialect=dialect))
