"""``INSERT … ON CONFLICT`` statements, built once per SQL dialect.

SQLite and PostgreSQL both support ``ON CONFLICT``, but SQLAlchemy offers it only on each
dialect's own ``insert``. Hot paths build such a statement once per dialect (its cache key is
then computed once too) and pick the one for the session at hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

from salesflow.db import Database

T = TypeVar("T")
InsertOf = Callable[[Table], SqliteInsert]  # the dialect's insert(table)


def dialect_insert(dialect_name: str, table: Table) -> SqliteInsert:
    """The dialect's ``insert(table)``, the one with ``on_conflict_do_…`` (SQLite unless
    PostgreSQL: the two dialects Salesflow runs on)."""
    return _insert_of(dialect_name)(table)


def dialect_name(target: Any) -> str:
    """``"postgresql"`` or ``"sqlite"`` for a :class:`Database`, session or connection."""
    if isinstance(target, Database):
        return "sqlite" if target.sqlite else "postgresql"
    bind = getattr(target, "bind", None)
    dialect = getattr(bind, "dialect", None) or getattr(target, "dialect", None)
    return "postgresql" if dialect is not None and dialect.name == "postgresql" else "sqlite"


class PerDialect(Generic[T]):
    """A statement built by ``build(insert)`` once for each dialect, on first use.

    ``build`` gets the dialect's ``insert`` function::

        _RESERVE = PerDialect(lambda insert: insert(KEYS).on_conflict_do_nothing())
        stmt = _RESERVE.of(session)
    """

    def __init__(self, build: Callable[[InsertOf], T]) -> None:
        self._build = build
        self._built: dict[str, T] = {}

    def __call__(self, name: str) -> T:
        key = "postgresql" if name == "postgresql" else "sqlite"
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._build(_insert_of(key))
        return built

    def of(self, target: Any) -> T:
        """The statement for a :class:`Database`, session or connection."""
        return self(dialect_name(target))


def _insert_of(name: str) -> InsertOf:
    return postgresql.insert if name == "postgresql" else sqlite.insert  # type: ignore[return-value]
