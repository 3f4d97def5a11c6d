"""The statistics rollup: dashboard sums kept current by every step, never recounted.

Each project contributes to one row of `stats_buckets` (its county, batch year, status and
industry) and, once declared, one row of `stats_months`; each closed stay in a status adds to
`stats_stage_days`. The rollup is an engine hook (`HOOK`, registered at start-up): every step
hands it the project's values before and after, and it adds to the step's one atomic change
the deltas these move, as upserts in key order so concurrent steps never deadlock. Rows are
split into SHARDS by project id, so projects of one county changing at once seldom wait on
one counter row. `rebuild()` recounts everything from the project rows (after bulk loads),
`differences()` compares the two (they must agree).
"""

from sqlalchemy import BigInteger, Integer, cast, extract, func, literal_column, or_, select

from ..extensions import db
from ..models import (
    Loan,
    Project,
    StageTime,
    StatsBucket,
    StatsCompletion,
    StatsMonth,
    StatsStageDays,
    Status,
    SubsidyClaim,
)
from ..models.base import yuan_from_wan
from ..workflow.changeset import Tally
from ..workflow.hooks import Step

SHARDS = 4

# bucket column ← project attribute; money is summed in whole yuan
MONEY = {"total_yuan": "total_investment", "equipment_yuan": "equipment_investment",
         "annual_yuan": "annual_investment", "need_yuan": "financing_need",
         "credit_yuan": "credit_total", "contract_yuan": "contract_total",
         "drawn_yuan": "drawn_total", "relending_yuan": "relending_total",
         "subsidy_yuan": "subsidy_total", "claimed_yuan": "claimed_total",
         "approved_yuan": "approved_total", "paid_yuan": "paid_total",
         "clawed_back_yuan": "clawed_back_total", "completed_yuan": "investment_completed"}
COUNTS = {"new_units": "new_units", "loans": "loan_count"}
# projects counted where a date of theirs is set: filed, construction started, warned
MARKED = {"filed": "filed_at", "started": "actual_start_on", "warned": "stall_warned_at"}
MEASURED = (*MONEY.values(), *COUNTS.values(), *MARKED.values())


def _month(moment) -> str:
    return moment.strftime("%Y-%m")


def _place(code: str) -> dict:
    return {"province_code": code[:2] + "0000", "city_code": code[:4] + "00"}


def measures_of(values: dict) -> dict:
    """A project's measures in the bucket it counts in (money in whole yuan)."""
    return {"projects": 1, **{c: yuan_from_wan(values[a] or 0) for c, a in MONEY.items()},
            **{c: values[a] or 0 for c, a in COUNTS.items()},
            **{c: int(values[a] is not None) for c, a in MARKED.items()}}


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
    if status == Status.COMPLETED and values["completed_on"] is not None:
        found.append((StatsCompletion, (code, values["completed_on"].year, shard), {
            "projects": 1, "actual_total_yuan": yuan_from_wan(values["actual_total_investment"] or 0),
            "actual_equipment_yuan": yuan_from_wan(values["actual_equipment_investment"] or 0)}))
    return found


def tallies(project_id: int, before: dict | None, after: dict) -> list[Tally]:
    """The rollup rows a project's change from `before` (None: a new project) to `after`
    moves (column values by attribute name), in key order — the lock order every writer
    follows."""
    had = measures_of(before) if before is not None else None
    # A step seldom changes money or counts; then the measures move as they were.
    has = had if had and all(before[a] == after[a] for a in MEASURED) else measures_of(after)
    moved: dict[tuple, dict] = {}
    for sign, values, bucket in ((-1, before, had), (1, after, has)):
        if values is None:
            continue
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


KEYS = {StatsBucket: ("jurisdiction_code", "batch_year", "status", "industry", "shard"),
        StatsMonth: ("jurisdiction_code", "batch_year", "month", "shard"),
        StatsStageDays: ("jurisdiction_code", "batch_year", "status", "shard"),
        StatsCompletion: ("jurisdiction_code", "year", "shard")}


MEASURES = {StatsBucket: ("projects", *MONEY, *COUNTS, *MARKED), StatsMonth: ("declared",),
            StatsStageDays: ("stays", "days", "longest"),
            StatsCompletion: ("projects", "actual_total_yuan", "actual_equipment_yuan")}


def _recounts() -> dict[type, tuple[list[str], object]]:
    """Per rollup table: its measure columns, and the query recounting all its rows."""
    dialect = db.session.connection().dialect.name
    # Literals, not bound parameters: PostgreSQL must see the grouped expressions as equal.
    month = (func.strftime(literal_column("'%Y-%m'"), Project.declared_at) if dialect == "sqlite"
             else func.to_char(Project.declared_at, literal_column("'YYYY-MM'")))
    year = func.coalesce(Project.batch_year, literal_column("0"))
    industry = func.coalesce(Project.industry, literal_column("''"))
    completed = cast(func.strftime(literal_column("'%Y'"), Project.completed_on)
                     if dialect == "sqlite" else extract("year", Project.completed_on), Integer)
    shard = Project.id % literal_column(str(SHARDS))
    place, regions = (Project.jurisdiction_code, year), (Project.province_code, Project.city_code)
    stay_place = (StageTime.jurisdiction_code, StageTime.batch_year)
    stay_shard = StageTime.project_id % literal_column(str(SHARDS))
    stay_regions = tuple(func.substr(StageTime.jurisdiction_code, 1, n).concat(literal_column(pad))
                         for n, pad in ((2, "'0000'"), (4, "'00'")))
    return {
        StatsBucket: (["projects", *MONEY, *COUNTS, *MARKED], select(
            *place, Project.status, industry, shard, *regions, func.count(),
            # raw sums in yuan, not read back through the 万元 column type
            *[func.coalesce(func.sum(getattr(Project, a)), literal_column("0"), type_=BigInteger)
              for a in (*MONEY.values(), *COUNTS.values())],
            *[func.count(getattr(Project, a)) for a in MARKED.values()])
            .group_by(*place, Project.status, industry, shard, *regions)),
        StatsMonth: (["declared"], select(*place, month, shard, *regions, func.count())
                     .where(Project.declared_at.is_not(None))
                     .group_by(*place, month, shard, *regions)),
        # A stay counts where it happened (the project may have moved since).
        StatsStageDays: (["stays", "days", "longest"], select(
            *stay_place, StageTime.status, stay_shard, *stay_regions, func.count(),
            func.sum(StageTime.working_days), func.max(StageTime.working_days))
            .group_by(*stay_place, StageTime.status, stay_shard, *stay_regions)),
        StatsCompletion: (["projects", "actual_total_yuan", "actual_equipment_yuan"], select(
            Project.jurisdiction_code, completed, shard, *regions, func.count(),
            *[func.coalesce(func.sum(column), literal_column("0"), type_=BigInteger)
              for column in (Project.__table__.c.actual_total_investment_yuan,
                             Project.__table__.c.actual_equipment_investment_yuan)])
            .where(Project.status == Status.COMPLETED, Project.completed_on.is_not(None))
            .group_by(Project.jurisdiction_code, completed, shard, *regions)),
    }


def rebuild() -> None:
    """Recount every rollup row from the projects and their closed stays (after bulk loads)."""
    for table, (measures, query) in _recounts().items():
        db.session.execute(table.__table__.delete())
        db.session.execute(table.__table__.insert().from_select(
            [*KEYS[table], "province_code", "city_code", *measures], query))


def differences() -> list[str]:
    """Where the kept rollup and a fresh recount disagree, or a project's loan sums and its
    loans' kept figures (empty when all agree)."""
    found = _loan_sum_differences() + _claim_sum_differences()
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


class Rollup:
    """The engine hook: the deltas a step moves, written with it."""

    @staticmethod
    def writes(step: Step) -> list[Tally]:
        state = step.state
        after = state.values(before=False)
        found = tallies(state.id, state.values(before=True), after)
        if step.stay is not None:
            found.append(stay_tally(state.id, step.stay.place, step.stay.status,
                                    step.stay.working_days))
        return found

    @staticmethod
    def written(step: Step, notified: list) -> None:
        return None


HOOK = Rollup()


# A project's kept sums ← its loans' kept figures (whole yuan, or a count).
LOAN_SUMS = {"drawn_total_yuan": "amount_yuan", "relending_total_yuan": "relending_principal_yuan",
             "subsidy_total_yuan": "subsidy_yuan", "loan_count": None}


def _loan_sum_differences() -> list[str]:
    projects, loans = Project.__table__, Loan.__table__
    sums = select(loans.c.project_id, *[
        (func.count() if column is None else func.sum(loans.c[column])).label(kept)
        for kept, column in LOAN_SUMS.items()]).group_by(loans.c.project_id).subquery()
    pairs = [(projects.c[kept], func.coalesce(sums.c[kept], 0)) for kept in LOAN_SUMS]
    query = (select(projects.c.public_id, *[column for pair in pairs for column in pair])
             .select_from(projects.outerjoin(sums, sums.c.project_id == projects.c.id))
             .where(or_(*[kept != summed for kept, summed in pairs])))
    found = []
    for public_id, *values in db.session.execute(query):
        wrong = [f"{kept.removesuffix('_yuan')} kept {values[2 * i]}, its loans sum to "
                 f"{values[2 * i + 1]}"
                 for i, kept in enumerate(LOAN_SUMS) if values[2 * i] != values[2 * i + 1]]
        found.append(f"project {public_id}: " + ", ".join(wrong))
    return found


# A project's kept sums ← its subsidy claims (a returned claim counts nowhere).
CLAIM_SUMS = {"claimed_total_yuan": "claimed_yuan", "approved_total_yuan": "approved_yuan",
              "paid_total_yuan": "paid_yuan", "clawed_back_total_yuan": "clawed_back_yuan"}


def _claim_sum_differences() -> list[str]:
    projects, claims = Project.__table__, SubsidyClaim.__table__
    sums = (select(claims.c.project_id, *[
        func.sum(func.coalesce(claims.c[column], 0)).label(kept)
        for kept, column in CLAIM_SUMS.items()])
        .where(claims.c.status != "returned").group_by(claims.c.project_id).subquery())
    pairs = [(projects.c[kept], func.coalesce(sums.c[kept], 0)) for kept in CLAIM_SUMS]
    query = (select(projects.c.public_id, *[column for pair in pairs for column in pair])
             .select_from(projects.outerjoin(sums, sums.c.project_id == projects.c.id))
             .where(or_(*[kept != summed for kept, summed in pairs])))
    return [f"project {public_id}: claims kept {values[0::2]}, its claims sum to {values[1::2]}"
            for public_id, *values in db.session.execute(query)]
