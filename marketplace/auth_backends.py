"""Django's and allauth's authentication backends, with the account of a signed-in request read by one plain
statement (marketplace.rows) instead of the ORM's query, built on every signed-in request: the same row, the
same answer (None for an account that does not exist or may not sign in). When the request's session row
named that account, its row came with the session (marketplace.sessions) and is not read again."""

from __future__ import annotations

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends
from django.core.exceptions import ValidationError
from django.db import connection

from marketplace import rows, sessions
from marketplace.models import User

_USER = f"SELECT {rows.columns(User, 'u')} FROM {User._meta.db_table} u WHERE u.id = %s"  # noqa: S608


class _UserRead:
    def get_user(self, user_id):
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        store = sessions.looked_up.get()
        row = store.account(pk) if isinstance(store, sessions.SessionStore) else None
        if row is None:
            with connection.cursor() as cursor:
                cursor.execute(_USER, [pk])
                row = cursor.fetchone()
        user = None if row is None else rows.instance(User, row)
        return user if user is not None and self.user_can_authenticate(user) else None  # type: ignore[attr-defined]


class ModelBackend(_UserRead, backends.ModelBackend):
    """django.contrib.auth's ModelBackend (the sign-in by e-mail and password, a join's first sign-in)."""


class AuthenticationBackend(_UserRead, allauth_backends.AuthenticationBackend):
    """allauth's backend (members sign in by e-mail)."""
