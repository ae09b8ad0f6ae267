"""A new row and its child rows written by one statement (the checkout's order and its lines).

Django writes them as two (Model.save, then bulk_create), each built by the ORM's compiler on every call.
Here the statement is built once per shape (parent model, child model, number of children) and PostgreSQL
prepares it; the values go through each field's own `pre_save` and `get_db_prep_save`, as Django's, and
every placeholder is cast to its column's type (a NULL in a VALUES list has no type of its own). No model
signal is sent: use it only for models that have no save() of their own and no pre_save/post_save receiver.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from django.db import connection
from django.db.models import Model


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
