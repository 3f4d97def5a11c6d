"""Writers during a batch import on SQLite: API creates by concurrent clients while the job
worker imports a workbook, against the same creates with no import running.

The import writes in chunks of at most JIGAI_IMPORT_CHUNK_SECONDS, each holding SQLite's
write lock, so a create waits for one chunk at most. Run alone (a quick check):

    .venv/bin/python -m bench.imports --rows 500 --clients 2

or as part of `make bench` (`--import-rows 0` leaves it out).
"""

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.load import Client

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_P95_MS = 500


def _workbook(credit_code: str, rows: int) -> bytes:
    from openpyxl import Workbook

    from app.reporting.imports import COLUMNS

    base = {"credit_code": credit_code, "jurisdiction": "320506", "address": "吴中大道1号",
            "industry": "高端装备", "task": "先进设备更新", "batch_year": 2026,
            "content": "更新数控机床", "total_investment": 5000, "fixed_asset_investment": 4600,
            "equipment_investment": 4000, "retired_equipment_value": 800,
            "annual_investment": 3000, "new_land": "否", "planned_start": "2026-03-01",
            "planned_end": "2026-12-31", "financing_need": 2000, "financing_term_months": 36,
            "financing_purpose": "购置设备", "equipment_name": "五轴数控机床",
            "equipment_quantity": 2, "equipment_unit_price": 300, "equipment_energy_grade": 2}
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append([header for _key, header in COLUMNS])
    for i in range(rows):
        row = {**base, "name": f"基准导入项目{i:05d}",
               "project_code": f"2603-320506-07-02-{i:06d}"}
        sheet.append([row.get(key) for key, _header in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _creates(port: int, token: str, clients: int, until) -> tuple[list[float], dict]:
    """Clients creating drafts through the API until `until()`; latencies in ms, errors."""
    body = {"name": "并发申报项目", "jurisdiction": "320506", "industry": "高端装备",
            "task": "advanced_equipment", "batch_year": 2026, "total_investment": "5000",
            "fixed_asset_investment": "4600", "equipment_investment": "4000",
            "new_land": False, "financing_need": "2000"}
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def client():
        http = Client("127.0.0.1", port, {"Authorization": f"Bearer {token}"})
        mine, failed = [], {}
        while not until():
            began = time.perf_counter()
            status, _raw = http.request("POST", "/api/v1/projects", body)
            if status == 201:
                mine.append((time.perf_counter() - began) * 1000)
            else:
                failed[str(status)] = failed.get(str(status), 0) + 1
        with lock:
            latencies.extend(mine)
            for key, n in failed.items():
                errors[key] = errors.get(key, 0) + n

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def measure(rows: int, clients: int, port: int, workers: int, threads: int,
            baseline_seconds: float = 5) -> dict:
    """Creates' latencies with no import, then during an import of `rows` rows."""
    from bench.run import flask, say, server

    instance = ROOT / "instance"
    instance.mkdir(exist_ok=True)
    database, queue, mail = (instance / "bench-import.sqlite3",
                             instance / "bench-import-jobs.sqlite3",
                             instance / "bench-import-mail.log")
    for path in (database, queue, mail, Path(f"{database}-writer")):
        path.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    env = {"DATABASE_URL": url, "JIGAI_JOBS_URL": f"sqlite:///{queue}", "MAIL_LOG": str(mail)}
    flask(url, "db", "upgrade")
    flask(url, "jurisdictions")

    from app import create_app
    from app.accounts import operations as accounts
    from app.extensions import db
    from app.jobs import imports as import_jobs
    from app.models import Job, OrgKind
    from app.models.org import AgencyKind

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "JOBS_URL": env["JIGAI_JOBS_URL"],
                      "MAIL_LOG": str(mail)})
    with app.app_context():
        enterprise = accounts.create_organization(
            kind=OrgKind.ENTERPRISE, name="基准导入企业", jurisdiction_code="320506",
            credit_code="91320506MA0000001N")
        owner = accounts.create_user(username="bench-ent", password="jigai-bench-pass",
                                     organization=enterprise, display_name="基准企业经办人")
        token = accounts.issue_token(owner)
        agency = accounts.create_organization(kind=OrgKind.AGENCY, agency_kind=AgencyKind.MIIT,
                                              name="基准工信局", jurisdiction_code="320500")
        clerk = accounts.create_user(username="bench-miit", password="jigai-bench-pass",
                                     organization=agency, display_name="基准工信经办人")
        data = _workbook(enterprise.credit_code, rows)

    log = open(instance / "bench-import-worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "jobs", "worker"], cwd=ROOT,
                              env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        with server("wsgi:app", port, env, workers, threads):
            say(f"creates on SQLite, {clients} clients, {baseline_seconds:.0f} s, no import")
            stop = time.monotonic() + baseline_seconds
            quiet, quiet_errors = _creates(port, token, clients, lambda: time.monotonic() > stop)
            say(f"creates on SQLite while importing {rows:,} rows")
            with app.app_context():
                job_id = import_jobs.start_import(clerk, data, "bench.xlsx").id
            began = time.monotonic()
            finished = threading.Event()

            def watch():
                while not finished.is_set():
                    with app.app_context():
                        job = db.session.get(Job, job_id)
                        if job.status in ("done", "failed"):
                            finished.set()
                        db.session.remove()
                    finished.wait(0.2)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            busy, busy_errors = _creates(port, token, clients, finished.is_set)
            seconds = time.monotonic() - began
            with app.app_context():
                job = db.session.get(Job, job_id)
                outcome = (job.status, job.created, job.error_count)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        log.close()
    return {"rows": rows, "clients": clients, "import_seconds": seconds, "job": outcome,
            "quiet": quiet, "quiet_errors": quiet_errors, "busy": busy,
            "busy_errors": busy_errors}


def summary(result: dict) -> tuple[str, str, bool]:
    """(figure, value, target met) for the results table."""
    busy, quiet = result["busy"], result["quiet"]
    status, created, refused = result["job"]
    p95 = _percentile(busy, 95) if busy else float("inf")
    errors = {**result["busy_errors"]}
    value = (f"p95 {p95:.0f} ms, p50 {statistics.median(busy) if busy else 0:.0f} ms, "
             f"max {max(busy, default=0):.0f} ms over {len(busy):,} creates (no import: p95 "
             f"{_percentile(quiet, 95) if quiet else 0:.0f} ms); import {status}, "
             f"{created:,} rows in {result['import_seconds']:.0f} s"
             + (f"; errors {errors}" if errors else ""))
    figure = (f"API creates on SQLite during a {result['rows']:,}-row import, "
              f"{result['clients']} clients")
    return figure, value, status == "done" and created == result["rows"] and p95 <= TARGET_P95_MS


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--port", type=int, default=8611)
    args = parser.parse_args(argv)
    result = measure(args.rows, args.clients, args.port, args.workers, args.threads)
    figure, value, met = summary(result)
    print(f"{figure}: {value} — target p95 ≤ {TARGET_P95_MS} ms: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main(sys.argv[1:])
