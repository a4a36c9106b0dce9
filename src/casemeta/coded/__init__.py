"""Coded data: the codebook, the schema generated from it, reading and validating cases, entering new ones, coding from raw sources, derived variables."""
