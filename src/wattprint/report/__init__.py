"""Summaries people look at: what-if regions, equivalents, rendering."""
