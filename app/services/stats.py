"""The statistics rollup: dashboard sums kept current by every transaction, never recounted.

Each project contributes to one row of `stats_buckets` (its county, batch year, status and
industry) and, once declared, one row of `stats_months`; each closed stay in a status adds to
`stats_stage_days`. A flush notes how its changes move these contributions (the value each
tracked column replaced is known: the columns have active_history); the commit applies the
sum as upserts adding deltas, in key order so concurrent commits never deadlock. Rows are
split into SHARDS by project id, so projects of one county changing at once seldom wait on
one counter row. `rebuild()` recounts everything from the project rows (after bulk loads, or
as a check: the two must agree).
"""

from collections import Counter
from functools import cache

from sqlalchemy import BigInteger, event, func, inspect, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Project, StageTime, StatsBucket, StatsMonth, StatsStageDays
from ..models.base import yuan_from_wan
from ..workflow.changeset import Tally

SHARDS = 4

# bucket column ← project attribute; money is summed in whole yuan
MONEY = {"total_yuan": "total_investment", "equipment_yuan": "equipment_investment",
         "annual_yuan": "annual_investment", "need_yuan": "financing_need",
         "credit_yuan": "credit_total", "contract_yuan": "contract_total",
         "drawn_yuan": "drawn_total", "relending_yuan": "relending_total",
         "subsidy_yuan": "subsidy_total"}
COUNTS = {"new_units": "new_units", "loans": "loan_count"}
PLACE = ("jurisdiction_code", "batch_year", "status", "industry", "declared_at")
MEASURED = (*MONEY.values(), *COUNTS.values())
TRACKED = (*PLACE, *MEASURED)
PENDING = "jigai_stats_pending"


def _month(moment) -> str:
    return moment.strftime("%Y-%m")


def _place(code: str) -> dict:
    return {"province_code": code[:2] + "0000", "city_code": code[:4] + "00"}


def measures_of(values: dict) -> dict:
    """A project's measures in the bucket it counts in (money in whole yuan)."""
    return {"projects": 1, **{c: yuan_from_wan(values[a] or 0) for c, a in MONEY.items()},
            **{c: values[a] or 0 for c, a in COUNTS.items()}}


def contributions(project_id: int, values: dict,
                  measures: dict | None = None) -> list[tuple[type, tuple, dict]]:
    """What a project with these column values (and bucket `measures`) adds to the rollup."""
    code, shard = values["jurisdiction_code"], project_id % SHARDS
    year = values["batch_year"] or 0
    status = getattr(values["status"], "value", values["status"])
    measures = measures or measures_of(values)
    found = [(StatsBucket, (code, year, status, values["industry"] or "", shard), measures)]
    if values["declared_at"] is not None:
        found.append((StatsMonth, (code, year, _month(values["declared_at"]), shard),
                      {"declared": 1}))
    return found


def _values(project: Project, *, before: bool, new: bool, deleted: bool) -> dict | None:
    if (before and new) or (not before and deleted):
        return None
    state = inspect(project)
    values = {}
    for name in TRACKED:
        history = state.attrs[name].history
        if before and history.deleted:
            values[name] = history.deleted[0]
        elif before and history.added:
            values[name] = None  # set on an attribute that never had a value
        else:
            values[name] = state.dict[name] if name in state.dict else getattr(project, name)
    return values


def _pending(session: Session, table: type, key: tuple) -> Counter:
    """The deltas this transaction owes the rollup row `key` of `table`."""
    return session.info.setdefault(PENDING, {}).setdefault((table, key), Counter())


def _note(session: Session, table: type, key: tuple, measures: dict, sign: int) -> None:
    counter = _pending(session, table, key)
    for name, value in measures.items():
        counter[name] += sign * value


def tallies(project_id: int, before: dict, after: dict) -> list[Tally]:
    """The rollup rows a project's change from `before` to `after` moves (column values by
    attribute name), in key order — the lock order every writer follows."""
    had = measures_of(before)
    # A step seldom changes money or counts; then the measures move as they were.
    has = had if all(before[a] == after[a] for a in MEASURED) else measures_of(after)
    moved: dict[tuple, dict] = {}
    for sign, values, bucket in ((-1, before, had), (1, after, has)):
        for table, key, measures in contributions(project_id, values, bucket):
            total = moved.setdefault((table.__tablename__, key, table), dict.fromkeys(measures, 0))
            for name, value in measures.items():
                total[name] += sign * value
    return [_tally(table, key, total) for (_name, key, table), total in sorted(
        moved.items(), key=lambda item: item[0][:2]) if any(total.values())]


def stay_tally(project_id: int, place: dict, status: str, working_days: int) -> Tally:
    """A stay in `status` that closed after `working_days`."""
    key = (place["jurisdiction_code"], place["batch_year"], status, project_id % SHARDS)
    return _tally(StatsStageDays, key, {"stays": 1, "days": working_days,
                                        "longest": working_days})


def _tally(table: type, key: tuple, measures: dict) -> Tally:
    return Tally(table.__table__, dict(zip(KEYS[table], key, strict=True)),
                 {m: measures.get(m, 0) for m in MEASURES[table]}, also=_place(key[0]),
                 highest=("longest",) if table is StatsStageDays else ())


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    # Within after_flush, history still shows the values this flush replaced.
    for project in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(project, Project):
            continue
        new, deleted = project in session.new, project in session.deleted
        state = inspect(project)
        if not (new or deleted) and not any(state.attrs[name].history.has_changes()
                                            for name in TRACKED):
            continue
        for sign, before in ((-1, True), (1, False)):
            values = _values(project, before=before, new=new, deleted=deleted)
            if values is not None:
                for table, key, measures in contributions(project.id, values):
                    _note(session, table, key, measures, sign)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    session.flush()
    pending = session.info.pop(PENDING, None)
    if pending:
        apply(session, pending)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


KEYS = {StatsBucket: ("jurisdiction_code", "batch_year", "status", "industry", "shard"),
        StatsMonth: ("jurisdiction_code", "batch_year", "month", "shard"),
        StatsStageDays: ("jurisdiction_code", "batch_year", "status", "shard")}


def apply(session: Session, pending: dict) -> None:
    """Add the deltas, table by table in key order (a fixed lock order for all commits)."""
    dialect = session.get_bind().dialect.name
    for table, names in KEYS.items():
        rows = [{**dict(zip(names, key, strict=True)), **_place(key[0]),
                 **{m: counter[m] for m in MEASURES[table]}}
                for key, counter in sorted((key, counter) for (kind, key), counter
                                           in pending.items() if kind is table)
                if any(counter.values())]
        if rows:
            session.execute(_upsert(dialect, table), rows)


MEASURES = {StatsBucket: ("projects", *MONEY, *COUNTS), StatsMonth: ("declared",),
            StatsStageDays: ("stays", "days", "longest")}


@cache
def _upsert(dialect: str, table: type):
    """INSERT … ON CONFLICT DO UPDATE adding each measure (`longest` keeps the maximum).

    Compiled once to SQL text: SQLAlchemy 2.0 gives the dialects' ON CONFLICT inserts no
    cache key, so executing the construct would compile it again on every commit."""
    kind = postgresql if dialect == "postgresql" else sqlite
    greatest = func.greatest if dialect == "postgresql" else func.max
    statement = kind.insert(table.__table__)
    columns = table.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=list(KEYS[table]),
        set_={c: (greatest(columns[c], statement.excluded[c]) if c == "longest"
                  else columns[c] + statement.excluded[c]) for c in MEASURES[table]})
    return text(str(statement.compile(dialect=kind.dialect(paramstyle="named"))))


def _recounts() -> dict[type, tuple[list[str], object]]:
    """Per rollup table: its measure columns, and the query recounting all its rows."""
    dialect = db.session.connection().dialect.name
    # Literals, not bound parameters: PostgreSQL must see the grouped expressions as equal.
    month = (func.strftime(literal_column("'%Y-%m'"), Project.declared_at) if dialect == "sqlite"
             else func.to_char(Project.declared_at, literal_column("'YYYY-MM'")))
    year = func.coalesce(Project.batch_year, literal_column("0"))
    industry = func.coalesce(Project.industry, literal_column("''"))
    shard = Project.id % literal_column(str(SHARDS))
    place, regions = (Project.jurisdiction_code, year), (Project.province_code, Project.city_code)
    return {
        StatsBucket: (["projects", *MONEY, *COUNTS], select(
            *place, Project.status, industry, shard, *regions, func.count(),
            # raw sums in yuan, not read back through the 万元 column type
            *[func.coalesce(func.sum(getattr(Project, a)), literal_column("0"), type_=BigInteger)
              for a in (*MONEY.values(), *COUNTS.values())])
            .group_by(*place, Project.status, industry, shard, *regions)),
        StatsMonth: (["declared"], select(*place, month, shard, *regions, func.count())
                     .where(Project.declared_at.is_not(None))
                     .group_by(*place, month, shard, *regions)),
        StatsStageDays: (["stays", "days", "longest"], select(
            *place, StageTime.status, shard, *regions, func.count(),
            func.sum(StageTime.working_days), func.max(StageTime.working_days))
            .join(StageTime, StageTime.project_id == Project.id)
            .where(StageTime.working_days.is_not(None))
            .group_by(*place, StageTime.status, shard, *regions)),
    }


def rebuild() -> None:
    """Recount every rollup row from the projects and their closed stays (after bulk loads)."""
    for table, (measures, query) in _recounts().items():
        db.session.execute(table.__table__.delete())
        db.session.execute(table.__table__.insert().from_select(
            [*KEYS[table], "province_code", "city_code", *measures], query))


def differences() -> list[str]:
    """Where the kept rollup and a fresh recount disagree (empty when they agree)."""
    found = []
    for table, (measures, query) in _recounts().items():
        columns = table.__table__.c
        kept = {tuple(row[:-len(measures)]): tuple(int(v) for v in row[-len(measures):])
                for row in db.session.execute(select(
                    *[columns[k] for k in KEYS[table]], columns.province_code, columns.city_code,
                    *[columns[m] for m in measures]))
                if any(row[-len(measures):])}
        counted = {tuple(row[:-len(measures)]): tuple(int(v or 0) for v in row[-len(measures):])
                   for row in db.session.execute(query)}
        for key in sorted(set(kept) | set(counted), key=str):
            if kept.get(key) != counted.get(key):
                found.append(f"{table.__tablename__} {key}: kept {kept.get(key)}, "
                             f"counted {counted.get(key)}")
    return found
