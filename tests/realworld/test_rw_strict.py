"""strict=True under uvicorn's default `--lifespan auto`: refused settings reach the user only
if they are validated where they are written (CORSSettings.validate)."""

from __future__ import annotations

import httpx
import pytest

from .rw_support import IMPLS, impl_env, server_process


@pytest.mark.parametrize("impl", IMPLS)
def test_late_validation_leaves_a_server_that_answers_500(impl: str) -> None:
    server = server_process("uvicorn", "rw_served.strict_api:app", {**impl_env(impl), "STRICT_SETUP": "late"}).start()
    try:
        assert httpx.get(server.url + "/").status_code == 500  # every request: the startup error swallowed
        assert "CORSConfigError" in server.log_tail(20000)
    finally:
        server.stop()


@pytest.mark.parametrize("impl", IMPLS)
def test_validated_settings_stop_the_server_at_import(impl: str) -> None:
    env = {**impl_env(impl), "STRICT_SETUP": "validated"}
    with pytest.raises(RuntimeError, match="exited with") as caught:
        server_process("uvicorn", "rw_served.strict_api:app", env).start()
    assert "CORSConfigError" in str(caught.value)
    assert "ends with '/'" in str(caught.value)
