"""Secret redaction (errors.redact, the log filter): only registered keys, all their echoes."""
from __future__ import annotations

import logging
from urllib.parse import quote, quote_plus

import pytest

import seedance_nb  # noqa: F401  (installs the package's log handler and filter)
from seedance_nb.errors import (CreateOutcomeUnknown, SeedanceAPIError, TaskFailed, mask, redact,
                                redact_data, register_secret)
from seedance_nb.providers.base import Task

KEY = "sk-errtest/0123+456789=abcdef"


@pytest.fixture(autouse=True)
def _registered():
    register_secret(KEY)


@pytest.mark.parametrize("text", [
    "a fox in an ark-inspired boat, cinematic",
    "Bearer of good news: the sk-8 team wins",
    "ak-47 shaped cloud over the ark-of-the-covenant",
    "Authorization is not granted to sk-anyone-12345678",
])
def test_ordinary_words_that_look_like_key_prefixes_are_left_alone(text):
    assert redact(text) == text


@pytest.mark.parametrize("echo", [
    KEY, quote(KEY, safe=""), quote(KEY), quote_plus(KEY), KEY.replace("/", "\\/"),
    f"Bearer {KEY}"])
def test_a_registered_key_goes_in_every_form_a_gateway_echoes_it(echo):
    text = redact(f"401: token {echo} is invalid (https://gw.example/v?api_key={echo}&x=1)")
    assert "sk-errtest" not in text and "0123" not in text
    assert text.startswith("401: token ") and "is invalid" in text


def test_short_values_are_not_registered_so_prompts_survive():
    register_secret("ark")
    register_secret("dusk-1")
    assert redact("ark at dusk-1") == "ark at dusk-1"


def test_redact_data_walks_payloads_and_keeps_other_values():
    data = {"url": f"https://h/x.mp4?k={quote(KEY, safe='')}", "n": 5,
            "items": [KEY, None, ("ok", KEY)], KEY: "key as a dict key"}
    out = redact_data(data)
    assert KEY not in repr(out) and quote(KEY, safe="") not in repr(out)
    assert out["n"] == 5 and out["items"][1] is None and out["items"][2][0] == "ok"


def test_exceptions_never_carry_a_registered_key():
    exc = SeedanceAPIError(f"invalid key {KEY}", provider="ark", http_status=401,
                           code="AuthenticationError")
    lost = CreateOutcomeUnknown(f"reset after sending Bearer {KEY}", provider="ark")
    task = Task(id="cgt-1", provider="ark", status="failed",
                error={"code": "X", "message": f"echo {quote_plus(KEY)}"})
    for text in (str(exc), repr(exc), exc.message, str(lost), str(TaskFailed(task))):
        assert KEY not in text and quote_plus(KEY) not in text


def test_mask_shows_only_the_first_four_characters():
    assert mask(KEY) == "sk-e…(masked)" and mask("") == "<unset>"


def test_log_records_of_every_package_logger_are_redacted(caplog):
    caplog.set_level(logging.DEBUG, logger="seedance_nb")
    for name in ("seedance_nb", "seedance_nb.media", "seedance_nb.jobs.scheduler"):
        logging.getLogger(name).debug("GET %s failed: %s", f"https://h/t?key={KEY}",
                                      {"Authorization": f"Bearer {KEY}"})
    try:
        raise ValueError(f"boom {quote(KEY, safe='')}")
    except ValueError:
        logging.getLogger("seedance_nb").exception("worker error")
    assert len(caplog.records) == 4
    text = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "GET https://h/t?key=*** failed" in text and "boom ***" in text
    assert KEY not in text and quote(KEY, safe="") not in text


def test_the_package_logger_has_a_null_handler():
    handlers = logging.getLogger("seedance_nb").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
