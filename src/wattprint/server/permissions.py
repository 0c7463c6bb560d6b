"""Who may do what: ONE table, and ONE function every check goes through.

A user acts in an organization through their role there (the server's administrators in all of
them), and, in the projects of the teams they belong to, with what ``TEAM_GRANTS`` adds to that
role; a project token acts on its own project only, through its scopes. Whoever may not even
read an organization or project is told it does not exist (404), so ids reveal nothing; whoever
may read it but not do this is refused (403).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: action -> (organization roles allowed, project-token scopes allowed)
ALLOWED: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # see the organization's teams, projects, experiments, runs, summaries, exports
    "read": (frozenset({"owner", "admin", "member", "viewer"}), frozenset({"read"})),
    # see the names of a project and its experiments (CodeCarbon's client asks before sending)
    "describe": (
        frozenset({"owner", "admin", "member", "viewer"}),
        frozenset({"ingest", "read"}),
    ),
    # send runs and emissions (POST /api/v1/records, CodeCarbon's client)
    "ingest": (frozenset(), frozenset({"ingest"})),
    # create and edit projects, experiments; delete runs and experiments
    "write": (frozenset({"owner", "admin", "member"}), frozenset()),
    # teams (and moving projects between them), members and roles, project tokens; delete
    # projects and teams
    "manage": (frozenset({"owner", "admin"}), frozenset()),
    # delete the organization, make or unmake owners
    "own": (frozenset({"owner"}), frozenset()),
}
ACTIONS = tuple(ALLOWED)

#: What membership of a team adds to a user's organization role, in that team's projects only:
#: the team's people work on its projects (create and edit experiments, edit the project, rename
#: and delete its runs and experiments), a viewer of the organization included. Teams themselves
#: (create, rename, delete, members, which projects are in them) and project tokens stay with
#: the organization's admins and owners ("manage"): joining a team never lets its members manage
#: it. Only a member of the organization can be in one of its teams, and leaving the organization
#: leaves its teams (``store.remove_membership``).
TEAM_GRANTS = frozenset({"read", "describe", "write"})


class NotFoundError(LookupError):
    """No such thing, or none this principal may see (the same answer, on purpose)."""


class ForbiddenError(PermissionError):
    """The principal sees it but may not do this."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (with their roles) or a project token (with its scopes)."""

    user_id: int | None = None
    is_admin: bool = False
    roles: dict[int, str] = field(default_factory=dict)  # organization id -> role
    team_projects: frozenset[int] = frozenset()  # projects of the teams the user is in
    token_id: int | None = None
    token_project_id: int | None = None
    token_organization_id: int | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def is_token(self) -> bool:
        return self.token_id is not None

    def visible_organizations(self) -> set[int] | None:
        """The organizations it may list; None: all of them (an administrator)."""
        if self.is_admin:
            return None
        if self.is_token:
            return {self.token_organization_id} if "read" in self.scopes else set()
        return set(self.roles)


def check(
    principal: Principal, action: str, organization_id: int, project_id: int | None = None
) -> None:
    """Raise unless ``principal`` may do ``action`` in this organization (and project)."""
    roles, scopes = ALLOWED[action]
    if principal.is_token:
        # A project token exists for one project: anything else is not there for it.
        if organization_id != principal.token_organization_id or (
            project_id != principal.token_project_id
        ):
            raise NotFoundError()
        if not scopes & principal.scopes:
            raise ForbiddenError(
                f"this project token may not {action} (its scopes: "
                f"{', '.join(sorted(principal.scopes)) or 'none'})"
            )
        return
    if principal.is_admin:
        return
    role = principal.roles.get(organization_id)
    if role is None:
        raise NotFoundError()
    if role in roles or _team_grants(principal, action, project_id):
        return
    if action in TEAM_GRANTS and project_id is not None:
        raise ForbiddenError(
            f"a {role} of this organization may not {action} here: only in the projects of a "
            "team they are in (an admin of the organization adds them to it)"
        )
    raise ForbiddenError(f"a {role} of this organization may not {action}")


def _team_grants(principal: Principal, action: str, project_id: int | None) -> bool:
    """Whether the user's teams grant ``action`` on this project (never on the organization)."""
    return (
        action in TEAM_GRANTS and project_id is not None and project_id in principal.team_projects
    )


def may(
    principal: Principal, action: str, organization_id: int, project_id: int | None = None
) -> bool:
    try:
        check(principal, action, organization_id, project_id)
    except (NotFoundError, ForbiddenError):
        return False
    return True


def require_user(principal: Principal) -> int:
    """The user's id; a project token is refused (it may only do what its scopes say)."""
    if principal.user_id is None:
        raise ForbiddenError("this needs a user's token, not a project token")
    return principal.user_id
