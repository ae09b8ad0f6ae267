"""A local double of the part of Stripe's API that Étal uses, for development and tests.

double = StripeDouble(webhook_url="http://localhost:8000/stripe/webhook/").start()
client = stripe.StripeClient("sk_test_double", base_addresses={"api": double.url, "connect": double.url})
"""

from .server import StripeDouble

__all__ = ["StripeDouble"]
