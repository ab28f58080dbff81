"""Ids of the platform's resources: ``<prefix>_<hex>``, or plain UUIDs (the ``uuid_ids`` variation)."""
from __future__ import annotations

import uuid


def new_id(prefix: str, plain_uuid: bool = False, digits: int = 32) -> str:
    """A fresh id: ``prefix`` and ``digits`` random hex digits (at most 32), or a plain UUID."""
    return str(uuid.uuid4()) if plain_uuid else f"{prefix}_{uuid.uuid4().hex[:digits]}"
