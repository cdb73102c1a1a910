#!/usr/bin/env python3
"""`make bench`, third part (PostgreSQL): webhook deliveries, against a floor relay measured in the same run.

1. Burst: one reseller, two webhooks on all event types — one to a fast local receiver (answers 204 at once, HTTP/1.1
   kept alive), one to a receiver that answers each delivery after 9.5 s. 8 clients create BENCH_WEBHOOK_CHANGES
   customers (1000); for each `customer.created` the fast receiver gets, the delay from the create's answer (its
   commit) to the delivery's arrival: p50, p99; the slow receiver beside it must not hold the fast one back.
2. Paced: 100 creates 50 ms apart, the delay when nothing queues (issue 32's target: p50 <= 5 ms, p99 <= 20 ms);
   then 100 more sent to a second replica on the same database (§13: p99 <= 100 ms from any replica).
3. Throughput against the floor, BENCH_WEBHOOK_ROUNDS (7) interleaved rounds: the fast webhook disabled, 1000 creates make
   a backlog; then the service drains it (the webhook enabled again) and the floor relay (bench/webhook_floor.rs: reads
   the same events in order, POSTs each signed, one at a time, records its place) drains the same events to a receiver
   of its own — the service first in odd rounds, the floor first in even ones, each after a CHECKPOINT. Deliveries
   per second, first to last arrival; the ratio of the medians (target >= 0.8).
4. Idle cost: PostgreSQL transactions in 10 s (pg_stat_database) of a server with no webhook, then with 1,000 enabled
   webhooks (50 owners x 20) that have nothing to deliver (target: <= 2 and <= 20).

Standard library only. Appends its table to target/bench-results.md (or BENCH_OUTPUT).
"""
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import run as bench
import writes

CHANGES = int(os.environ.get("BENCH_WEBHOOK_CHANGES", "1000"))
CLIENTS = 8
PACED = 100
# A drain takes 1-2 s and its rate moves by a third from one to the next on this machine: more rounds than the other
# parts (they cost seconds), and the ratio taken per round as well as of the medians.
ROUNDS = int(os.environ.get("BENCH_WEBHOOK_ROUNDS", "7"))
WEBHOOK_FLOOR = bench.TARGET / "release" / "examples" / "webhook_floor"
IDLE_SECONDS = 10


# Commit-to-delivery delays (ms) of each measure, written to target/bench-webhooks.json for bench/plots.py.
DELAYS = {}


def receiver(delay_s):
    """A receiver on a free port: records (arrival time, payload) of each request; answers 204 after `delay_s`."""
    arrivals = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # connections kept alive, for the service and the floor alike

        def do_POST(self):  # noqa: N802 (the handler's name)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                arrivals.append((time.perf_counter(), json.loads(body)))
            time.sleep(delay_s)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a relay killed mid-connection (the floor, at the end of its drain) resets it: not a failure

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/hooks", arrivals


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def patch(url, token, version, operations):
    req = urllib.request.Request(url, data=json.dumps(operations).encode(), method="PATCH")
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json-patch+json")
    req.add_header("If-Match", f'"{version}"')
    with urllib.request.urlopen(req) as response:
        return json.loads(response.read())


def create_customers(server, token, count, prefix):
    """`count` customers from CLIENTS clients: each one's id and when its create was answered."""
    answered = {}

    def create(index):
        created = bench.request("POST", f"{server.url}/api/v1.0/customers", token, {"name": f"{prefix} {index}"})
        answered[created["data"]["id"]] = time.perf_counter()

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(create, range(count)))
    return answered


def wait_for(arrivals, customers, seconds):
    """The first arrivals of `customers`' creates, once all came or after `seconds`. It reads only the arrivals
    new since its last look (the receiver's thread shares the interpreter: a wait must cost the same whichever
    receiver it watches and however many arrivals that one has kept)."""
    deadline = time.perf_counter() + seconds
    wanted, firsts, seen = set(customers), {}, 0
    while True:
        for at, payload in arrivals[seen:len(arrivals)]:
            seen += 1
            if payload.get("type") == "customer.created" and payload["id"] in wanted:
                firsts.setdefault(payload["id"], at)
        if len(firsts) == len(wanted) or time.perf_counter() >= deadline:
            return firsts
        time.sleep(0.01)


def rate(firsts, customers):
    times = sorted(firsts[c] for c in customers if c in firsts)
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def head(url):
    return int(writes.psql(url, "SELECT COALESCE(MAX(seq), 0) FROM pbx_events"))


def deliveries(server, url, token):
    """Parts 1 to 3 on one server and database."""
    fast, fast_url, fast_arrivals = receiver(0)
    slow, slow_url, slow_arrivals = receiver(9.5)
    floored, floor_url, floor_arrivals = receiver(0)
    rows = []
    try:
        hooks = {}
        for name, target in [("fast", fast_url), ("slow", slow_url)]:
            created = bench.request("POST", f"{server.url}/api/v1.0/webhooks", token, {"name": name, "url": target})
            hooks[name] = created["data"]["id"]
        fast_path = f"{server.url}/api/v1.0/webhooks/{hooks['fast']}"

        started = time.perf_counter()
        answered = create_customers(server, token, CHANGES, "Bench")
        burst = time.perf_counter() - started
        firsts = wait_for(fast_arrivals, answered, 120)
        delays = DELAYS["burst"] = [(firsts[c] - answered[c]) * 1000 for c in answered if c in firsts]
        rows += [
            ("burst: creates (8 clients), all answered in", f"{burst:.2f} s ({CHANGES / burst:.0f}/s)"),
            ("burst: deliveries to the fast receiver", f"{len(delays)} of {CHANGES}"),
            ("burst: deliveries per second to it (first to last arrival)", f"{rate(firsts, answered):.0f}"),
            ("burst: commit to delivery, p50 / p99 / max",
             f"{statistics.median(delays):.1f} / {percentile(delays, 0.99):.1f} / {max(delays):.1f} ms"),
        ]

        def paced(base, what):
            """PACED creates 50 ms apart sent to `base`: the row of their delays from commit to delivery."""
            answered = {}
            for index in range(PACED):
                created = bench.request("POST", f"{base}/api/v1.0/customers", token, {"name": f"{what} {index}"})
                answered[created["data"]["id"]] = time.perf_counter()
                time.sleep(0.05)
            firsts = wait_for(fast_arrivals, answered, 30)
            delays = DELAYS[what] = [(firsts[c] - answered[c]) * 1000 for c in answered if c in firsts]
            return (f"{statistics.median(delays):.2f} / {percentile(delays, 0.99):.2f} ms "
                    f"({len(delays)} of {PACED})")

        rows.append((f"paced: {PACED} creates 50 ms apart, commit to delivery, p50 / p99", paced(server.url, "Paced")))
        # The same, the creates sent to another replica (the same database, the same keys; every replica follows
        # every commit, so that replica's own deliverer may take the webhook).
        other = bench.Server("replica", server.data_dir, url, {"PBX_WEBHOOKS_ALLOW_PRIVATE": "true"})
        other.start()
        try:
            rows.append(("paced, the creates on another replica, commit to delivery, p50 / p99",
                         paced(other.url, "Other")))
        finally:
            other.stop()

        version = 1
        service_rates, floor_rates = [], []

        def drain_service(backlog):
            nonlocal version
            patch(fast_path, token, version, [{"op": "replace", "path": "/enabled", "value": True}])
            version += 1
            service_rates.append(rate(wait_for(fast_arrivals, backlog, 120), backlog))

        def drain_floor(backlog, before):
            floor = subprocess.Popen([str(WEBHOOK_FLOOR), url, floor_url, str(before)], stdout=subprocess.PIPE,
                                     text=True)
            try:
                if floor.stdout.readline().strip() != "webhook floor ready":
                    raise RuntimeError("the webhook floor did not start")
                floor_rates.append(rate(wait_for(floor_arrivals, backlog, 120), backlog))
            finally:
                floor.kill()
                floor.wait()

        for round_number in range(1, ROUNDS + 1):
            patch(fast_path, token, version, [{"op": "replace", "path": "/enabled", "value": False}])
            version += 1
            before = head(url)
            backlog = create_customers(server, token, CHANGES, f"Backlog {round_number}")
            # Each drain starts on a settled database (the creates' dirty pages written out), and the first drain of
            # a round alternates: what follows a burst of writes (autovacuum, the WAL writer) falls on each alike.
            drains = [("the service", lambda: drain_service(backlog)),
                      ("the floor", lambda: drain_floor(backlog, before))]
            for who, drain in drains if round_number % 2 else reversed(drains):
                writes.psql(url, "CHECKPOINT")
                bench.log(f"webhooks round {round_number}: {who} drains {len(backlog)} events")
                drain()
        service, floor = statistics.median(service_rates), statistics.median(floor_rates)
        rows += [
            (f"backlog of {CHANGES}: the service, deliveries/s (median of {ROUNDS}; each round)",
             f"{service:.0f} ({', '.join(f'{r:.0f}' for r in service_rates)})"),
            ("the same events: the floor relay, deliveries/s",
             f"{floor:.0f} ({', '.join(f'{r:.0f}' for r in floor_rates)})"),
            ("service / floor relay: of the medians; each round's, their median",
             f"{service / floor:.2f}; {', '.join(f'{a / b:.2f}' for a, b in zip(service_rates, floor_rates))}; "
             f"{statistics.median(a / b for a, b in zip(service_rates, floor_rates)):.2f}"),
            ("deliveries the 9.5 s receiver had started meanwhile", f"{len(slow_arrivals)}"),
        ]
    finally:
        fast.shutdown()
        slow.shutdown()
        floored.shutdown()
    return rows


def idle_cost():
    """Part 4: transactions in IDLE_SECONDS of an idle server with no webhook, then with 1,000 quiet ones."""
    rows = []
    with writes.scratch_database("pbx_bench_idle") as url, tempfile.TemporaryDirectory() as work:
        server = bench.Server("service", Path(work) / "data", url, {"PBX_WEBHOOKS_ALLOW_PRIVATE": "true"})
        server.start()
        try:
            measure = writes.idle_window(url, server, IDLE_SECONDS)

            rows.append((f"idle server, no webhook: a {IDLE_SECONDS} s window", measure()))
            for owner in range(50):
                token = server.token(str(uuid.uuid4()))
                for index in range(20):
                    body = {"name": f"quiet {owner}/{index}", "url": "http://127.0.0.1:9/quiet"}
                    bench.request("POST", f"{server.url}/api/v1.0/webhooks", token, body)
            rows.append((f"1,000 enabled webhooks, nothing to deliver: a {IDLE_SECONDS} s window", measure()))
        finally:
            server.stop()
    return rows


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "pbx-server", "--bin", "pbx-server", "--example",
                    "webhook_floor"], check=True, cwd=bench.ROOT)
    with writes.scratch_database("pbx_bench_webhooks") as url, tempfile.TemporaryDirectory() as work:
        server = bench.Server("service", Path(work) / "data", url, {"PBX_WEBHOOKS_ALLOW_PRIVATE": "true"})
        server.start()
        try:
            rows = deliveries(server, url, server.token())
        finally:
            server.stop()
    rows += idle_cost()
    table = "| webhooks (PostgreSQL) | |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
    print(table)
    output = Path(os.environ.get("BENCH_OUTPUT", "target/bench-results.md"))
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("a") as f:
        f.write("\n" + table)
    (bench.ROOT / "target" / "bench-webhooks.json").write_text(json.dumps({"delivery_delays_ms": DELAYS}, indent=1))


if __name__ == "__main__":
    main()
