"""Key and demonstration projects: designations by the accepting agency, independent of
financing (a project may be on the provincial key list and a smart-factory demonstration)."""

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .org import _enum


class DesignationTag(enum.StrEnum):
    KEY_LIST = "key_list"  # 省级重点项目 (≥ 2,000 万元, practice)
    SMART_FACTORY = "smart_factory"  # 智能工厂
    DIGITAL_WORKSHOP = "digital_workshop"  # 数字化车间
    GREEN_FACTORY = "green_factory"  # 绿色工厂
    ROBOT_SUBSTITUTION = "robot_substitution"  # 机器换人
    TYPICAL_CASE = "typical_case"  # 典型案例


class Designation(Base):
    __tablename__ = "designations"
    __table_args__ = (UniqueConstraint("project_id", "tag", name="uq_designations_tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    tag: Mapped[DesignationTag] = mapped_column(_enum(DesignationTag, "designation_tag"))
    # Where the project lies, for counts per region without a join.
    jurisdiction_code: Mapped[str] = mapped_column(String(6))
    province_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    designated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    designated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
