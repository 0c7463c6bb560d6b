"""attribution and footprint: the record's columns for shared machines and clusters (scope,
shares, job placement, container) and for the rest of the footprint (embodied, SCI, LLM calls)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen here as they were added to records.SPEC: a migration never reads the live spec.
COLUMNS = (
    ("scope", sa.Text()),
    ("idle_policy", sa.Text()),
    ("cpu_share", sa.Float(precision=53)),
    ("ram_share", sa.Float(precision=53)),
    ("platform_share", sa.Float(precision=53)),
    ("gpu_share", sa.Float(precision=53)),
    ("gpu_share_method", sa.Text()),
    ("job_id", sa.Text()),
    ("job_step", sa.Text()),
    ("node", sa.Text()),
    ("rank", sa.BigInteger()),
    ("local_rank", sa.BigInteger()),
    ("world_size", sa.BigInteger()),
    ("container_id", sa.Text()),
    ("pod", sa.Text()),
    ("namespace", sa.Text()),
    ("sync_gpu", sa.Text()),
    ("embodied_kg", sa.Float(precision=53)),
    ("embodied_low_kg", sa.Float(precision=53)),
    ("embodied_high_kg", sa.Float(precision=53)),
    ("embodied_method", sa.Text()),
    ("embodied_source", sa.Text()),
    ("units", sa.Float(precision=53)),
    ("functional_unit", sa.Text()),
    ("sci_g_per_unit", sa.Float(precision=53)),
    ("sci_low_g_per_unit", sa.Float(precision=53)),
    ("sci_high_g_per_unit", sa.Float(precision=53)),
    ("llm_calls", sa.BigInteger()),
    ("llm_energy_kwh", sa.Float(precision=53)),
    ("llm_energy_low_kwh", sa.Float(precision=53)),
    ("llm_energy_high_kwh", sa.Float(precision=53)),
    ("llm_emissions_kg", sa.Float(precision=53)),
    ("llm_emissions_low_kg", sa.Float(precision=53)),
    ("llm_emissions_high_kg", sa.Float(precision=53)),
    ("llm_detail", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("emissions", schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("emissions", schema=None) as batch_op:
        for name, _kind in reversed(COLUMNS):
            batch_op.drop_column(name)
