"""Request and response bodies (pydantic). Inputs forbid unknown fields, so a misspelt one is a
422 that names it rather than a setting silently ignored."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Name = Field(min_length=1, max_length=200, pattern=r"\S")
Text = Field(default="", max_length=5000)
Role = Literal["owner", "admin", "member", "viewer"]
Scope = Literal["ingest", "read"]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Login(In):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


class AccessToken(Out):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime | None = None


class OrganizationIn(In):
    name: str = Name
    description: str = Text


class Rename(In):
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"\S")
    description: str | None = Field(default=None, max_length=5000)


class OrganizationOut(Out):
    id: int
    name: str
    description: str
    created_at: datetime


class TeamIn(In):
    organization_id: int
    name: str = Name
    description: str = Text


class TeamOut(Out):
    id: int
    organization_id: int
    name: str
    description: str
    created_at: datetime


class ProjectIn(In):
    organization_id: int
    name: str = Name
    description: str = Text
    team_id: int | None = None


class ProjectPatch(Rename):
    team_id: int | None = None


class ProjectOut(Out):
    id: int
    organization_id: int
    team_id: int | None
    name: str
    description: str
    created_at: datetime


class ExperimentIn(In):
    project_id: int
    name: str = Name
    description: str = Text


class ExperimentOut(Out):
    id: int
    project_id: int
    name: str
    description: str
    created_at: datetime


class RunOut(Out):
    id: int
    project_id: int
    experiment_id: int
    client_run_id: str
    name: str
    source: str
    status: str
    started_at: datetime | None
    last_at: datetime | None
    last_seen: datetime
    emissions_count: int
    duration_s: float | None
    energy_kwh: float | None
    energy_low_kwh: float | None
    energy_high_kwh: float | None
    emissions_kg: float | None
    emissions_low_kg: float | None
    emissions_high_kg: float | None


class RunPatch(In):
    name: str | None = Field(default=None, max_length=200)
    experiment_id: int | None = None


class MemberIn(In):
    email: str = Field(min_length=3, max_length=320)
    role: Role


class MemberPatch(In):
    role: Role


class MemberOut(Out):
    user_id: int
    email: str
    role: str


class TeamMemberIn(In):
    user_id: int


class UserOut(Out):
    id: int
    email: str
    is_admin: bool
    created_at: datetime


class ProjectTokenIn(In):
    name: str = Field(default="", max_length=200)
    scopes: list[Scope] = Field(default_factory=lambda: ["ingest"], min_length=1)


class ProjectTokenOut(Out):
    id: int
    project_id: int
    name: str
    prefix: str
    scopes: str
    created_at: datetime
    last_used: datetime | None
    revoked_at: datetime | None


class PersonalTokenIn(In):
    name: str = Field(default="", max_length=200)
    expires_days: float | None = Field(default=None, gt=0, le=3650)


class PersonalTokenOut(Out):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(BaseModel):
    """A token as made: the only time its value is shown."""

    token: str
    details: dict[str, Any]


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None


class IngestResult(BaseModel):
    key: Any
    status: Literal["created", "duplicate", "rejected"]
    error: str | None


class IngestOut(BaseModel):
    results: list[IngestResult]
    created: int
    duplicates: int
    rejected: int
