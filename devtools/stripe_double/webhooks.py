"""Webhook delivery, signed as Stripe signs: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256("<t>.<body>")>`.

One worker thread delivers in order. Switches let tests provoke what Stripe may do in production: deliver
an event twice, hold events back, deliver them newest first, or late.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.request

MODES = ("normal", "twice", "reverse", "hold")
ATTEMPTS = 4  # the first delivery and up to three retries
BACKOFF = 0.1  # seconds before the first retry, doubled for each further one
TIMEOUT = 10


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class Dispatcher:
    def __init__(self, url: str | None, secret: str):
        self.url = url
        self.secret = secret
        self.mode = "normal"
        self.delay = 0.0
        self.held: list[dict] = []
        self.deliveries: list[tuple[str, int]] = []
        self._queue: queue.Queue = queue.Queue()
        self._cond = threading.Condition()
        self._pending = 0
        self._generation = 0  # reset() bumps it so that queued deliveries from before are dropped
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stripe-double-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def set_mode(self, mode: str = "normal", delay: float = 0.0) -> None:
        if mode not in MODES:
            raise ValueError(f"Unknown delivery mode {mode!r}; expected one of {', '.join(MODES)}")
        with self._cond:
            self.mode = mode
            self.delay = float(delay)

    def submit(self, event: dict) -> None:
        """Called for every new event, in creation order."""
        if self.url is None:
            return
        with self._cond:
            if self.mode in ("hold", "reverse"):
                self.held.append(event)
                return
            copies = 2 if self.mode == "twice" else 1
            self._pending += copies
            for _ in range(copies):
                self._queue.put((self._generation, event, self.delay))

    def flush(self) -> int:
        """Deliver the held events now, in the calling thread: newest first in "reverse" mode."""
        with self._cond:
            held, self.held = self.held, []
            newest_first = self.mode == "reverse"
            delay = self.delay
        for event in reversed(held) if newest_first else held:
            time.sleep(delay)
            self._deliver(event)
        return len(held)

    def wait_idle(self, timeout: float = 10) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def reset(self) -> None:
        with self._cond:
            self._generation += 1
            self.mode, self.delay = "normal", 0.0
            self.held.clear()
            self.deliveries.clear()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            generation, event, delay = item
            try:
                if generation == self._generation:
                    time.sleep(delay)
                    self._deliver(event)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _deliver(self, event: dict) -> bool:
        body = json.dumps(event, indent=2).encode()
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(BACKOFF * 2 ** (attempt - 1))
            request = urllib.request.Request(  # noqa: S310 - the URL is the configured webhook endpoint
                self.url,
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    "Stripe-Signature": sign(body, self.secret),
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except (urllib.error.URLError, OSError):
                status = 0  # connection refused or timed out
            with self._cond:
                self.deliveries.append((event["id"], status))
            if 200 <= status < 300:
                return True
        return False
