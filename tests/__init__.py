"""wattprint's tests: one folder per package of src/wattprint (see docs/layout.md)."""
