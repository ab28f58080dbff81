"""Named regressions that can be switched on at start-up, to prove the suite catches them.

A fault is one realistic defect (for example "the savings total ignores one recommendation").
Code that has a seam asks ``settings.faults.active("name")`` at exactly one place. Faults are
off unless ``PLATFORM_FAULTS`` names them; an unknown name is refused at start-up, and faults are
refused outright when ``ENVIRONMENT=production``, so none can be switched on by accident.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

# name -> one-line description of the regression (docs/faults.md mirrors it, with the journey
# expected to catch each one).
CATALOGUE: dict[str, str] = {
    # token rules (security.TokenService, through the rejection reasons it waives)
    "jwt_signature_unchecked": "a token's signature is not verified",
    "jwt_alg_none_accepted": "tokens declaring another algorithm (alg none included) are accepted unsigned",
    "jwt_expiry_unchecked": "expired tokens are accepted",
    "jwt_future_iat_accepted": "tokens issued in the future are accepted",
    "jwt_issuer_unchecked": "tokens from a foreign issuer are accepted",
    "jwt_audience_unchecked": "tokens for a foreign audience are accepted",
    "jwt_token_type_unchecked": "a refresh token is accepted as an access token",
    # sessions
    "refresh_token_reusable": "a refresh token can be used more than once",
    "logout_keeps_access_token": "signing out does not revoke the access token",
    "login_rate_limit_off": "wrong passwords can be tried without limit",
    # the event stream of a run
    "events_out_of_order": "a sub-agent thinks before it announces its start",
    "tool_completed_missing": "tool_completed frames are never sent",
    "run_id_drift": "sub-agent frames carry a run id of their own",
    "tool_execution_id_mismatch": "tool_completed carries another execution id than its tool_executing",
    "sub_agent_not_nested": "sub-agents start without naming the supervisor as their parent",
    "progress_regresses": "progress drops back at the start of each sub-agent",
    "frames_duplicated": "every tool_completed frame is sent twice",
    "first_event_slow": "agent_started arrives 6 s after the request",
    # isolation
    "chat_thread_unscoped": "get_thread over the chat returns another user's thread",
    "rest_thread_unscoped": "reading a thread over REST ignores its owner",
    "events_broadcast": "a run's frames go to every connected user",
    "usage_unscoped": "the agents analyse every user's usage, not only the owner's",
    "foreign_thread_403": "another user's thread answers 403 instead of 404, so its existence leaks",
    # savings arithmetic
    "savings_total_misses_one": "the monthly total leaves out the smallest recommendation",
    "savings_annual_wrong": "the annual saving is 10 times the monthly one",
    "savings_unsorted": "recommendations come smallest saving first",
    "catalogue_price_wrong": "gpt-4o-mini's output price is misread as $0.06 per 1M tokens",
    "savings_ignore_new_cost": "model routing forgets the cost of the cheaper model",
    # persistence, stop and resume, bad input, limits, health
    "assistant_message_not_stored": "the final answer is not stored in the thread",
    "stop_ignored": "stop_agent has no effect",
    "resume_skips_frame": "resume_run replays from one frame too late",
    "invalid_json_closes_socket": "a frame that is not JSON closes the connection",
    "oversize_frames_accepted": "frames over max_message_bytes are processed",
    "run_limit_off": "a user may run any number of agents at once",
    "health_version_missing": "health answers without the platform version",
}

# Faults that switch a token rule off, and the rejection reason each waives.
WAIVED_TOKEN_RULES = {
    "jwt_signature_unchecked": "bad_signature", "jwt_alg_none_accepted": "bad_algorithm",
    "jwt_expiry_unchecked": "expired", "jwt_future_iat_accepted": "issued_in_future",
    "jwt_issuer_unchecked": "wrong_issuer", "jwt_audience_unchecked": "wrong_audience",
    "jwt_token_type_unchecked": "wrong_type",
}


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

    def waived_token_rules(self) -> frozenset[str]:
        return frozenset(WAIVED_TOKEN_RULES[n] for n in self.names if n in WAIVED_TOKEN_RULES)

    def __bool__(self) -> bool:
        return bool(self.names)
