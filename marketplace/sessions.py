"""Django's database sessions, with a change of an existing session written as one statement.

Django's own store wraps every save in a transaction (BEGIN, UPDATE, COMMIT: three round trips) so that a
failed INSERT of a new session can be rolled back alone. Updating an existing session needs no such care: in
autocommit one UPDATE is its own transaction, and an UPDATE that finds no row (the session was deleted
meanwhile: a sign-out in another tab) is reported as Django's store reports it (UpdateError, which the session
middleware turns into its « session interrupted » answer). Every member's cart, every message after a form
(messages live in the session) saves the session: two round trips fewer on each of those requests.

A session is read, and changed, with one plain statement each: building the ORM's query was most of the cost
of the read, made on every signed-in request, and of the write, made by every cart.

The row also names the account the session is signed in with (`user_id`, a column of marketplace's migration
0017, written by that UPDATE), and the read brings that account's row along: a signed-in request reads its
session and its account in one statement instead of two. The account is taken from it only for the account
the session's own data names, by the backend that would have read it (marketplace.auth_backends, during
marketplace.middleware.AuthenticationMiddleware's look-up): a session just signed in, whose row was written
by Django's INSERT, or one whose column says otherwise, has its account read as before.

That UPDATE's commit does not wait for the disk (synchronous_commit off for its own transaction, set by
the statement itself: `set_config(..., true)` in its condition, evaluated on the session's row): after a
crash of the database server, the last fraction of a second of session changes may be lost (a cart as it
was, a flash message), never an order, a payment or anything else, whose commits still wait. Measured
here: an autocommit UPDATE 0.94–1.02 ms waiting for the disk, 0.21–0.26 ms without.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, router
from django.utils import timezone

from marketplace import rows
from marketplace.models import User

# The session store of the request whose account is being looked up (marketplace.middleware), if any.
looked_up: ContextVar[SessionStore | None] = ContextVar("sessions_looked_up", default=None)


# The session and the account it names (django_session: Django's Session model's table, in the public schema).
_READ = (
    f"SELECT s.session_data, s.user_id, {rows.columns(User, 'u')} FROM django_session s "  # noqa: S608
    f"LEFT JOIN {User._meta.db_table} u ON u.id = s.user_id WHERE s.session_key = %s AND s.expire_date > %s"
)


def _account_id(value) -> int | None:
    try:
        return None if value is None else User._meta.pk.to_python(value)
    except ValidationError:
        return None


class SessionStore(db.SessionStore):
    # (account id, its row as marketplace.rows reads it) of the account the session row names, read with it.
    account_row: tuple[int, tuple] | None = None

    def _get_session_from_db(self):
        """The session row if it exists and has not expired (as Django's store: otherwise no key), and the
        row of the account it names."""
        with connections[router.db_for_read(self.model)].cursor() as cursor:
            cursor.execute(_READ, [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        self.account_row = (row[1], row[2:]) if row[2] is not None else None
        return self.model(session_key=self.session_key, session_data=row[0])

    def account(self, account_id) -> tuple | None:
        """The row of account `account_id` if it was read with the session (else None: read it)."""
        read = self.account_row
        return read[1] if read is not None and read[0] == _account_id(account_id) else None

    def save(self, must_create: bool = False) -> None:
        using = router.db_for_write(self.model)
        if must_create or self.session_key is None or connections[using].in_atomic_block:
            return super().save(must_create=must_create)
        connection = connections[using]
        table = connection.ops.quote_name(self.model._meta.db_table)
        try:
            with connection.cursor() as cursor:
                data = self._get_session()
                cursor.execute(
                    f"UPDATE {table} SET session_data = %s, expire_date = %s, user_id = %s "  # noqa: S608
                    "WHERE session_key = %s AND set_config('synchronous_commit', 'off', true) = 'off'",
                    [
                        self.encode(data),
                        self.get_expiry_date(),
                        _account_id(data.get(SESSION_KEY)),
                        self._get_or_create_session_key(),
                    ],
                )
                updated = cursor.rowcount
        except DatabaseError as error:
            raise UpdateError from error
        if not updated:
            raise UpdateError
        return None
