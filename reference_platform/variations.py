"""Named conforming variations: choices the contract leaves open that the default platform does not make.

The dual of :mod:`reference_platform.faults`. A fault breaks the contract and the suite must fail;
a variation keeps the contract in another way than the default platform and the suite must pass.
Each is one ``settings.variations.active("name")`` check at one place in the platform's code.
Variations are off unless ``PLATFORM_VARIATIONS`` names them (``all`` switches every one on but the
slow ones, :data:`SLOW`); an unknown name is refused at start-up. ``docs/variations.md`` names the contract clause that allows each.

Where two variations choose the same thing (the pacing, the number of thinking steps), the one
listed later in :data:`PRECEDENCE` wins, so that ``all`` is well defined. ``stochastic`` draws its
choices per run from a random generator seeded by ``PLATFORM_VARIATIONS_SEED`` (random by default).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Mapping

# name -> one-line description of the choice (docs/variations.md mirrors it, with the clause)
CATALOGUE: dict[str, str] = {
    # wording of errors
    "errors_echo_input": "error messages and details name the ids and values the caller sent",
    "errors_reworded": "every error message and REST detail is worded differently",
    "error_extra_fields": "error frames and bodies carry fields the contract does not name",
    # limits
    "slot_released_late": "a run's slot is freed 50-150 ms after its terminal frame was sent",
    # thinking and progress
    "one_thought_per_agent": "each agent thinks exactly once",
    "many_thoughts": "each thinking step is reported as three agent_thinking frames",
    "progress_big_jumps": "progress moves in steps of 25 (25, 50, 75, 100)",
    "progress_starts_high": "progress starts at 10 and is scaled into 10..100",
    "thinking_between_tools": "an agent thinks again after every tool pair",
    # tools
    "tool_names_other": "tools carry other names (prefixed, dotted)",
    "extra_tool": "every agent runs one more tool pair (a context lookup) before its own tools",
    "fewer_tools": "the cost optimizer reads the price catalogue without a tool pair",
    # sub-agents
    "sub_agents_reordered": "the supervisor runs cost optimisation before data analysis",
    "supervisor_thinks_between": "the supervisor thinks after every sub-agent as well as before",
    "extra_sub_agent": "the supervisor always adds the performance optimizer",
    # frames
    "extra_frame_fields": "every frame carries extra fields, at the top level and in its details",
    "unnamed_frames": "frames of types the contract does not name (thread_created, run_note) arrive between a run's frames",
    "heartbeat_1s": "the idle heartbeat comes every second",
    # ids and times
    "uuid_ids": "run, thread, execution and connection ids are plain UUIDs",
    "timestamps_offset": "timestamps end in +00:00 instead of Z",
    "timestamps_whole_seconds": "timestamps of frames carry no fraction of a second",
    # pacing
    "cold_start": "a user's first run sends agent_started 3-4 s after the request (near the 5 s service level)",
    "fast_pacing": "frames are 1-3 ms apart, a run is over in a few dozen milliseconds",
    "slow_pacing": "frames are 60-120 ms apart",
    "jittered_pacing": "frames are 0-100 ms apart",
    # money
    "money_plain_numbers": "whole and one-decimal amounts are JSON numbers without trailing zeros (423, 423.5)",
    # rest bodies
    "extra_body_fields": "every REST JSON object body carries a field the contract does not name",
    # the netra-2025 dialect's open choices (CONTRACT.md section 9; no effect in the other dialects)
    "subprotocol_echo_last": "netra-2025: of the readable sub-protocol entries offered, the last is selected and echoed",
    "offered_thread_created_early": "netra-2025: the offered thread is created with the handshake, before any run uses it",
    "offered_run_id_unused": "netra-2025: the first run in the offered thread gets a new id, not the offered one",
    "client_run_id_adopted": "netra-2025: a user_message's own run_id becomes the id of the run it starts",
    # answers that differ on every run
    "stochastic": "per run: random thinking counts, tool order, sub-agent order and pacing jitter",
}

# Later wins where variations choose the same thing.
PRECEDENCE = ("slow_pacing", "jittered_pacing", "fast_pacing")

# Variations that make a run of the suite several times slower: ``all`` leaves them out (they are run
# one at a time, benchmarks/variations_sweep.py); name them to switch them on.
SLOW = ("cold_start", "slow_pacing")


class VariationConfigError(ValueError):
    """PLATFORM_VARIATIONS names something the catalogue does not know."""


@dataclass(frozen=True)
class Variations:
    names: frozenset[str] = frozenset()
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @classmethod
    def none(cls) -> "Variations":
        return cls()

    @classmethod
    def of(cls, *names: str, seed: int | None = None) -> "Variations":
        names = tuple(n.strip() for n in names if n.strip())
        if "all" in names:
            names = tuple(n for n in CATALOGUE if n not in SLOW) + tuple(n for n in names if n != "all")
        unknown = sorted(set(names) - set(CATALOGUE))
        if unknown:
            raise VariationConfigError(f"unknown variation(s): {', '.join(unknown)}; known: all, "
                                       f"{', '.join(sorted(CATALOGUE))}")
        return cls(frozenset(names), seed, random.Random(seed))

    @classmethod
    def parse(cls, raw: str, seed: int | None = None) -> "Variations":
        return cls.of(*raw.split(","), seed=seed)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Variations":
        seed = env.get("PLATFORM_VARIATIONS_SEED")
        return cls.parse(env.get("PLATFORM_VARIATIONS", ""), int(seed) if seed not in (None, "") else None)

    def active(self, name: str) -> bool:
        if name not in CATALOGUE:
            raise KeyError(f"variation {name!r} is not in the catalogue")
        return name in self.names

    def pacing(self, low: float, high: float) -> tuple[float, float]:
        """The frame delay range (ms) after the pacing variations, later in PRECEDENCE winning."""
        ranges = {"slow_pacing": (60.0, 120.0), "jittered_pacing": (0.0, 100.0), "fast_pacing": (1.0, 3.0)}
        for name in PRECEDENCE:
            if name in self.names:
                low, high = ranges[name]
        return low, high

    def draw(self) -> "Draw | None":
        """A stochastic run's choices, or None when ``stochastic`` is off."""
        if "stochastic" not in self.names:
            return None
        r = self.rng
        return Draw(thoughts=r.randint(1, 3), tools_reversed=r.random() < 0.5, extra_tool=r.random() < 0.5,
                    sub_agents_reversed=r.random() < 0.5, jitter_ms=r.uniform(3, 40))

    def describe(self) -> str:
        return ", ".join(sorted(self.names)) or "none"

    def __bool__(self) -> bool:
        return bool(self.names)


@dataclass(frozen=True)
class Draw:
    """What one run of the ``stochastic`` variation does differently."""

    thoughts: int               # agent_thinking frames per thinking step (1..3)
    tools_reversed: bool        # the cost optimizer queries usage before the price catalogue
    extra_tool: bool            # agents run one more tool pair first
    sub_agents_reversed: bool   # the specialists run in the other order
    jitter_ms: float            # the upper bound of the pacing for this run


def plain_money(value: Any) -> Any:
    """Floats without trailing zeros: 423.0 -> 423 (JSON ``423``); 423.5 stays (JSON ``423.5``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: plain_money(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_money(v) for v in value]
    return value
