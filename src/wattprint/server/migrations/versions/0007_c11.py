"""summary cells: each (project, day)'s settled runs summed up once, so that summaries add up
cells, not runs; a trigger on runs takes a day out of the cells when one of its runs changes

Revision ID: 0007_c11
Revises: 0006_u12m
Create Date: 2026-12-03 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_c11"
down_revision = "0006_u12m"
branch_labels = None
depends_on = None

# Frozen here as models.CELL_KEYS and CELL_MEASURES had them (project_id and day: not null).
KEYS = (
    ("source", sa.Text()),
    ("from_interval", sa.Boolean()),
    ("status", sa.Text()),
    ("wattprint_version", sa.Text()),
    ("intensity_source", sa.Text()),
    ("intensity_kind", sa.Text()),
    ("cpu_method", sa.Text()),
    ("gpu_method", sa.Text()),
    ("ram_method", sa.Text()),
    ("country_iso_code", sa.Text()),
    ("on_cloud", sa.Text()),
    ("cloud_provider", sa.Text()),
    ("cloud_region", sa.Text()),
    ("functional_unit", sa.Text()),
    ("embodied_method", sa.Text()),
    ("has_units", sa.Integer()),
    ("day", sa.Text()),
    ("region", sa.Text()),
    ("experiment_name", sa.Text()),
    ("experiment_id", sa.Text()),
    ("project_id", sa.Integer()),
    ("experiment_pk", sa.Integer()),
    ("run_status", sa.Text()),
)
MEASURES = (
    ("n", sa.BigInteger()),
    ("first", sa.BigInteger()),
    ("v_duration", sa.Float(precision=53)),
    ("k_duration", sa.BigInteger()),
    ("v_energy_consumed", sa.Float(precision=53)),
    ("k_energy_consumed", sa.BigInteger()),
    ("v_cpu_energy", sa.Float(precision=53)),
    ("k_cpu_energy", sa.BigInteger()),
    ("v_gpu_energy", sa.Float(precision=53)),
    ("k_gpu_energy", sa.BigInteger()),
    ("v_ram_energy", sa.Float(precision=53)),
    ("k_ram_energy", sa.BigInteger()),
    ("v_platform_energy_kwh", sa.Float(precision=53)),
    ("k_platform_energy_kwh", sa.BigInteger()),
    ("v_emissions", sa.Float(precision=53)),
    ("k_emissions", sa.BigInteger()),
    ("v_machine_energy_kwh", sa.Float(precision=53)),
    ("k_machine_energy_kwh", sa.BigInteger()),
    ("v_machine_emissions_kg", sa.Float(precision=53)),
    ("k_machine_emissions_kg", sa.BigInteger()),
    ("v_embodied_kg", sa.Float(precision=53)),
    ("k_embodied_kg", sa.BigInteger()),
    ("v_llm_emissions_kg", sa.Float(precision=53)),
    ("k_llm_emissions_kg", sa.BigInteger()),
    ("v_llm_energy_kwh", sa.Float(precision=53)),
    ("k_llm_energy_kwh", sa.BigInteger()),
    ("v_llm_calls", sa.Float(precision=53)),
    ("k_llm_calls", sa.BigInteger()),
    ("v_units", sa.Float(precision=53)),
    ("k_units", sa.BigInteger()),
    ("v_water_consumed", sa.Float(precision=53)),
    ("k_water_consumed", sa.BigInteger()),
    ("b_energy", sa.BigInteger()),
    ("lo_energy", sa.Float(precision=53)),
    ("hi_energy", sa.Float(precision=53)),
    ("b_cpu", sa.BigInteger()),
    ("lo_cpu", sa.Float(precision=53)),
    ("hi_cpu", sa.Float(precision=53)),
    ("b_gpu", sa.BigInteger()),
    ("lo_gpu", sa.Float(precision=53)),
    ("hi_gpu", sa.Float(precision=53)),
    ("b_ram", sa.BigInteger()),
    ("lo_ram", sa.Float(precision=53)),
    ("hi_ram", sa.Float(precision=53)),
    ("b_platform", sa.BigInteger()),
    ("lo_platform", sa.Float(precision=53)),
    ("hi_platform", sa.Float(precision=53)),
    ("b_emissions", sa.BigInteger()),
    ("lo_emissions", sa.Float(precision=53)),
    ("hi_emissions", sa.Float(precision=53)),
    ("ck_emissions", sa.BigInteger()),
    ("cv_emissions", sa.Float(precision=53)),
    ("cl_emissions", sa.BigInteger()),
    ("ch_emissions", sa.BigInteger()),
    ("clo_emissions", sa.Float(precision=53)),
    ("chi_emissions", sa.Float(precision=53)),
    ("ck_embodied", sa.BigInteger()),
    ("cv_embodied", sa.Float(precision=53)),
    ("cl_embodied", sa.BigInteger()),
    ("ch_embodied", sa.BigInteger()),
    ("clo_embodied", sa.Float(precision=53)),
    ("chi_embodied", sa.Float(precision=53)),
    ("ck_llm", sa.BigInteger()),
    ("cv_llm", sa.Float(precision=53)),
    ("cl_llm", sa.BigInteger()),
    ("ch_llm", sa.BigInteger()),
    ("clo_llm", sa.Float(precision=53)),
    ("chi_llm", sa.Float(precision=53)),
    ("ck_llm_energy", sa.BigInteger()),
    ("cv_llm_energy", sa.Float(precision=53)),
    ("cl_llm_energy", sa.BigInteger()),
    ("ch_llm_energy", sa.BigInteger()),
    ("clo_llm_energy", sa.Float(precision=53)),
    ("chi_llm_energy", sa.Float(precision=53)),
    ("callers", sa.BigInteger()),
    ("grams_kg", sa.Float(precision=53)),
    ("grams_kwh", sa.Float(precision=53)),
    ("it_kwh", sa.Float(precision=53)),
    ("details", sa.BigInteger()),
)
# What a cell is made of on a run (runrows reads them): an UPDATE of other columns (last_seen,
# emissions_count: each batch touches them) changes no cell and fires nothing. A later migration
# that makes summaries read another column of runs re-creates the triggers with it (a test
# holds this list to what runrows reads).
READ = ("project_id", "experiment_id", "source", "status", "last_emission_id",
        "duration_s", "energy_kwh", "energy_low_kwh", "energy_high_kwh", "cpu_energy_kwh",
        "cpu_energy_low_kwh", "cpu_energy_high_kwh", "gpu_energy_kwh", "gpu_energy_low_kwh",
        "gpu_energy_high_kwh", "ram_energy_kwh", "ram_energy_low_kwh", "ram_energy_high_kwh",
        "platform_energy_kwh", "platform_energy_low_kwh", "platform_energy_high_kwh",
        "emissions_kg", "emissions_low_kg", "emissions_high_kg", "water_l",
        "last_timestamp", "last_status", "last_wattprint_version", "last_experiment_id",
        "last_experiment_name", "last_country_iso_code", "last_region", "last_on_cloud",
        "last_cloud_provider", "last_cloud_region", "last_pue", "last_intensity_source",
        "last_intensity_kind", "last_cpu_method", "last_gpu_method", "last_ram_method",
        "last_machine_energy_kwh", "last_machine_emissions_kg", "last_embodied_kg",
        "last_embodied_low_kg", "last_embodied_high_kg", "last_embodied_method", "last_units",
        "last_functional_unit", "last_llm_calls", "last_llm_energy_kwh",
        "last_llm_energy_low_kwh", "last_llm_energy_high_kwh", "last_llm_emissions_kg",
        "last_llm_emissions_low_kg", "last_llm_emissions_high_kg", "last_llm_detail")  # fmt: skip
# The day as the summaries' cube reads it (rollup._day) from a run's newest row's timestamp.
_DAY = "substr(trim({row}.last_timestamp), 1, 10)"
_FORGET = "DELETE FROM summary_days WHERE project_id = {row}.project_id AND day = " + _DAY
# An UPDATE that leaves a run on its (project, day) needs its day forgotten once, not twice.
_MOVED = "(OLD.project_id IS DISTINCT FROM NEW.project_id OR {old} IS DISTINCT FROM {new})".format(
    old=_DAY.format(row="OLD"), new=_DAY.format(row="NEW")
)


def _sqlite_triggers() -> list[str]:
    # A run inserted, changed or deleted takes its day (before and after) out of the cells.
    moved = _MOVED.replace("IS DISTINCT FROM", "IS NOT")
    of = ", ".join(READ)
    return [
        f"CREATE TRIGGER runs_forget_summary_insert AFTER INSERT ON runs BEGIN "
        f"{_FORGET.format(row='NEW')}; END",
        f"CREATE TRIGGER runs_forget_summary_update AFTER UPDATE OF {of} ON runs BEGIN "
        f"{_FORGET.format(row='NEW')}; {_FORGET.format(row='OLD')} AND {moved}; END",
        f"CREATE TRIGGER runs_forget_summary_delete AFTER DELETE ON runs BEGIN "
        f"{_FORGET.format(row='OLD')}; END",
    ]


def _postgresql_triggers() -> list[str]:
    old, new = _FORGET.format(row="OLD"), _FORGET.format(row="NEW")
    return [
        "CREATE FUNCTION runs_forget_summary() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' THEN {old}; "
        f"ELSIF TG_OP = 'INSERT' THEN {new}; "
        f"ELSE {new}; IF {_MOVED} THEN {old}; END IF; END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER runs_forget_summary_change AFTER INSERT OR DELETE ON runs "
        "FOR EACH ROW EXECUTE FUNCTION runs_forget_summary()",
        f"CREATE TRIGGER runs_forget_summary_update AFTER UPDATE OF {', '.join(READ)} ON runs "
        "FOR EACH ROW EXECUTE FUNCTION runs_forget_summary()",
    ]


def upgrade() -> None:
    op.create_table(
        "summary_days",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Text(), nullable=False),
        sa.Column("layout", sa.Text(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE",
                                name=op.f("fk_summary_days_project_id_projects")),
        sa.PrimaryKeyConstraint("project_id", "day", name=op.f("pk_summary_days")),
    )  # fmt: skip
    op.create_table(
        "summary_cells",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        *(sa.Column(name, kind, nullable=name not in ("project_id", "day")) for name, kind in KEYS),
        *(sa.Column(name, kind, nullable=True) for name, kind in MEASURES),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE",
                                name=op.f("fk_summary_cells_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_cells")),
    )  # fmt: skip
    op.create_index("ix_summary_cells_project_day", "summary_cells", ["project_id", "day"])
    # The runs cells never cover (known only by intervals), found without visiting the others.
    only_intervals = sa.text("last_emission_id IS NULL")
    op.create_index("ix_runs_project_intervals_only", "runs", ["project_id"],
                    sqlite_where=only_intervals, postgresql_where=only_intervals)  # fmt: skip
    dialect = op.get_bind().dialect.name
    for statement in _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER runs_forget_summary_update ON runs")
        op.execute("DROP TRIGGER runs_forget_summary_change ON runs")
        op.execute("DROP FUNCTION runs_forget_summary()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER runs_forget_summary_{event}")
    op.drop_index("ix_runs_project_intervals_only", table_name="runs")
    op.drop_index("ix_summary_cells_project_day", table_name="summary_cells")
    op.drop_table("summary_cells")
    op.drop_table("summary_days")
