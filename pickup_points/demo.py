"""Demo data of this app for `manage.py seed_demo`; must be idempotent (running it twice adds nothing)."""

from __future__ import annotations


def seed(*, collective, accounts: dict) -> None:
    """Called inside the collective's schema. `accounts` maps the demo e-mails to their User objects."""
