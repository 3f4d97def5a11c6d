"""The trigger vocabulary every definition shares (DESIGN.md), with each trigger's inputs.

Definitions decide who fires a trigger and when; what a trigger takes as input and what it
records is the same everywhere, so it lives here, in code.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ..labels import STEP_LABELS
from ..rules.money import MAX_AMOUNT

Text64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
ListKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
ProjectCode = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")]
Amount = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, max_digits=16, decimal_places=4)]
PositiveAmount = Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, max_digits=16, decimal_places=4)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoData(_Data):
    pass


ItemName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                            pattern=r"^[^\n\r]*$")]
ItemList = Annotated[list[ItemName], Field(min_length=1, max_length=20)]


class SendBackData(_Data):
    """The earlier agency step the project goes back to (one the transition names)."""

    to: Literal["recommend", "accept", "file"] | None = None


class AcceptData(_Data):
    """容缺受理: the documents accepted as missing, and the enterprise's written commitment
    (its reference) to supply them."""

    items_to_follow: ItemList | None = None
    commitment: Text64 | None = None


class SupplyItemsData(_Data):
    """The missing documents the enterprise now supplies (each one named at acceptance)."""

    items: ItemList | None = None


class SignCommitmentData(_Data):
    commitment_accepted: Literal[True] | None = None


class FileData(_Data):
    filing_number: Text64 | None = None
    project_code: ProjectCode | None = None


class WhitelistData(_Data):
    list: ListKey | None = None
    batch: Text64 | None = None


class ApproveCreditData(_Data):
    amount: PositiveAmount | None = None
    approved_on: date | None = None


class SignContractData(_Data):
    amount: PositiveAmount | None = None
    signed_on: date | None = None
    contract_number: Text64 | None = None
    term_months: Annotated[int, Field(ge=1, le=600)] | None = None


class RecordLoanData(_Data):
    amount: PositiveAmount | None = None
    drawdown_date: date | None = None
    supplier_paid_date: date | None = None
    other_subsidy: bool | None = None  # another programme subsidises this loan's interest


class ConfirmRefinancingData(_Data):
    loan: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{32,36}$")] | None = None
    refinanced_on: date | None = None


class OpinionData(_Data):
    """A preliminary procedure's outcome (前期手续: land, energy review, environment)."""

    opinion: Literal["approve", "object"] | None = None
    reference: Text64 | None = None  # the decision's document number (文号)
    decided_on: date | None = None


class ApproveChangeData(_Data):
    filing_number: Text64 | None = None


class ReportCompletionData(_Data):
    actual_total_investment: Amount | None = None
    actual_equipment_investment: Amount | None = None
    completed_on: date | None = None


ClaimRef = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{32,36}$")]
Period = Annotated[str, StringConstraints(pattern=r"^20[0-9]{2}Q[1-4]$")]


class ClaimSubsidyData(_Data):
    """A claim: the quarter of an interest programme; a grant's amount applied for."""

    period: Period | None = None
    amount: PositiveAmount | None = None


class ClaimData(_Data):
    """A decision on one claim (return, approval)."""

    claim: ClaimRef | None = None


class RecordPayoutData(_Data):
    claim: ClaimRef | None = None
    amount: PositiveAmount | None = None
    paid_on: date | None = None
    voucher: Text64 | None = None  # the payment voucher's number (凭证号)


class ClawBackData(_Data):
    claim: ClaimRef | None = None
    amount: PositiveAmount | None = None
    ground: Literal["failed_acceptance", "broken_commitment", "misuse"] | None = None


Position = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,2}$")]
Grade = Annotated[int, Field(ge=1, le=5)]


class VerifyCompletionData(_Data):
    """What the agency checked on site: the actual investment, the declared new equipment
    delivered (each one's energy-efficiency grade, by its row in the declaration, where it
    differs from the declared), the retired equipment disposed of."""

    checked_total_investment: Amount | None = None
    checked_equipment_investment: Amount | None = None
    equipment_delivered: bool | None = None
    retired_disposed: bool | None = None
    energy_grades: dict[Position, Grade] | None = Field(default=None, max_length=200)


class ReportProgressData(_Data):
    """A month's construction progress (月调度): the month reported (its first day, or
    YYYY-MM), the actual start, investment completed to date (万元), the declaration's new
    equipment installed (row → date), percent complete, problems needing help."""

    month: date | None = None
    actual_start_on: date | None = None
    investment_completed: Amount | None = None
    percent_complete: Annotated[int, Field(ge=0, le=100)] | None = None
    equipment_installed: dict[Position, date] | None = Field(default=None, max_length=200)
    problems: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None

    @field_validator("month", mode="before")
    @classmethod
    def _first_of_month(cls, value):
        if isinstance(value, str) and len(value) == 7:
            value += "-01"
        return value

    @field_validator("problems")
    @classmethod
    def _blank_is_none(cls, value):
        return value or None


class DeferBatchData(_Data):
    batch_year: Annotated[int, Field(ge=2024, le=2100)] | None = None


@dataclass(frozen=True)
class Trigger:
    name: str
    actor: str  # enterprise | agency | bank
    data: type[_Data] = NoData
    # Whether someone owes the step when it is possible (it then stands in their queue), or
    # it is an option beside what is owed: a negative decision, an offer a bank may take up.
    owed: bool = True
    # Where the signatures of a joint step (all_of / any_of) are kept: on the project's owed
    # rows (the step's effect waits for the last one), or on the claim the step names (its
    # effect records each).
    signatures: str = "project"

    @property
    def label(self):
        """The step's display name (lazy, in the reader's language)."""
        return STEP_LABELS[self.name]

    @property
    def inputs(self) -> tuple[str, ...]:
        """What `requires` may name: the comment, or a key of the trigger's data."""
        return ("comment", *self.data.model_fields)


TRIGGERS = {t.name: t for t in (
    Trigger("submit", "enterprise"),
    Trigger("withdraw", "enterprise", owed=False),
    Trigger("return", "agency", owed=False),
    Trigger("reject", "agency", owed=False),
    Trigger("recommend", "agency"),
    Trigger("accept", "agency", AcceptData),
    # 驳回到指定环节: back to an earlier agency step, not to the enterprise
    Trigger("send_back", "agency", SendBackData, owed=False),
    Trigger("supply_items", "enterprise", SupplyItemsData),
    Trigger("sign_commitment", "enterprise", SignCommitmentData),
    Trigger("record_opinion", "agency", OpinionData),
    Trigger("file", "agency", FileData),
    Trigger("approve_change", "agency", ApproveChangeData),
    Trigger("refuse_change", "agency", owed=False),
    Trigger("whitelist", "agency", WhitelistData),
    Trigger("express_interest", "bank", owed=False),
    Trigger("approve_credit", "bank", ApproveCreditData),
    Trigger("sign_contract", "bank", SignContractData),
    Trigger("claim_lead_bank", "bank", owed=False),
    Trigger("decline_claim", "agency", owed=False),
    Trigger("designate_lead_bank", "agency"),
    Trigger("record_loan", "bank", RecordLoanData, owed=False),
    Trigger("confirm_refinancing", "agency",
            ConfirmRefinancingData),
    Trigger("end_matchmaking", "enterprise", owed=False),
    Trigger("report_completion", "enterprise", ReportCompletionData),
    Trigger("verify_completion", "agency", VerifyCompletionData),
    Trigger("return_completion", "agency", owed=False),
    Trigger("fail_completion", "agency", owed=False),
    Trigger("report_progress", "enterprise", ReportProgressData),
    Trigger("answer_problem", "agency"),
    Trigger("exit_library", "agency"),
    Trigger("defer_batch", "agency", DeferBatchData, owed=False),
    # Fiscal support (贴息、奖补): a claim's life, in the stage (the status does not change).
    Trigger("claim_subsidy", "claimant", ClaimSubsidyData, owed=False),
    Trigger("return_claim", "agency", ClaimData, owed=False),
    Trigger("approve_subsidy", "agency", ClaimData, signatures="claim"),
    Trigger("record_payout", "agency", RecordPayoutData),
    Trigger("claw_back", "agency", ClawBackData, owed=False),
)}

# Audit-only steps: changes to a project that are not workflow triggers, each its own kind
# of audit event (engine.record and engine.create).
CREATE, EDIT, REQUEST_CHANGE = "create", "edit", "request_change"
SET_INTENDED_BANKS = "set_intended_banks"
IMPORT = "import"  # a draft entered by an agency from an offline declaration
ATTACH = "attach"  # a file added to the project
DETACH = "detach"  # a file its uploader took away again (draft or returned)
REMIND, ESCALATE = "remind", "escalate"  # a time limit near its end, or past it (the system)
WARN_STALLED = "warn_stalled"  # reports missed or no start: the accepting agency is warned
DESIGNATE = "designate"  # key-list and demonstration tags set by the accepting agency
# An officer takes an owed step from the role's shared queue, gives it back, or a head of
# section hands it to another officer (app.review.people).
CLAIM, RELEASE, REASSIGN = "claim_step", "release_step", "reassign_step"
# A project in flight moved onto a new version of its definition (flask workflows migrate).
MIGRATE = "migrate_workflow"
# Items to follow (容缺) still missing after their due day: the project returns by itself.
ITEMS_LAPSED = "items_lapsed"
AUDIT_ONLY = frozenset({CREATE, EDIT, REQUEST_CHANGE, SET_INTENDED_BANKS, IMPORT, ATTACH,
                        DETACH, REMIND, ESCALATE, WARN_STALLED, DESIGNATE, CLAIM, RELEASE,
                        REASSIGN, MIGRATE, ITEMS_LAPSED})
