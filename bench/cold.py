"""Cold pages: the first visit of 200 random project pages after PostgreSQL restarts and the
operating system's page cache is dropped — what the first users after a restart (or of rows
nobody read for a long time) wait for, where the steady-state figures have every row in
memory.

The projects are drawn before the restart (drawing them reads no page of theirs: ids only);
then `sync; echo 3 > /proc/sys/vm/drop_caches` (root only), PostgreSQL restarts as the fault
test restarts it (tests/test_faults.py), the app starts, signs in and renders one other
project page (so that the workers' templates and SQL are compiled — a server that has just
started, not a cold Python), and each of the 200 pages is opened once, one after another.
Not run in `--quick` nor without root: both say so in the table.
"""

import os
import random
import subprocess
import time
from pathlib import Path

from bench.load import Client, sample_latencies

TARGET_P95_MS = 80
PAGES = 200


def refusal() -> str | None:
    """Why cold pages cannot be measured here, or None."""
    if os.geteuid() != 0:
        return "not root: cannot drop the page cache or restart PostgreSQL"
    if not Path("/etc/postgresql").is_dir() or not Path("/proc/sys/vm/drop_caches").exists():
        return "no local PostgreSQL cluster or no /proc/sys/vm/drop_caches"
    return None


def restart_postgres() -> None:
    """Restart the machine's cluster and return once it accepts connections again; if the
    restart fails, start it anyway (tests/test_faults.py restarts it so too)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    cluster = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]
    try:
        subprocess.run([*cluster, "restart"], check=True, capture_output=True, timeout=120)
    finally:
        ready = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-t", "60"], capture_output=True)
        if ready.returncode != 0:
            subprocess.run([*cluster, "start"], capture_output=True, timeout=120)
            subprocess.run(["pg_isready", "-h", "127.0.0.1", "-t", "60"], check=True,
                           capture_output=True)


def drop_page_cache() -> None:
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def measure(url: str, port: int, workers: int, threads: int) -> dict:
    """p50/p95 of the first visit of PAGES random project pages of the database at `url`."""
    from bench.run import psql, say, server, signed_in

    database = url.rsplit("/", 1)[1]
    top = int(psql(database, "SELECT max(id) FROM projects"))
    rng = random.Random(2026)
    ids = ", ".join(str(i) for i in rng.sample(range(1, top + 1), PAGES * 2))
    picked = psql(database, f"SELECT public_id FROM projects WHERE id IN ({ids}) "
                            f"ORDER BY id LIMIT {PAGES + 1}").split()
    warm, pages = picked[0], picked[1:]
    say("  dropping the page cache and restarting PostgreSQL")
    drop_page_cache()
    restart_postgres()
    drop_page_cache()
    with server("wsgi:app", port, {"DATABASE_URL": url}, workers, threads):
        client = signed_in(port)
        for _ in range(3):  # each worker compiles its templates and SQL once
            Client("127.0.0.1", port, {"Cookie": _cookie(client)}).request(
                "GET", f"/projects/{warm}")
        began = time.monotonic()
        p50, p95 = sample_latencies(client, [f"/projects/{public_id}" for public_id in pages])
        seconds = time.monotonic() - began
    return {"pages": len(pages), "p50": p50, "p95": p95, "seconds": seconds}


def _cookie(client: Client) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def row(result: dict | str, size: int) -> tuple[str, str, str, bool | None]:
    """(figure, value, target, met) — met None when it was not measured."""
    figure = f"cold project pages, PostgreSQL, {size:,} projects (first visit after a restart)"
    if isinstance(result, str):
        return figure, f"not measured: {result}", f"p95 ≤ {TARGET_P95_MS} ms", None
    return (figure, f"p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms over "
            f"{result['pages']} pages", f"p95 ≤ {TARGET_P95_MS} ms",
            result["p95"] <= TARGET_P95_MS)
