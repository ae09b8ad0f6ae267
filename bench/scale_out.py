"""Scale out, shown: web servers and Celery workers as separate hosts against one PostgreSQL and one Redis.

Each "host" is a Linux network namespace of this machine with its own address on a bridge (10.199.47.0/24
by default; BENCH_SCALE_NET=a.b.c to choose another): web1 .11, web2 .12, work1 .21, work2 .22. PostgreSQL
and Redis listen on 127.0.0.1 only, so the host (.1) forwards their ports with socat: every byte between an
application host and the database crosses a network interface, as between real machines. Each host gets one
CPU of this machine (taskset): web1 and work1 the first, web2 and work2 the second, so "two hosts" has twice
the application CPU of one, while PostgreSQL, Redis, socat and the load client share both CPUs (on real
hosts they would be elsewhere: the figures here understate the gain).

Measured, with one and with two of each:

- the member path (order_load.py's members and client: sale page, cart POST, checkout POST),
  BENCH_SCALE_CLIENTS concurrent clients (default 16) spread over the web hosts as a load balancer would, in
  orders/s; its floor is the trivial page /sante/ through the same hosts (requests/s); ratio orders/s ÷ floor;
- the close of a sale of BENCH_SCALE_CLOSE_ORDERS orders (default 500; close_load.py's collective) and its
  PDF sheets rendered by 1 or 2 worker hosts (close_workers.py's close_and_wait), in seconds; its floor is the
  plain WeasyPrint table of the same lines, split over as many processes as workers, one per CPU.

Needs root (namespaces), `ip` (iproute2) and socat: scripts/system-deps.sh installs them; without them the
script says so and skips. The namespaces, the bridge and the forwarders are removed at the end, also after
a failure or Ctrl-C (and leftovers of an interrupted run are removed first).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PREFIX = "etso"
NET = os.environ.get("BENCH_SCALE_NET", "10.199.47")
HOSTS = {"web1": 11, "web2": 12, "work1": 21, "work2": 22}
CPU = {"web1": 0, "web2": 1, "work1": 0, "work2": 1}
BRIDGE = f"{PREFIX}-br"
WEB_PORT = 8000
CLIENTS = int(os.environ.get("BENCH_SCALE_CLIENTS", "16"))
WEB_WORKERS = int(os.environ.get("BENCH_SCALE_WEB_WORKERS", "2"))  # gunicorn processes per web host
CLOSE_ORDERS = os.environ.get("BENCH_SCALE_CLOSE_ORDERS", "500")
DATABASE = "etal_bench_scale"


def address(host: str) -> str:
    return f"{NET}.{HOSTS[host]}"


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True)


# The network --------------------------------------------------------------------------------------------


def network_down() -> None:
    """Remove whatever a run of this script left: processes in our namespaces, the namespaces, the bridge."""
    names = [line.split()[0] for line in sh("ip", "netns", "list", check=False).stdout.splitlines() if line]
    for name in names:
        if not name.startswith(f"{PREFIX}-"):
            continue
        for pid in sh("ip", "netns", "pids", name, check=False).stdout.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        sh("ip", "netns", "del", name, check=False)
    sh("ip", "link", "del", BRIDGE, check=False)


def network_up() -> None:
    if f" {NET}." in sh("ip", "-4", "addr").stdout or f"{NET}.0/24" in sh("ip", "route").stdout:
        raise RuntimeError(f"{NET}.0/24 is in use on this machine: set BENCH_SCALE_NET to a free a.b.c")
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{NET}.1/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    for host in HOSTS:
        namespace, outside, inside = f"{PREFIX}-{host}", f"{PREFIX}-{host}-h", f"{PREFIX}-{host}-n"
        sh("ip", "netns", "add", namespace)
        sh("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
        sh("ip", "link", "set", inside, "netns", namespace)
        sh("ip", "link", "set", outside, "master", BRIDGE, "up")
        sh("ip", "-n", namespace, "addr", "add", f"{address(host)}/24", "dev", inside)
        sh("ip", "-n", namespace, "link", "set", inside, "up")
        sh("ip", "-n", namespace, "link", "set", "lo", "up")


def forward(port: int, target: tuple[str, int]) -> subprocess.Popen:
    """socat on the host: NET.1:port → the service on 127.0.0.1 (it listens there only)."""
    process = subprocess.Popen(
        [
            "socat",
            f"TCP-LISTEN:{port},bind={NET}.1,fork,reuseaddr,nodelay",
            f"TCP:{target[0]}:{target[1]},nodelay",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(f"{NET}.1", port)
    return process


def wait_for_port(host: str, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on {host}:{port}")


def on_host(host: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
    """A process on one of our hosts: in its namespace, on its CPU."""
    return subprocess.Popen(
        ["ip", "netns", "exec", f"{PREFIX}-{host}", "taskset", "-c", str(CPU[host]), *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def app_env() -> dict[str, str]:
    """What a process on an application host sees: the database and Redis through the host's address."""
    spec = json.loads(os.environ["ETAL_SCALE"])
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "DATABASE_URL": spec["database_url"],
        "REDIS_URL": spec["redis_url"],
        "CONN_MAX_AGE": "60",  # as in production (config/settings/production.py)
    }


# Phase 1: the member path -------------------------------------------------------------------------------


def member_phase() -> None:
    import http.client
    import random
    import threading
    from datetime import timedelta

    import order_load  # sets Django up on the benchmark database (see _setup.py)
    from _setup import report
    from django.db import connection
    from django.utils import timezone

    from orders.models import Order, Sale
    from orders.sales import services as sale_services

    sale_id, offers, slots, emails = order_load.setup()
    first = Sale.objects.get(pk=sale_id)
    env = app_env()

    def web_start(host: str) -> subprocess.Popen:
        process = on_host(
            host,
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--preload", "-w", str(WEB_WORKERS)]
            + ["-b", f"{address(host)}:{WEB_PORT}", "--timeout", "120", "--log-level", "warning"],
            env,
        )
        wait_for_port(address(host), WEB_PORT, timeout=60)
        deadline = time.monotonic() + 180  # every worker answers before anything is measured
        answered = 0
        while answered < 2 * WEB_WORKERS:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{host} does not answer /sante/")
            try:
                check = http.client.HTTPConnection(address(host), WEB_PORT, timeout=60)
                check.request("GET", "/sante/", headers={"Host": order_load.HOST})
                answered += check.getresponse().status == 200
                check.close()
            except OSError:
                time.sleep(0.5)
        return process

    def browsers_for(hosts: list[str]) -> list[order_load.Browser]:
        result = []
        for index, email in enumerate(emails):
            browser = order_load.Browser(WEB_PORT)
            browser.conn = http.client.HTTPConnection(
                address(hosts[index % len(hosts)]), WEB_PORT, timeout=60
            )
            browser.email = email  # type: ignore[attr-defined]
            result.append(browser)
        return result

    def in_threads(work, items: list) -> float:
        lock = threading.Lock()
        todo = list(items)
        errors: list[BaseException] = []

        def loop():
            while True:
                with lock:
                    if not todo or errors:
                        return
                    item = todo.pop()
                try:
                    work(item)
                except Exception as error:  # noqa: BLE001 - raised again below, once every thread stopped
                    errors.append(error)

        threads = [threading.Thread(target=loop) for _ in range(CLIENTS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return time.perf_counter() - started

    def floor_round(browsers: list) -> float:
        """Requests/s of the trivial page /sante/ through the same hosts and clients."""

        def trivial(browser):
            for _ in range(30):
                browser.request("GET", "/sante/")

        some = browsers[: CLIENTS * 2]
        took = in_threads(trivial, some)
        return 30 * len(some) / took

    def member_round(browsers: list, sale: int, offers: list[int], slots: list[int]):
        """Each member places one order (order_load.py's path); (orders/s, seconds, outcomes)."""
        rng = random.Random(47)
        scarce = offers[::10]
        outcomes = {"placed": 0, "refused": 0, "error": 0}
        lock = threading.Lock()

        def member(browser):
            with lock:
                wanted = rng.sample(offers, 4) + [rng.choice(scarce)]
                slot = rng.choice(slots)
                cart = {f"qty_{offer}": rng.randint(1, 2) for offer in wanted}
            browser.request("GET", f"/ventes/{sale}/")
            status, _ = browser.request("POST", f"/ventes/{sale}/", cart)
            if status != 302:  # as order_load.py counts it: the cart refused (sold out)
                with lock:
                    outcomes["refused"] += 1
                return
            status, _ = browser.request(
                "POST", f"/ventes/{sale}/commander/", {"slot": slot, "payment_method": "cash"}
            )
            with lock:
                if status == 302 and "/commandes/" in browser.location:
                    outcomes["placed"] += 1
                elif status == 400:
                    outcomes["refused"] += 1
                else:
                    outcomes["error"] += 1

        took = in_threads(member, browsers)
        return outcomes["placed"] / took, took, outcomes

    def sale_for_round(index: int) -> tuple[int, list[int], list[int]]:
        """Round 1 uses order_load's sale; round 2 a copy a day later, with the same stock to race for."""
        if index == 0:
            return sale_id, offers, slots
        later = timedelta(days=index)
        copy = sale_services.sale_duplicate(
            sale=first,
            title=f"Vente bench {index + 1}",
            opens_at=timezone.now() - timedelta(hours=1),
            closes_at=first.closes_at + later,
            distribution_starts_at=first.distribution_starts_at + later,
            distribution_ends_at=first.distribution_ends_at + later,
        )
        sale_services.sale_publish(sale_id=copy.pk)
        return (
            copy.pk,
            list(copy.offers.order_by("pk").values_list("pk", flat=True)),
            list(copy.distribution.slots.values_list("pk", flat=True)),
        )

    results = {}
    servers: list[subprocess.Popen] = []
    try:
        for count, hosts in ((1, ["web1"]), (2, ["web1", "web2"])):
            servers += [web_start(host) for host in hosts[len(servers) :]]
            connection.set_schema("c_bench")
            round_sale, round_offers, round_slots = sale_for_round(count - 1)
            connection.set_schema_to_public()
            browsers = browsers_for(hosts)
            took = in_threads(lambda browser: browser.login(browser.email), browsers)
            print(f"{count} web host(s): {len(browsers)} members signed in in {took:.1f} s", flush=True)
            floor_rate = floor_round(browsers)
            rate, took, outcomes = member_round(browsers, round_sale, round_offers, round_slots)
            results[count] = (rate, floor_rate, outcomes)
            print(
                f"{count} web host(s) × {WEB_WORKERS} gunicorn workers, {CLIENTS} clients: "
                f"{outcomes['placed']} orders placed, {outcomes['refused']} refused (sold out), "
                f"{outcomes['error']} errors in {took:.1f} s: {rate:.2f} orders/s; "
                f"floor /sante/ {floor_rate:.0f} requests/s",
                flush=True,
            )
    finally:
        stop(servers)
        from config.celery import app

        app.control.purge()  # the confirmation e-mails nobody sends here

    connection.set_schema("c_bench")
    errors = sum(outcome["error"] for _rate, _floor, outcome in results.values())
    placed = Order.objects.filter(status=Order.Status.PLACED).count()
    print(f"orders in the database: {placed}; errors: {errors}")
    for count, (rate, floor_rate, _outcomes) in results.items():
        report(
            f"scale-out: member path, {count} web host(s), {CLIENTS} clients",
            f"{rate:.2f} orders/s",
            f"/sante/ {floor_rate:.0f} req/s",
            rate / floor_rate,
        )
    one, two = results[1][0], results[2][0]
    report("scale-out: member path, 2 web hosts ÷ 1", f"{two / one:.2f}×", "2× (ideal)", two / one / 2)
    if errors:
        raise SystemExit(1)


# Phase 2: the close and its sheets ----------------------------------------------------------------------


def close_phase() -> None:
    import random

    import close_load  # sets Django up on the benchmark database (see _setup.py)
    import close_workers
    from _setup import report

    from config.celery import app
    from orders.models import Order, OrderLine

    env = app_env()
    rng = random.Random(47)
    orders = max(close_load.SIZES)
    users, farms, points = close_load.collective_setup()
    app.control.purge()
    results = {}
    for count, hosts in ((1, ["work1"]), (2, ["work1", "work2"])):
        sale_id, lines = close_load.sale_with_orders(orders, users, farms, points, rng)
        workers = [
            on_host(
                host,
                [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "sheets", "-c", "1"]
                + ["-n", f"render{index}@{host}", "-l", "warning", "--without-gossip", "--without-mingle"],
                env,
            )
            for index, host in enumerate(hosts)
        ]
        try:
            deadline = time.monotonic() + 240  # a loaded machine takes its time to start Celery
            while time.monotonic() < deadline:
                answers = app.control.ping(timeout=1) or []
                if len([a for a in answers if any(name.startswith("render") for name in a)]) >= count:
                    break
            else:
                raise RuntimeError("the rendering workers did not answer")
            took, sheets, pages = close_workers.close_and_wait(sale_id)
        finally:
            stop(workers)
        kept = OrderLine.objects.filter(order__sale_id=sale_id, order__status=Order.Status.PLACED).count()
        floor_s = parallel_floor(close_load, kept, count)
        results[count] = (took, floor_s)
        print(
            f"{count} worker host(s): close + {sheets} sheets ({pages} pages) of {orders} orders in "
            f"{took:.1f} s; floor (plain table of {kept} lines over {count} process(es)) {floor_s:.1f} s",
            flush=True,
        )
    app.control.purge()
    for count, (took, floor_s) in results.items():
        report(
            f"scale-out: close + sheets of {orders} orders, {count} worker host(s)",
            f"{took:.1f} s",
            f"plain table ×{count} {floor_s:.1f} s",
            took / floor_s,
        )
    one, two = results[1][0], results[2][0]
    report("scale-out: close time, 2 worker hosts ÷ 1", f"{two / one:.2f}×", "0.5× (ideal)", two / one / 0.5)


def parallel_floor(close_load, rows: int, count: int) -> float:
    """WeasyPrint's plain table of `rows` lines split over `count` forked processes, one per CPU."""
    from django.db import connection

    connection.close()
    started = time.perf_counter()
    children = []
    for index in range(count):
        pid = os.fork()
        if pid == 0:
            os.sched_setaffinity(0, {index % (os.cpu_count() or 1)})
            close_load.floor(rows // count + (index < rows % count))(0)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    return time.perf_counter() - started


# The conductor ------------------------------------------------------------------------------------------


def _netloc(url, port: int) -> str:
    """The URL's user (and password) at the bridge's host address."""
    user, _at, _host = url.netloc.rpartition("@")
    return f"{user}@{NET}.1:{port}" if user else f"{NET}.1:{port}"


def skip_reason() -> str:
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not urlsplit(os.environ.get(name, "")).hostname:
            return f"needs PostgreSQL and Redis over TCP ({name} with a host)"
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    missing = [tool for tool in ("ip", "socat", "taskset") if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)} (scripts/system-deps.sh installs iproute2 and socat)"
    if sh("ip", "netns", "list", check=False).returncode != 0:
        return "this machine refuses network namespaces"
    return ""


def main() -> None:
    reason = skip_reason()
    if reason:
        print(f"scale_out: skipped, {reason}")
        from _setup import report

        report("scale-out: web and worker hosts", "skipped", "", reason)
        return
    database = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/etal"))
    redis = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    db_target = (database.hostname or "127.0.0.1", database.port or 5432)
    redis_target = (redis.hostname or "127.0.0.1", redis.port or 6379)
    spec = {
        "database_url": urlunsplit(
            database._replace(netloc=_netloc(database, db_target[1]), path=f"/{DATABASE}")
        ),
        "redis_url": urlunsplit(redis._replace(netloc=_netloc(redis, redis_target[1]))),
    }
    env = {
        **os.environ,
        "ETAL_SCALE": json.dumps(spec),
        "ETAL_BENCH_DATABASE": DATABASE,
        "BENCH_CLOSE_ORDERS": CLOSE_ORDERS,
        # order_load.py's members (each signs in, then orders once per round): fewer than its 240 by default,
        # since each host here has one CPU
        "BENCH_MEMBERS": os.environ.get("BENCH_MEMBERS", "120"),
    }

    def interrupted(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, interrupted)
    network_down()  # what an interrupted run may have left
    forwarders: list[subprocess.Popen] = []
    failed = 0
    try:
        network_up()
        forwarders = [forward(db_target[1], db_target), forward(redis_target[1], redis_target)]
        print(
            f"hosts: {', '.join(f'{host} {address(host)} (CPU {CPU[host]})' for host in HOSTS)}; "
            f"PostgreSQL and Redis through {NET}.1",
            flush=True,
        )
        for phase in ("member", "close"):
            failed |= subprocess.run([sys.executable, "-u", __file__, phase], cwd=HERE, env=env).returncode
    finally:
        stop(forwarders)
        network_down()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        {"member": member_phase, "close": close_phase}[sys.argv[1]]()
    else:
        main()
