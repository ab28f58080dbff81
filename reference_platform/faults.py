"""Named regressions that can be switched on at start-up, to prove the suite catches them.

A fault is one realistic defect (for example "the savings total ignores one recommendation").
Code that has a seam asks ``settings.faults.active("name")`` at exactly one place. Faults are
off unless ``PLATFORM_FAULTS`` names them; an unknown name is refused at start-up, and faults are
refused outright when ``ENVIRONMENT=production``, so none can be switched on by accident.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

# name -> one-line description. Filled by the fault catalogue (docs/faults.md mirrors it).
CATALOGUE: dict[str, str] = {}


class FaultConfigError(ValueError):
    """PLATFORM_FAULTS names something the catalogue does not know, or is set in production."""


@dataclass(frozen=True)
class Faults:
    names: frozenset[str] = frozenset()

    @classmethod
    def none(cls) -> "Faults":
        return cls()

    @classmethod
    def of(cls, *names: str, environment: str = "development") -> "Faults":
        unknown = sorted(set(names) - set(CATALOGUE))
        if unknown:
            raise FaultConfigError(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(sorted(CATALOGUE)) or 'none'}")
        if names and environment == "production":
            raise FaultConfigError("faults cannot be switched on when ENVIRONMENT=production")
        return cls(frozenset(names))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Faults":
        raw = env.get("PLATFORM_FAULTS", "")
        names = [n.strip() for n in raw.split(",") if n.strip()]
        return cls.of(*names, environment=env.get("ENVIRONMENT", "development") or "development")

    def active(self, name: str) -> bool:
        if name not in CATALOGUE:
            raise KeyError(f"fault {name!r} is not in the catalogue")
        return name in self.names

    def __bool__(self) -> bool:
        return bool(self.names)
