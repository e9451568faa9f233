"""Test doubles for heavy or unavailable dependencies (the ``tensorrt`` module of each API generation)."""
