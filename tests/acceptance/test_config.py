"""Target and secret resolution (acceptance.client.config)."""
import pytest

from acceptance.client import config


def test_default_is_the_embedded_platform():
    cfg = config.load({}, env={})
    assert cfg.embedded and cfg.base_url is None and cfg.jwt_secret is None and cfg.bypass_key is None


def test_userdata_beats_environment_and_urls_are_derived():
    env = {"PLATFORM_BASE_URL": "https://env.example"}
    cfg = config.load({"base_url": "https://staging.example/"}, env=env)
    assert cfg.base_url == "https://staging.example"
    assert cfg.ws_url == "wss://staging.example/ws"
    assert cfg.auth_url == "https://staging.example"
    assert not cfg.embedded


def test_environment_urls_and_explicit_ws_and_auth():
    env = {"PLATFORM_BASE_URL": "http://h:8000", "PLATFORM_WS_URL": "ws://h:9000/api/v1/websocket",
           "PLATFORM_AUTH_URL": "http://auth:8001"}
    cfg = config.load({}, env=env)
    assert (cfg.base_url, cfg.ws_url, cfg.auth_url) == ("http://h:8000", "ws://h:9000/api/v1/websocket",
                                                         "http://auth:8001")


@pytest.mark.parametrize("order,expected", [("current", "JWT_SECRET_KEY"), ("compat", "JWT_SECRET_STAGING")])
def test_secret_order_follows_the_contract_or_compat(order, expected):
    env = {"JWT_SECRET_KEY": "k" * 40, "JWT_SECRET_STAGING": "s" * 40, "PLATFORM_ENVIRONMENT": "staging",
           "PLATFORM_JWT_SECRET_ORDER": order}
    cfg = config.load({"base_url": "https://x.example"}, env=env)
    assert cfg.jwt_secret.source == expected


def test_environment_specific_secret_is_the_fallback():
    env = {"JWT_SECRET_STAGING": "s" * 40, "ENVIRONMENT": "staging"}
    assert config.load({}, env=env).jwt_secret.source == "JWT_SECRET_STAGING"


def test_secrets_never_show_themselves():
    cfg = config.load({}, env={"JWT_SECRET_KEY": "super-secret-value-" + "x" * 20, "E2E_OAUTH_SIMULATION_KEY": "bk-123456"})
    text = repr(cfg) + str(cfg.describe()) + str(cfg.jwt_secret) + str(cfg.bypass_key)
    assert "super-secret-value" not in text and "bk-123456" not in text


@pytest.mark.parametrize("key", ["jwt_secret", "bypass_key", "jwt_secret_key"])
def test_secrets_on_the_command_line_are_refused(key):
    with pytest.raises(config.ConfigError, match="environment only"):
        config.load({key: "x"}, env={})


def test_missing_secret_names_the_setting():
    cfg = config.load({"base_url": "https://x.example", "environment": "staging"}, env={})
    with pytest.raises(AssertionError, match="JWT_SECRET_KEY.*JWT_SECRET_STAGING"):
        cfg.require_jwt_secret()
    with pytest.raises(AssertionError, match="E2E_OAUTH_SIMULATION_KEY"):
        cfg.require_bypass_key()


@pytest.mark.parametrize("userdata,message", [
    ({"base_url": "ftp://x"}, "http"), ({"run_timeout": "soon"}, "run_timeout"), ({"run_timeout": "-1"}, "positive"),
    ({"pacing_ms": "9-3"}, "pacing"), ({"ws_url": "ws://x/ws"}, "base_url"), ({"client_dialect": "xml"}, "client_dialect"),
])
def test_malformed_settings_are_named(userdata, message):
    with pytest.raises(config.ConfigError, match=message):
        config.load(userdata, env={})
