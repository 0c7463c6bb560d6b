"""runs summary: each run keeps the columns of its newest row that summaries read, so that a
summary reads the runs alone, never the emissions (one lookup per run was most of its time)

Revision ID: 0005_t11
Revises: 0004
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_t11"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen here as models.NEWEST had them: name on the run, the emissions' column it copies, type.
COLUMNS = (
    ("last_timestamp", "timestamp", sa.Text()),
    ("last_status", "status", sa.Text()),
    ("last_wattprint_version", "wattprint_version", sa.Text()),
    ("last_experiment_id", "experiment_id", sa.Text()),
    ("last_experiment_name", "experiment_name", sa.Text()),
    ("last_country_iso_code", "country_iso_code", sa.Text()),
    ("last_region", "region", sa.Text()),
    ("last_on_cloud", "on_cloud", sa.Text()),
    ("last_cloud_provider", "cloud_provider", sa.Text()),
    ("last_cloud_region", "cloud_region", sa.Text()),
    ("last_pue", "pue", sa.Float(precision=53)),
    ("last_intensity_source", "intensity_source", sa.Text()),
    ("last_intensity_kind", "intensity_kind", sa.Text()),
    ("last_cpu_method", "cpu_method", sa.Text()),
    ("last_gpu_method", "gpu_method", sa.Text()),
    ("last_ram_method", "ram_method", sa.Text()),
    ("last_machine_energy_kwh", "machine_energy_kwh", sa.Float(precision=53)),
    ("last_machine_emissions_kg", "machine_emissions_kg", sa.Float(precision=53)),
    ("last_embodied_kg", "embodied_kg", sa.Float(precision=53)),
    ("last_embodied_low_kg", "embodied_low_kg", sa.Float(precision=53)),
    ("last_embodied_high_kg", "embodied_high_kg", sa.Float(precision=53)),
    ("last_embodied_method", "embodied_method", sa.Text()),
    ("last_units", "units", sa.Float(precision=53)),
    ("last_functional_unit", "functional_unit", sa.Text()),
    ("last_llm_calls", "llm_calls", sa.BigInteger()),
    ("last_llm_energy_kwh", "llm_energy_kwh", sa.Float(precision=53)),
    ("last_llm_energy_low_kwh", "llm_energy_low_kwh", sa.Float(precision=53)),
    ("last_llm_energy_high_kwh", "llm_energy_high_kwh", sa.Float(precision=53)),
    ("last_llm_emissions_kg", "llm_emissions_kg", sa.Float(precision=53)),
    ("last_llm_emissions_low_kg", "llm_emissions_low_kg", sa.Float(precision=53)),
    ("last_llm_emissions_high_kg", "llm_emissions_high_kg", sa.Float(precision=53)),
    ("last_llm_detail", "llm_detail", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        for name, _column, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
    # Each run's newest row fills them (the row its totals follow): one UPDATE ... FROM.
    runs = sa.table("runs", sa.column("last_emission_id"),
                    *(sa.column(name) for name, _c, _k in COLUMNS))  # fmt: skip
    emissions = sa.table("emissions", sa.column("id"),
                         *(sa.column(column) for _n, column, _k in COLUMNS))  # fmt: skip
    op.execute(
        sa.update(runs)
        .where(runs.c.last_emission_id == emissions.c.id)
        .values({name: emissions.c[column] for name, column, _k in COLUMNS})
    )


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        for name, _column, _kind in reversed(COLUMNS):
            batch_op.drop_column(name)
