"""Provider, key and base-URL resolution (reference §1)."""
from __future__ import annotations

import pytest

from seedance_nb import config
from seedance_nb.config import ClientSettings, settings, resolve_client
from seedance_nb.errors import SeedanceConfigError, redact


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for var in ("SEEDANCE_EMULATOR_URL", "SEEDANCE_EMULATOR_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    settings.reset()
    yield
    settings.reset()


def test_explicit_key_beats_environment(monkeypatch):
    monkeypatch.setenv("ARK_API_KEY", "env-key-123456")
    s = resolve_client("ark", api_key="explicit-key-987654")
    assert s.api_key == "explicit-key-987654"
    assert s.base_url == "https://ark.cn-beijing.volces.com/api/v3"
    assert s.dialect == "ark"


def test_environment_key_used(monkeypatch):
    monkeypatch.setenv("COMETAPI_KEY", "comet-key-abcdef")
    s = resolve_client("comet-volc")
    assert (s.api_key, s.base_url, s.dialect) == ("comet-key-abcdef", "https://api.cometapi.com",
                                                  "comet-volc")


def test_byteplus_falls_back_to_ark_key(monkeypatch):
    monkeypatch.setenv("ARK_API_KEY", "ark-fallback-1234")
    assert resolve_client("byteplus").api_key == "ark-fallback-1234"
    monkeypatch.setenv("BYTEPLUS_API_KEY", "bp-own-key-5678")
    assert resolve_client("byteplus").api_key == "bp-own-key-5678"


@pytest.mark.parametrize("provider,names", [
    ("ark", ["ARK_API_KEY"]),
    ("byteplus", ["BYTEPLUS_API_KEY", "ARK_API_KEY"]),
    ("comet", ["COMETAPI_KEY"]),
    ("acedata", ["ACEDATACLOUD_API_TOKEN"]),
])
def test_real_provider_without_key_names_the_variables(provider, names):
    with pytest.raises(SeedanceConfigError) as info:
        resolve_client(provider)
    for name in names:
        assert name in str(info.value)
    assert "nothing was sent" in str(info.value)


def test_unknown_provider_is_a_config_error():
    with pytest.raises(SeedanceConfigError, match="unknown provider 'openai'"):
        resolve_client("openai")


def test_base_url_override_and_trailing_slash(monkeypatch):
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", "ace-token-000000")
    s = resolve_client("acedata", base_url="https://proxy.example/ace/")
    assert s.base_url == "https://proxy.example/ace"


@pytest.mark.parametrize("emulate,suffix", [("ark", "/api/v3"), ("byteplus", "/api/v3"),
                                             ("comet", ""), ("comet-volc", ""), ("acedata", "")])
def test_emulator_base_url_per_dialect(monkeypatch, emulate, suffix):
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", "http://127.0.0.1:9999/")
    s = resolve_client("emulator", emulate=emulate)
    assert s.base_url == "http://127.0.0.1:9999" + suffix
    assert s.dialect == emulate and s.provider == "emulator"
    assert s.api_key == "sk-emulator"
    # a recorded base URL (as resume passes it back) is not prefixed twice
    assert resolve_client("emulator", base_url=s.base_url, emulate=emulate).base_url == s.base_url


def test_emulator_token_from_environment(monkeypatch):
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", "sk-custom-token")
    assert resolve_client("emulator").api_key == "sk-custom-token"


def test_no_key_anywhere_means_emulator_started_locally_when_sending(monkeypatch):
    started = []

    def fake_ensure_local(speed=None):
        started.append(1)
        return "http://127.0.0.1:4321", "sk-local-token"

    import seedance_nb.emulator as emu
    monkeypatch.setattr(emu, "ensure_local", fake_ensure_local, raising=False)
    s = resolve_client()
    assert s.provider == "emulator" and started == [] and s.base_url == ""  # resolving starts nothing
    s = s.started()  # what the code that sends calls
    assert started == [1]
    assert s.base_url == "http://127.0.0.1:4321/api/v3"
    assert s.api_key == "sk-local-token"


def test_defaults_provider_and_emulate_used(monkeypatch):
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", "http://127.0.0.1:9999")
    settings.provider = "emulator"
    settings.emulate = "comet"
    s = resolve_client()
    assert (s.provider, s.dialect, s.base_url) == ("emulator", "comet", "http://127.0.0.1:9999")


def test_bad_emulate_setting(monkeypatch):
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", "http://127.0.0.1:9999")
    with pytest.raises(SeedanceConfigError, match="emulate"):
        resolve_client("emulator", emulate="openai")


def test_repr_masks_key_and_key_is_registered_for_redaction(monkeypatch):
    secret = "sk-verysecretvalue-42"
    s = resolve_client("ark", api_key=secret)
    assert secret not in repr(s) and secret not in str(s)
    assert "sk-v" in repr(s)
    assert secret not in redact(f"oops {secret} leaked")


def test_settings_are_frozen_and_hashable(monkeypatch):
    s = resolve_client("ark", api_key="key-aaaaaaaa")
    with pytest.raises(Exception):
        s.api_key = "other"  # type: ignore[misc]
    assert hash(s) == hash(resolve_client("ark", api_key="key-aaaaaaaa"))
    assert isinstance(s, ClientSettings)


def test_defaults_values_and_reset():
    assert settings.output_dir == "seedance-output"
    assert settings.poll_interval is None and settings.wait_timeout == 3600.0
    assert settings.effective_poll_interval(False) == 15.0
    assert settings.ledger_path is None and settings.embed == "auto"
    settings.poll_interval = 2.0
    settings.reset()
    assert settings.poll_interval is None
    assert config.default_emulate() == "ark"


# --- where a key may go (§8 Bounds) ------------------------------------------------------

KEY = "sk-configtest-0123456789abcdef"


@pytest.mark.parametrize("url", ["http://ark.example.com/api/v3", "http://10.0.0.5:8000",
                                 "http://[2001:db8::1]/api/v3", "http://localhost.evil.com"])
def test_plain_http_to_another_host_is_refused_before_anything_is_sent(monkeypatch, url):
    monkeypatch.delenv(config.ALLOW_INSECURE_ENV, raising=False)
    with pytest.raises(SeedanceConfigError, match="unencrypted.*allow_insecure=True") as info:
        resolve_client("ark", api_key=KEY, base_url=url)
    assert "nothing was sent" in str(info.value) and KEY not in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765/api/v3", "http://127.9.9.9",
                                 "http://[::1]:9000", "http://localhost:8000",
                                 "https://ark.example.com/api/v3"])
def test_https_and_plain_http_to_this_machine_are_fine(url):
    assert resolve_client("ark", api_key=KEY, base_url=url).base_url == url.rstrip("/")


def test_insecure_http_only_when_allowed_explicitly(monkeypatch):
    url = "http://gateway.internal:8080/api/v3"
    assert resolve_client("ark", api_key=KEY, base_url=url,
                          allow_insecure=True).base_url == url
    monkeypatch.setenv(config.ALLOW_INSECURE_ENV, "1")
    assert resolve_client("ark", api_key=KEY, base_url=url).base_url == url
    with pytest.raises(SeedanceConfigError):  # the argument beats the environment
        resolve_client("ark", api_key=KEY, base_url=url, allow_insecure=False)


def test_an_emulator_url_off_this_machine_is_plain_http_too(monkeypatch):
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", "http://emulator.lan:8765")
    with pytest.raises(SeedanceConfigError, match="unencrypted"):
        resolve_client("emulator")


@pytest.mark.parametrize("url", ["ftp://ark.example.com", "ark.example.com/api/v3",
                                 f"https://user:{KEY}@ark.example.com"])
def test_a_base_url_that_is_not_plain_http_or_https_is_refused(url):
    with pytest.raises(SeedanceConfigError) as info:
        resolve_client("ark", api_key=KEY, base_url=url)
    assert KEY not in str(info.value)


def test_comet_key_alone_picks_comet_not_the_deprecated_volc_route(monkeypatch):
    monkeypatch.setenv("COMETAPI_KEY", "comet-key-abcdef")
    assert config.default_provider() == "comet"
    assert resolve_client().provider == "comet"


def test_comet_volc_warns_once_that_cometapi_deprecated_it(monkeypatch):
    monkeypatch.setenv("COMETAPI_KEY", "comet-key-abcdef")
    from seedance_nb import client

    monkeypatch.setattr(client, "_comet_volc_warned", [])
    with pytest.warns(UserWarning, match="deprecated its /volc/v3 route"):
        resolve_client("comet-volc")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve_client("comet-volc")  # once per process
