"""shifted runs: the record's columns for a run moved in time (wait, @carbon_aware)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen here as they were added to records.SPEC: a migration never reads the live spec.
COLUMNS = (
    ("shifted_from", sa.Text()),
    ("shifted_to", sa.Text()),
    ("shift_intensity_from_g_per_kwh", sa.Float(precision=53)),
    ("shift_intensity_to_g_per_kwh", sa.Float(precision=53)),
    ("shift_saving_kg", sa.Float(precision=53)),
    ("shift_saving_low_kg", sa.Float(precision=53)),
    ("shift_saving_high_kg", sa.Float(precision=53)),
    ("shift_source", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("emissions", schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("emissions", schema=None) as batch_op:
        for name, _kind in reversed(COLUMNS):
            batch_op.drop_column(name)
