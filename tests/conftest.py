"""Test-wide safety: no test ever sees a real key or reaches a real gateway."""
from __future__ import annotations

import pytest

_REAL_KEY_VARS = ("ARK_API_KEY", "BYTEPLUS_API_KEY", "COMETAPI_KEY", "ACEDATACLOUD_API_TOKEN",
                  "SEEDANCE_PROVIDER", "SEEDANCE_EMULATE")


@pytest.fixture(autouse=True)
def _no_real_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _REAL_KEY_VARS:
        monkeypatch.delenv(name, raising=False)
