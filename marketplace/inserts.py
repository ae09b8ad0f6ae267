"""New rows written by one statement: an order and its lines (insert_with_children), and the rows of
several models that a service records on its way (insert() inside a together() block: the checkout's ledger
entry, history row and follow-up).

Django writes each as a statement of its own (Model.save, bulk_create), built by the ORM's compiler on every
call. Here a statement is built once per shape (models and numbers of rows) and PostgreSQL prepares it; the
values go through each field's own `pre_save` and `get_db_prep_save`, as Django's, and every placeholder is
cast to its column's type (a NULL in a VALUES list has no type of its own). No model signal is sent and no
save() of the model's own runs: insert() writes such a model's rows at once, through Django, instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from django.db import connection
from django.db.models import Model, signals


def _fields(model: type[Model], *, skip: str | None = None) -> list:
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and (skip is None or field.name != skip)
    ]


def _cast(field) -> str:
    """The column's type without a varchar's length: an explicit cast to varchar(n) would cut a longer text
    silently, where the INSERT itself refuses it (as save() does)."""
    return re.sub(r"varchar\(\d+\)", "varchar", field.db_type(connection))


def _row(fields) -> str:
    return "(" + ", ".join(f"%s::{_cast(field)}" for field in fields) + ")"


@cache
def _statement(parent: type[Model], child: type[Model], fk: str, count: int) -> str:
    parent_fields, child_fields = _fields(parent), _fields(child, skip=fk)
    parent_pk, child_pk = parent._meta.pk.column, child._meta.pk.column
    fk_column = child._meta.get_field(fk).column
    columns = ", ".join(f'"{field.column}"' for field in child_fields)
    values = ", ".join([_row(child_fields)] * count)
    return f"""
    WITH parent AS (
        INSERT INTO "{parent._meta.db_table}" ({", ".join(f'"{field.column}"' for field in parent_fields)})
        VALUES {_row(parent_fields)} RETURNING "{parent_pk}"
    ), children AS (
        INSERT INTO "{child._meta.db_table}" ("{fk_column}", {columns})
        SELECT parent."{parent_pk}", v.* FROM parent, (VALUES {values}) AS v
        RETURNING "{child_pk}"
    )
    SELECT (SELECT "{parent_pk}" FROM parent), ARRAY(SELECT "{child_pk}" FROM children)
    """  # noqa: S608 - the models' tables and columns


def _values(obj: Model, fields) -> list:
    return [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]


def insert_with_children(parent: Model, children: Sequence[Model], *, fk: str) -> None:
    """Insert the unsaved `parent` and its unsaved `children` (whose foreign key `fk` points at it) in one
    statement, inside the caller's transaction; their primary keys are set, as save() and bulk_create()
    set them (the children's in their order: PostgreSQL inserts the VALUES rows in the order given)."""
    if not children:
        parent.save(force_insert=True)
        return
    parent_fields = _fields(type(parent))
    child_fields = _fields(type(children[0]), skip=fk)
    params = _values(parent, parent_fields)
    for child in children:
        params.extend(_values(child, child_fields))
    with connection.cursor() as cursor:
        cursor.execute(_statement(type(parent), type(children[0]), fk, len(children)), params)
        parent_pk, child_pks = cursor.fetchone()
    parent.pk = parent_pk
    parent._state.adding, parent._state.db = False, connection.alias
    for child, pk in zip(children, child_pks, strict=True):
        child.pk = pk
        setattr(child, fk, parent)
        child._state.adding, child._state.db = False, connection.alias


# The rows insert() was given inside the current together() block, in order; None outside any block.
_deferred: ContextVar[list[Model] | None] = ContextVar("inserts_deferred", default=None)


def _plain(model: type[Model]) -> bool:
    """Whether rows of `model` may be written without Django's save(): no save() of its own, no receiver."""
    return (
        model.save is Model.save
        and not signals.pre_save.has_listeners(model)
        and not signals.post_save.has_listeners(model)
    )


def insert(*objs: Model) -> None:
    """Write these new rows (no primary key yet): at once, through Django, outside a together() block;
    inside one, when the block ends, with every other row it was given, in one statement. Until then their
    primary keys are None: give here only rows that nothing reads before the block ends, and whose foreign
    keys point at rows already written."""
    deferred = _deferred.get()
    if deferred is None or not all(_plain(type(obj)) for obj in objs):
        for model in dict.fromkeys(type(obj) for obj in objs):
            rows = [obj for obj in objs if type(obj) is model]
            if len(rows) == 1:
                rows[0].save(force_insert=True)
            else:
                model.objects.bulk_create(rows)
        return
    deferred.extend(objs)


@contextmanager
def together() -> Iterator[None]:
    """The rows given to insert() inside the block are written as it ends, in one statement (in the
    caller's transaction); nothing is written if the block raises. Blocks do not nest."""
    if _deferred.get() is not None:
        raise RuntimeError("inserts.together() blocks do not nest")
    token = _deferred.set([])
    try:
        yield
        rows = _deferred.get()
    finally:
        _deferred.reset(token)
    if rows:
        _insert_all(rows)


@cache
def _statement_all(shape: tuple[tuple[type[Model], int], ...]) -> str:
    parts, results = [], []
    for number, (model, count) in enumerate(shape):
        fields, pk = _fields(model), model._meta.pk.column
        parts.append(
            f"""t{number} AS (
        INSERT INTO "{model._meta.db_table}" ({", ".join(f'"{field.column}"' for field in fields)})
        VALUES {", ".join([_row(fields)] * count)} RETURNING "{pk}"
    )"""  # noqa: S608 - the models' tables and columns
        )
        results.append(f'ARRAY(SELECT "{pk}" FROM t{number})')  # noqa: S608 - a CTE of this statement
    return f"WITH {', '.join(parts)} SELECT {', '.join(results)}"


def _insert_all(rows: list[Model]) -> None:
    models = list(dict.fromkeys(type(row) for row in rows))
    groups = [[row for row in rows if type(row) is model] for model in models]
    params = []
    for model, group in zip(models, groups, strict=True):
        fields = _fields(model)
        for row in group:
            params.extend(_values(row, fields))
    shape = tuple((model, len(group)) for model, group in zip(models, groups, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(_statement_all(shape), params)
        written = cursor.fetchone()
    for group, pks in zip(groups, written, strict=True):
        for row, pk in zip(group, pks, strict=True):
            row.pk = pk
            row._state.adding, row._state.db = False, connection.alias
