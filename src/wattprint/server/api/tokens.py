from __future__ import annotations

from fastapi import APIRouter

from .. import store
from ..models import ProjectToken
from . import common
from .deps import DB, Who

router = APIRouter(prefix="/tokens", tags=["projects"])


@router.delete("/{token_id}", status_code=204)
def revoke_project_token(token_id: int, db: DB, who: Who) -> None:
    """Revoke a project token: it is refused from now on (its row stays, for the record)."""
    token = store.get(db, ProjectToken, token_id)
    common.allowed(db, who, "manage", token)
    store.revoke(db, token)
