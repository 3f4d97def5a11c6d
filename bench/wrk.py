"""Closed-loop load from wrk (C, one connection per client), driving bench/steps.lua.

The Python generator in load.py spends about half a millisecond of CPU on each request, on
the same two cores as the server and the database; wrk spends a tenth of that, so what the
throughput figures measure is the system rather than the generator (pgbench, their
reference, is C as well). Used when `wrk` is installed (`make bench` installs it).
"""

import os
import shutil
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

from bench.load import Outcome

SCRIPT = Path(__file__).with_name("steps.lua")


def available() -> bool:
    return shutil.which("wrk") is not None


def run(port: int, clients: list[dict], seconds: float, *, kind: str,
        prefer: str = "return=minimal") -> Outcome:
    """Each client (a dict with `path`, `version`, `status` and, for the API, `agency` and
    `enterprise` tokens) steps its project back and forth for `seconds`; the clients' versions
    and statuses are updated to where the run left them."""
    done = _wrk(SCRIPT, port, seconds, [(c["path"], c["version"], c["status"], kind,
                                         c.get("agency", "-"), c.get("enterprise", "-"))
                                        for c in clients], JIGAI_PREFER=prefer)
    answers: dict[int, int] = {}
    figures = {}
    for line in done.splitlines():
        fields = line.split("\t")
        if fields[0] == "client":
            slot, version, status = int(fields[1]), int(fields[2]), fields[3]
            clients[slot - 1].update(version=version, status=status)
        elif fields[0] == "answers":
            answers[int(fields[1])] = answers.get(int(fields[1]), 0) + int(fields[2])
        elif fields[0] in ("duration", "p50", "p95"):
            figures[fields[0]] = int(fields[1])
    errors = {str(code): n for code, n in answers.items() if code != 200}
    return Outcome(done=answers.get(200, 0), seconds=figures["duration"] / 1e6, latencies=[],
                   errors=errors, percentiles={50: figures["p50"] / 1000,
                                               95: figures["p95"] / 1000})


WEB_SCRIPT = Path(__file__).with_name("web.lua")


def run_web(port: int, clients: list[dict], seconds: float, comment: str) -> Outcome:
    """Web decisions (bench/web.lua): each client (a dict with `project`, `version`,
    `status` and each side's `cookie` and `csrf`) returns and resubmits its project through
    the project page's forms for `seconds`; counts decisions (POST, redirect, page), not
    requests. The clients' versions and statuses are updated to where the run left them."""
    done = _wrk(WEB_SCRIPT, port, seconds,
                [(c["project"], c["version"], c["status"], c["agency_cookie"], c["agency_csrf"],
                  c["enterprise_cookie"], c["enterprise_csrf"]) for c in clients],
                JIGAI_COMMENT=urllib.parse.quote(comment))
    answers: dict[str, int] = {}
    figures = {}
    for line in done.splitlines():
        fields = line.split("\t")
        if fields[0] == "client":
            slot, version, status = int(fields[1]), int(fields[2]), fields[3]
            clients[slot - 1].update(version=version, status=status)
        elif fields[0] == "answers":
            answers[fields[1]] = answers.get(fields[1], 0) + int(fields[2])
        elif fields[0] in ("duration", "decisions", "p50", "p95"):
            figures[fields[0]] = float(fields[1])
    errors = {key: n for key, n in answers.items() if key not in ("post 302", "get 200")}
    return Outcome(done=int(figures["decisions"]), seconds=figures["duration"] / 1e6,
                   latencies=[], errors=errors,
                   percentiles={50: figures["p50"], 95: figures["p95"]})


def _wrk(script: Path, port: int, seconds: float, rows: list[tuple], **env: str) -> str:
    """Run wrk with `script`, one connection per row; each row, a line of the file named by
    JIGAI_CLIENTS, is what its connection knows. Returns what the script printed."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as listing:
        for row in rows:
            listing.write("\t".join(str(v) for v in row) + "\n")
    try:
        return subprocess.run(
            ["wrk", "-t", str(len(rows)), "-c", str(len(rows)), "-d", f"{seconds:g}s",
             "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{port}"],
            env={**os.environ, "JIGAI_CLIENTS": listing.name, **env},
            check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(listing.name)
