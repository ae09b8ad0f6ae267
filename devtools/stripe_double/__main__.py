"""python -m devtools.stripe_double --port 12111 --webhook-url http://localhost:8000/stripe/webhook/"""

from __future__ import annotations

import argparse
import signal
import threading

from .server import StripeDouble


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.stripe_double", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", default=None, help="where events are POSTed (none: not delivered)")
    parser.add_argument("--webhook-secret", default="whsec_double")
    parser.add_argument("--public-url", default=None, help="base of the hosted-page URLs given to browsers")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)

    double = StripeDouble(
        host=args.host,
        port=args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        public_url=args.public_url,
        verbose=args.verbose,
    )
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    double.start()
    print(f"Stripe double listening on {double.url} (hosted pages at {double.public_url})", flush=True)
    stopping.wait()
    double.stop()


if __name__ == "__main__":
    main()
