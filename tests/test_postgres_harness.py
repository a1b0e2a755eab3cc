"""The Postgres harness: SQLAlchemy 2 over psycopg 3 against a throwaway server."""

from __future__ import annotations

import pytest
from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from orgtwin.testing.postgres import LocalPostgres

pytestmark = pytest.mark.integration


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


def test_write_and_read_through_sqlalchemy_and_psycopg3(pg_url: str) -> None:
    engine = create_engine(pg_url)
    assert engine.dialect.driver == "psycopg"
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add_all([Note(text="first"), Note(text="second")])
    with Session(engine) as session:
        texts = session.scalars(select(Note.text).order_by(Note.id)).all()
    assert texts == ["first", "second"]
    engine.dispose()


def test_data_survives_a_restart(postgres: LocalPostgres, pg_url: str) -> None:
    engine = create_engine(pg_url, pool_pre_ping=True)
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add(Note(text="kept"))
    postgres.restart()
    with Session(engine) as session:
        assert session.scalars(select(Note.text)).all() == ["kept"]
    engine.dispose()
