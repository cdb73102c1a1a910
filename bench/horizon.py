#!/usr/bin/env python3
"""How a long write transaction elsewhere on the PostgreSQL cluster holds the change feed back (issue 22): another
client opens a transaction that takes a transaction id and keeps it open for 1 s, then 3 s; half a second in, the
service commits a change; the time from that commit to the answer of a long poll waiting for it. Run after `make
bench` built the release binary: `python3 bench/horizon.py`.
"""
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import run as bench
import writes

work = Path(tempfile.mkdtemp())
with writes.scratch_database("pbx_horizon") as url:
    server = bench.Server("PostgreSQL", work / "pg", url)
    server.start()
    token = server.token()
    bench.request("POST", f"{server.url}/api/v1.0/customers", token, {"name": "First"})
    cursor = writes.get(f"{server.url}/api/v1.0/events", token)["next"]
    for hold in (1, 3):
        answer = {}
        def poll():
            answer["page"] = writes.get(f"{server.url}/api/v1.0/events?after={cursor}&wait=20", token)
            answer["at"] = time.perf_counter()
        t = threading.Thread(target=poll); t.start(); time.sleep(0.2)
        # another client's write transaction, open for `hold` seconds, on another database of the cluster
        holder = subprocess.Popen(["psql", bench.PG_URL, "-qc", f"BEGIN; SELECT pg_current_xact_id(); SELECT pg_sleep({hold}); COMMIT;"], stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        bench.request("POST", f"{server.url}/api/v1.0/customers", token, {"name": f"Held {hold}"})
        committed = time.perf_counter()
        t.join(); holder.wait()
        print(f"write transaction held open {hold} s elsewhere on the cluster: long poll answered {(answer['at'] - committed) * 1000:.0f} ms after the commit")
        cursor = answer["page"]["next"]
    server.stop()
