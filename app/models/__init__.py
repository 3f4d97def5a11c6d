"""All mapped classes, importable from one place (and seen by Alembic)."""

from .base import CHINA, UTC_ZONE, Base, china_date, china_today, utcnow
from .designation import Designation, DesignationTag
from .events import SecurityEvent, SecurityTally, WorkflowEvent
from .finance import BankClaim, ClaimStatus, Engagement, IntendedBank, ListEntry, Loan
from .inbox import Attachment, AttachmentKind, Comment, MailState, Notification
from .jobs import Job, JobFile, JobStatus
from .org import (
    AgencyKind,
    ApiToken,
    Delegation,
    Jurisdiction,
    Level,
    Organization,
    OrgKind,
    OrgLink,
    User,
    ancestor_codes,
    bank_service_areas,
)
from .progress import ProgressReport
from .project import (
    STAGES,
    EquipmentItem,
    EquipmentKind,
    PolicyClass,
    Project,
    ProjectFacts,
    Status,
    Task,
)
from .reports import (
    Baseline,
    PlanEntry,
    PlanImport,
    StageTime,
    StatsBucket,
    StatsCompletion,
    StatsMonth,
    StatsStageDays,
)
from .review import ChangeRequest, ChangeStatus, Opinion, Verdict
from .subsidy import SubsidyClaim, SubsidyStatus
from .workflow import Deadline, DefinitionSnapshot, LocalSetting

__all__ = [
    "StatsBucket", "StatsCompletion", "StatsMonth", "StatsStageDays",
    "Designation", "DesignationTag", "OrgLink", "ProgressReport", "SubsidyClaim", "SubsidyStatus",
    "SecurityEvent",
    "SecurityTally",
    "CHINA",
    "Baseline", "Job", "JobFile", "JobStatus", "MailState", "PlanEntry", "PlanImport", "StageTime",
    "AgencyKind", "ApiToken", "Delegation", "Attachment", "AttachmentKind", "BankClaim", "Base",
    "ChangeRequest", "ChangeStatus", "ClaimStatus", "Comment", "Deadline", "DefinitionSnapshot",
    "Engagement", "EquipmentItem", "EquipmentKind", "IntendedBank", "Jurisdiction", "Level",
    "ListEntry", "LocalSetting", "Loan", "Notification", "Opinion", "OrgKind", "Organization", "PolicyClass",
    "Project", "ProjectFacts", "STAGES", "Status", "Task", "UTC_ZONE", "User", "Verdict", "WorkflowEvent",
    "ancestor_codes", "bank_service_areas", "china_date", "china_today", "utcnow",
]
