"""A workbook import as a job: checked, then written in chunks.

Checking reads — the rows, the enterprises and codes they name — and writes nothing but the
job's progress, so it holds no write lock. Only a file without problems goes on to be
written: in chunks, each one transaction that holds the write lock (on SQLite, the whole
database's) for at most IMPORT_CHUNK_SECONDS, so a concurrent writer waits for one chunk
at most, never for the import. Each chunk creates its projects through the step writer and
moves the job's count of rows handled in the same transaction, so a worker that dies loses
at most the chunk it was writing, and the job resumes after the last committed chunk:
nothing is imported twice. A row refused at this stage (its code taken meanwhile, say) is
listed with its problem, and the rest are imported.
"""

import time
from collections.abc import Iterable, Iterator

from flask import current_app

from .. import access
from ..database import unit_of_work
from ..errors import DomainError, Forbidden
from ..extensions import db
from ..i18n import gettext as _
from ..models import Job, User
from ..reporting import imports
from . import runner

BATCH = 500  # rows checked together (one look-up of their enterprises and codes)
CHECKING, WRITING = "checking", "writing"


def batched(rows: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def start_import(actor: User, data: bytes, filename: str) -> Job:
    """Queue the import of a workbook (refused at once when it cannot be one we read)."""
    if not access.is_agency(actor):
        raise Forbidden(_("Only agencies import declarations."))
    imports.check_upload(data, current_app.config)
    return runner.submit("import", filename, user=actor, data=data)


@runner.handler("import")
def run_import(run: runner.Run) -> None:
    job = run.job
    data = run.file()
    if data is None:
        raise runner.Refused("the workbook is no longer kept")
    actor = db.session.get(User, job.user_id)
    if job.stage != WRITING and not _check(run, actor, data):
        raise runner.Refused(_("Nothing was imported: the workbook has problems."))
    _write(run, actor, data, job.title)


def _rows(data: bytes):
    config = current_app.config
    return imports.read_rows(data, config["IMPORT_MAX_ROWS"], config["IMPORT_MAX_UNPACKED"])


def _check(run: runner.Run, actor: User, data: bytes) -> bool:
    """Check every row; record the problems (the first thousand, and how many); True when
    there are none. Progress is recorded about once a second."""
    run.progress(stage=CHECKING, done=0, total=imports.estimated_rows(data))
    checker = imports.Checker(actor)
    found, count, rows, shown = [], 0, 0, time.monotonic()
    notes: list[dict] = []
    try:
        for batch in batched(_rows(data), BATCH):
            for number, raw in batch:
                if len(notes) < runner.ERRORS_KEPT:
                    notes += imports.text_notes(number, raw)[:runner.ERRORS_KEPT - len(notes)]
            for _number, problems, _entry in checker.check(batch):
                rows += 1
                count += len(problems)
                found += problems[:runner.ERRORS_KEPT - len(found)]
            if time.monotonic() - shown > 1:
                run.progress(done=rows, total=max(rows, run.job.total))
                shown = time.monotonic()
    except imports.FileProblem as problem:  # the file as a whole: that is the answer
        found, count = problem.errors, len(problem.errors)
    db.session.rollback()  # end the checking reads' transaction
    if count:
        run.progress(done=rows, total=rows, error_count=count,
                     errors=[e.as_dict() for e in found[:runner.ERRORS_KEPT]])
        return False
    run.progress(stage=WRITING, done=0, total=rows, notes=notes or None)
    return True


def _write(run: runner.Run, actor: User, data: bytes, filename: str) -> None:
    """Write the rows after those handled by earlier attempts, chunk by chunk."""
    budget = current_app.config["IMPORT_CHUNK_SECONDS"]
    skip = run.job.done
    checker = imports.Checker(actor)
    staged: list = []
    for batch in batched(_rows(data), BATCH):
        if skip >= len(batch):
            skip -= len(batch)
            continue
        staged += checker.check(batch[skip:])  # read outside the write lock
        skip = 0
        db.session.rollback()
        while len(staged) >= BATCH // 2:
            staged = staged[_chunk(run, actor, staged, filename, budget):]
    while staged:
        staged = staged[_chunk(run, actor, staged, filename, budget):]


def _chunk(run: runner.Run, actor: User, staged: list, filename: str, budget: float) -> int:
    """Write staged rows from the first, for at most `budget` seconds, in one transaction;
    how many rows it handled. A row refused now is recorded alone, after the rows before it."""
    limit = len(staged)
    while True:
        written = 0
        try:
            with unit_of_work():
                run.own()
                started = time.monotonic()
                for _number, problems, entry in staged[:limit]:
                    if problems:
                        break
                    imports.create_row(actor, entry, filename)
                    written += 1
                    if time.monotonic() - started > budget:
                        break
                if written:
                    run.own(done=Job.done + written, created=Job.created + written)
        except DomainError as err:
            if written:  # the rows before the refused one, on their own
                limit = written
                continue
            number = staged[0][0]
            problems = ([imports.RowError(number, imports.HEADER.get(k, k), m)
                         for k, m in err.fields.items()]
                        or [imports.RowError(number, "—", err.message)])
            staged[0] = (number, problems, None)
            continue
        if written:
            return written
        number, problems, _entry = staged[0]
        with unit_of_work():
            job = run.job
            run.own(done=Job.done + 1, **runner.keep_errors(
                job, [p.as_dict() for p in problems], len(problems)))
        return 1
