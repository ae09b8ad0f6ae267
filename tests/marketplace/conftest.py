"""The orders' market (a sale with offers and slots in `alpha`) for the operator's tests (checkout, admin)."""

from tests.orders.conftest import in_alpha, market  # noqa: F401  (fixtures)
