"""Catalog tables of the tracks stage, declared on the shared metadata (see schema.py)."""

from __future__ import annotations
