"""Financing seen from each side: the enterprise's intended banks, each bank's own progress
and loans (a bank never sees another bank's figures), and per-loan relending and subsidy
figures."""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import access
from ..errors import Invalid
from ..extensions import db
from ..i18n import gettext as _
from ..models import (
    BankClaim,
    Engagement,
    IntendedBank,
    ListEntry,
    Loan,
    Organization,
    OrgKind,
    Project,
    User,
    bank_service_areas,
    china_today,
)
from ..models.org import ancestor_codes
from ..rules.finance import LoanFigures, kept_figures
from ..rules.parameters import parameter
from ..workflow import SET_INTENDED_BANKS, workflows
from ..workflow.changeset import Delete, Insert


def banks_serving(jurisdiction_code: str) -> list[Organization]:
    """Banks whose service areas contain the place, by name."""
    return list(db.session.scalars(
        select(Organization).join(bank_service_areas,
                                  bank_service_areas.c.bank_id == Organization.id)
        .where(Organization.kind == OrgKind.BANK,
               bank_service_areas.c.jurisdiction_code.in_(ancestor_codes(jurisdiction_code)))
        .order_by(Organization.name).distinct()))


def set_intended_banks(actor: User, project: Project, version: int,
                       bank_ids: list[str], today: date | None = None) -> Project:
    """The enterprise names the banks it would like to borrow from, in order."""
    today = today or china_today()
    if refusal := access.name_banks_refusal(actor, project):
        raise refusal
    limit = int(parameter("relending_max_intended_banks", today, project.jurisdiction_code))
    if len(bank_ids) > limit:
        raise Invalid(_("Please correct the marked fields."), fields={
            "banks": _("Name at most %(n)s banks.", n=limit)})
    serving = {str(bank.public_id): bank for bank in banks_serving(project.jurisdiction_code)}
    chosen = []
    for bank_id in bank_ids:
        bank = serving.get(str(bank_id))
        if bank is None or bank in chosen:
            raise Invalid(_("Please correct the marked fields."), fields={
                "banks": _("Choose distinct banks that serve the project's region.")})
        chosen.append(bank)

    def name(state, changes) -> dict:
        table = IntendedBank.__table__
        changes.extend([Delete(table, {"project_id": state.id}), *[
            Insert(table, {"project_id": state.id, "bank_id": bank.id, "position": position})
            for position, bank in enumerate(chosen, start=1)]])
        return {"banks": [b.name for b in chosen]}

    workflows().record(project, SET_INTENDED_BANKS, actor, version=version, change=name,
                       today=today)
    return project


def intended_banks(project: Project) -> list[Organization]:
    return [row.bank for row in db.session.scalars(
        select(IntendedBank).where(IntendedBank.project_id == project.id)
        .order_by(IntendedBank.position))]


def lists_of(project: Project) -> list[ListEntry]:
    return list(db.session.scalars(select(ListEntry).where(ListEntry.project_id == project.id)
                                   .order_by(ListEntry.added_at)))


@dataclass
class LoanView:
    loan: Loan
    figures: LoanFigures


@dataclass
class Financing:
    intended_banks: list
    lists: list
    claims: list
    engagements: list
    loans: list[LoanView]


def financing(user: User, project: Project, present: set | None = None) -> Financing:
    """The project's financing as `user` may see it. `present`, when given, names the
    tables holding rows of the project (see project_page.children_present): the others are
    not queried."""
    def rows(name, load):
        return load() if present is None or name in present else []

    lists = rows("lists", lambda: lists_of(project))
    listed = any(entry.list_key == "relending" for entry in lists)
    loans = access.own_rows(user, rows("loans", lambda: list(db.session.scalars(
        select(Loan).where(Loan.project_id == project.id)
        .order_by(Loan.drawdown_date, Loan.id)))))
    return Financing(
        intended_banks=rows("intended_banks", lambda: intended_banks(project)),
        lists=lists,
        claims=access.own_rows(user, rows("claims", lambda: list(db.session.scalars(select(BankClaim).where(
            BankClaim.project_id == project.id).order_by(BankClaim.id))))),
        engagements=access.own_rows(user, rows("engagements", lambda: list(db.session.scalars(
            select(Engagement).where(Engagement.project_id == project.id)
            .order_by(Engagement.id))))),
        loans=[LoanView(loan, kept_figures(loan, listed=listed)) for loan in loans],
    )


def loan_book(user: User, limit: int = 500) -> list[tuple[Loan, Project, LoanFigures]]:
    """The loans a user may see with their figures: a bank's own book, or an agency's region."""
    query = (select(Loan, Project).join(Project, Loan.project_id == Project.id)
             .where(access.visible_condition(user)).options(joinedload(Loan.bank))
             .order_by(Loan.drawdown_date.desc(), Loan.id.desc()).limit(limit))
    if user.organization.kind == OrgKind.BANK:
        query = query.where(Loan.bank_id == user.organization_id)
    rows = db.session.execute(query).all()
    listed = set(db.session.scalars(select(ListEntry.project_id).where(
        ListEntry.list_key == "relending",
        ListEntry.project_id.in_({project.id for _loan, project in rows}))))
    return [(loan, project, kept_figures(loan, listed=project.id in listed))
            for loan, project in rows]


def parse_ids(values) -> list[str]:
    ids = []
    for value in values:
        try:
            ids.append(str(uuid.UUID(str(value))))
        except ValueError:
            raise Invalid(_("Please correct the marked fields."), fields={
                "banks": _("Choose distinct banks that serve the project's region.")}) from None
    return ids
