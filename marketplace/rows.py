"""A model's rows read by plain SQL (the statements every page or checkout makes, where the ORM's query
building cost more than the database): its columns named one by one, never `*` (statements are prepared on
the server, and a prepared `SELECT *` fails once its table gains a column), and a row made back into an
instance, as the ORM makes it (`Model.from_db`, with the fields' attribute names)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from django.db import connection
from django.db.models import Model


@cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


@cache
def _pk_index(model: type[Model]) -> int:
    return _attnames(model).index(model._meta.pk.attname)


@cache
def each_column(model: type[Model], alias: str) -> tuple[str, ...]:
    """`alias."column"` for every concrete field, in order (to wrap each in an expression)."""
    return tuple(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


@cache
def columns(model: type[Model], alias: str, *, prefix: str = "") -> str:
    """`alias."column", …` for every concrete field, in order; with `prefix`, each `AS "prefixcolumn"` (the
    columns of several models in one row)."""
    named = each_column(model, alias)
    if prefix:
        return ", ".join(
            f'{column} AS "{prefix}{field.column}"'
            for column, field in zip(named, model._meta.concrete_fields, strict=True)
        )
    return ", ".join(named)


def width(model: type[Model]) -> int:
    """How many values of a row `columns(model, …)` takes."""
    return len(_attnames(model))


def instance(model: type[Model], values: Sequence) -> Model | None:
    """The instance from the first `width(model)` values of a row read with `columns(model, …)`; None when
    its primary key is None (a LEFT JOIN that found no row)."""
    names = _attnames(model)
    values = tuple(values[: len(names)])
    if values[_pk_index(model)] is None:
        return None
    return model.from_db(connection.alias, list(names), values)
