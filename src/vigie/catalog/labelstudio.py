"""Catalog tables of the labelstudio stage, declared on the shared metadata (see schema.py)."""

from __future__ import annotations
