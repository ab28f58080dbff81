"""Starting the embedded reference platform for a run of the suite.

The suite generates the platform's JWT secret and bypass key for this run only, so the scenarios
that forge tokens or use simulated sign-in run by default, and no secret of a real deployment is
ever involved.
"""
from __future__ import annotations

import secrets
import sys
from dataclasses import replace
from typing import Mapping

from acceptance.client.config import ConfigError, Secret, TargetConfig, load


def start(config: TargetConfig, **setting_overrides):
    """Starts the platform on a free loopback port; returns (platform, config pointing at it)."""
    from reference_platform.config import Settings
    from reference_platform.faults import Faults
    from reference_platform.server import EmbeddedPlatform
    from reference_platform.variations import Variations

    jwt_secret = Secret(secrets.token_urlsafe(48), "generated for the embedded platform")
    bypass_key = Secret(secrets.token_urlsafe(24), "generated for the embedded platform")
    low, high = config.pacing_ms
    faults = [n.strip() for n in config.platform_faults.split(",") if n.strip()]
    env = {"ENVIRONMENT": config.environment, "JWT_SECRET_KEY": jwt_secret.value,
           "E2E_OAUTH_SIMULATION_KEY": bypass_key.value}
    settings = Settings.from_env(env=env)
    # The run's throwaway platform hashes passwords with the light argon2id profile: the suite signs up
    # a hundred-odd users a run, and the hash cost is nothing the suite can observe or checks.
    settings = settings.with_(pacing_min_ms=low, pacing_max_ms=high, dialect=config.platform_dialect,
                              password_hash_profile="light",
                              faults=Faults.of(*faults, environment=config.environment),
                              variations=Variations.parse(config.platform_variations), **setting_overrides)
    platform = EmbeddedPlatform(settings).start()
    return platform, replace(config.with_target(platform.base_url, platform.ws_url, platform.base_url),
                             jwt_secret=jwt_secret, bypass_key=bypass_key)


def open_target(userdata: Mapping[str, str], prog: str):
    """The target the settings name, with the embedded platform started when they name none: returns
    (platform or None, config); (None, None) after saying why when a setting is wrong."""
    try:
        cfg = load(userdata)
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None, None
    return start(cfg) if cfg.embedded else (None, cfg)
