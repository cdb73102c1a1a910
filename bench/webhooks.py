#!/usr/bin/env python3
"""`make bench`, third part (PostgreSQL): webhook deliveries. One reseller, two webhooks on all event types: one to
a fast local receiver (answers 204 at once), one to a receiver that answers each delivery after 9.5 s. 8 clients
create BENCH_WEBHOOK_CHANGES customers (1000); for each `customer.created` the fast receiver gets, the delay from the
create's answer (its commit) to the delivery's arrival; p50 and p99, and deliveries per second to the fast receiver
over the burst; then 100 creates 50 ms apart, the delay when nothing queues. The slow receiver beside it must not
hold the fast one back.

Standard library only. Appends its table to target/bench-results.md (or BENCH_OUTPUT).
"""
import json
import os
import statistics
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import run as bench
import writes

CHANGES = int(os.environ.get("BENCH_WEBHOOK_CHANGES", "1000"))
CLIENTS = 8
PACED = 100


def receiver(delay_s):
    """A receiver on a free port: records (arrival time, payload) of each request; answers 204 after `delay_s`."""
    arrivals = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/hooks", arrivals


def first_arrivals(arrivals):
    """The first arrival of each `customer.created`, by customer."""
    firsts = {}
    for at, payload in list(arrivals):
        if payload.get("type") == "customer.created":
            firsts.setdefault(payload["id"], at)
    return firsts


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main():
    with writes.scratch_database("pbx_bench_webhooks") as url, tempfile.TemporaryDirectory() as work:
        server = bench.Server("service", Path(work) / "data", url, {"PBX_WEBHOOKS_ALLOW_PRIVATE": "true"})
        server.start()
        token = server.token()
        fast, fast_url, fast_arrivals = receiver(0)
        slow, slow_url, slow_arrivals = receiver(9.5)
        try:
            for name, target in [("fast", fast_url), ("slow", slow_url)]:
                bench.request("POST", f"{server.url}/api/v1.0/webhooks", token, {"name": name, "url": target})
            answered = {}

            def create(index):
                created = bench.request("POST", f"{server.url}/api/v1.0/customers", token, {"name": f"Bench {index}"})
                answered[created["data"]["id"]] = time.perf_counter()

            started = time.perf_counter()
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(create, range(CHANGES)))
            burst = time.perf_counter() - started
            deadline = time.perf_counter() + 120
            while time.perf_counter() < deadline:
                seen = {p["id"] for _, p in fast_arrivals if p.get("type") == "customer.created"}
                if len(seen) >= CHANGES:
                    break
                time.sleep(0.05)
            firsts = first_arrivals(fast_arrivals)
            delays = [(firsts[c] - answered[c]) * 1000 for c in answered if c in firsts]
            delivered = len(delays)
            arrivals = sorted(firsts.values())
            rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0
            # Then one change at a time, 50 ms apart: the delay of a delivery when nothing queues.
            paced = {}
            for index in range(PACED):
                created = bench.request("POST", f"{server.url}/api/v1.0/customers", token, {"name": f"Paced {index}"})
                paced[created["data"]["id"]] = time.perf_counter()
                time.sleep(0.05)
            deadline = time.perf_counter() + 30
            while time.perf_counter() < deadline and not set(paced) <= set(first_arrivals(fast_arrivals)):
                time.sleep(0.05)
            firsts = first_arrivals(fast_arrivals)
            paced_delays = [(firsts[c] - paced[c]) * 1000 for c in paced if c in firsts]
            rows = [
                ("creates (8 clients), all answered in", f"{burst:.2f} s ({CHANGES / burst:.0f}/s)"),
                ("deliveries to the fast receiver", f"{delivered} of {CHANGES}"),
                ("deliveries per second to it (first to last arrival)", f"{rate:.0f}"),
                ("commit to delivery, p50", f"{statistics.median(delays):.1f} ms"),
                ("commit to delivery, p99", f"{percentile(delays, 0.99):.1f} ms"),
                ("commit to delivery, max", f"{max(delays):.1f} ms"),
                (f"then {PACED} creates 50 ms apart, commit to delivery, p50",
                 f"{statistics.median(paced_delays):.1f} ms"),
                ("the same, p99", f"{percentile(paced_delays, 0.99):.1f} ms"),
                ("deliveries the 9.5 s receiver had started meanwhile", f"{len(slow_arrivals)}"),
            ]
        finally:
            server.stop()
            fast.shutdown()
            slow.shutdown()
    table = "| webhooks (PostgreSQL) | |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
    print(table)
    output = Path(os.environ.get("BENCH_OUTPUT", "target/bench-results.md"))
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("a") as f:
        f.write("\n" + table)


if __name__ == "__main__":
    main()
