#!/usr/bin/env python3
"""`make bench`, last step: draws the figures people compare, from the raw figures the parts wrote, as PNG files
under docs/performance/ (docs/performance.md shows them beside the tables of the run that made them):

- throughput.png (bench/run.py, target/bench-results.json): PostgreSQL, the service against the floor and pgbench,
  by workload and concurrency;
- writes.png (bench/writes.py, target/bench-writes.json): get, rename, delete and create at 1 and 32 connections,
  the service against the sqlx floor and the pipelined tokio-postgres floor;
- feed-delay.png (the same file): the change feed's delay, commit to a waiting long poll's answer, as a
  distribution (same replica, another replica);
- webhook-delay.png (bench/webhooks.py, target/bench-webhooks.json): commit to delivery, as a distribution (a burst,
  paced creates, paced creates on another replica).

A part whose file is missing draws nothing. Matplotlib (PyPI, pinned) is installed in target/plot-venv when missing;
this script then runs itself again there.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
RAW = ROOT / "target"
OUT = Path(os.environ.get("BENCH_PLOTS", ROOT / "docs" / "performance"))
MATPLOTLIB = "matplotlib==3.10.8"


def ensure_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return
    except ImportError:
        pass
    venv = TARGET / "plot-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", MATPLOTLIB],
                       check=True)
    sys.exit(subprocess.run([str(python), __file__, *sys.argv[1:]]).returncode)


def load(name):
    path = RAW / name
    return json.loads(path.read_text()) if path.exists() else None


def bars(plt, title, groups, series, path):
    """Grouped bars: `groups` labels on the x axis, `series` name → values (req/s) in that order."""
    figure, axes = plt.subplots(figsize=(max(6, 1.2 * len(groups)), 4.2))
    width = 0.8 / len(series)
    for index, (name, values) in enumerate(series.items()):
        positions = [g + (index - (len(series) - 1) / 2) * width for g in range(len(groups))]
        axes.bar(positions, [v or 0 for v in values], width, label=name)
    axes.set_xticks(range(len(groups)), groups, rotation=30, ha="right", fontsize=8)
    axes.set_ylabel("requests per second")
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"wrote {path.relative_to(ROOT)}")


def distribution(plt, title, samples, path):
    """Empirical distribution functions of delays (ms), one line per named sample, log-scaled time."""
    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    for name, values in samples.items():
        if not values:
            continue
        ordered = sorted(max(v, 0.01) for v in values)
        fractions = [(i + 1) / len(ordered) for i in range(len(ordered))]
        axes.step(ordered, fractions, where="post", label=f"{name} ({len(ordered)})")
    axes.set_xscale("log")
    axes.set_xlabel("delay (ms, log scale)")
    axes.set_ylabel("fraction of changes")
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"wrote {path.relative_to(ROOT)}")


def main():
    ensure_matplotlib()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    OUT.mkdir(parents=True, exist_ok=True)
    results = load("bench-results.json")
    if results:
        # rows: [backend, workload, connections, figures, system?] (no system: the service).
        table = {}
        for row in results["rows"]:
            if row[0] != "PostgreSQL" or (len(row) == 5 and row[4] == "scale"):
                continue
            system = row[4] if len(row) == 5 else "service"
            table.setdefault((row[1], row[2]), {})[system] = row[3]["rps"]
        groups = list(table)
        systems = {"service": "service", "floor": "floor (actix + sqlx)", "baseline": "pgbench"}
        bars(plt, "PostgreSQL: the service, the floor and pgbench (bench/run.py)",
             [f"{w} @{c}" for w, c in groups],
             {label: [table[g].get(name) for g in groups] for name, label in systems.items()}, OUT / "throughput.png")
    writes = load("bench-writes.json")
    if writes:
        rows = writes["rows"]
        if rows:
            bars(plt, "PostgreSQL: the service, the sqlx floor and the pipelined tokio-postgres floor (bench/writes.py)",
                 [f"{r['workload']} @{r['connections']}" for r in rows],
                 {label: [r.get(name) for r in rows] for name, label in
                  (("service", "service"), ("floor", "floor (sqlx)"), ("pipelined", "pipelined floor (tokio-postgres)"))},
                 OUT / "writes.png")
        if writes.get("feed_delays_ms"):
            distribution(plt, "Change feed: commit to a waiting long poll's answer (bench/writes.py)",
                         writes["feed_delays_ms"], OUT / "feed-delay.png")
    webhooks = load("bench-webhooks.json")
    if webhooks and webhooks.get("delivery_delays_ms"):
        names = {"burst": "a burst of creates", "Paced": "paced creates", "Other": "paced, on another replica"}
        samples = {names.get(k, k): v for k, v in webhooks["delivery_delays_ms"].items()}
        distribution(plt, "Webhooks: commit to delivery (bench/webhooks.py)", samples, OUT / "webhook-delay.png")


if __name__ == "__main__":
    main()
