"""All mapped classes, importable from one place (and seen by Alembic)."""

from .base import UTC_ZONE, Base, china_today, utcnow
from .events import WorkflowEvent
from .finance import BankClaim, ClaimStatus, ListEntry, Loan
from .inbox import Attachment, AttachmentKind, Comment, Notification
from .org import (
    AgencyKind,
    ApiToken,
    Jurisdiction,
    Level,
    Organization,
    OrgKind,
    User,
    ancestor_codes,
    bank_service_areas,
)
from .project import STAGES, EquipmentItem, EquipmentKind, Project, Status, Task
from .review import ChangeRequest, ChangeStatus, Opinion, Verdict
from .workflow import Deadline, DefinitionSnapshot

__all__ = [
    "STAGES", "AgencyKind", "ApiToken", "Attachment", "AttachmentKind", "Comment",
    "Notification", "BankClaim", "Base", "ChangeRequest", "ChangeStatus",
    "ClaimStatus", "Deadline", "DefinitionSnapshot", "EquipmentItem", "Opinion", "Verdict",
    "EquipmentKind", "Jurisdiction", "Level", "ListEntry", "Loan", "OrgKind", "Organization",
    "Project", "Status", "Task", "User", "WorkflowEvent", "ancestor_codes", "bank_service_areas",
    "UTC_ZONE", "china_today", "utcnow",
]
