"""All mapped classes, importable from one place (and seen by Alembic)."""

from .base import Base, china_today, utcnow
from .events import WorkflowEvent
from .finance import BankClaim, ClaimStatus, ListEntry, Loan
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

__all__ = [
    "STAGES", "AgencyKind", "ApiToken", "BankClaim", "Base", "ClaimStatus", "EquipmentItem",
    "EquipmentKind", "Jurisdiction", "Level", "ListEntry", "Loan", "OrgKind", "Organization",
    "Project", "Status", "Task", "User", "WorkflowEvent", "ancestor_codes", "bank_service_areas",
    "china_today", "utcnow",
]
