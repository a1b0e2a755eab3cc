"""Bench servers, each in its own process so client, proxy and upstream do not share a GIL.

python servers.py upstream PORT
python servers.py proxy PORT UPSTREAM_BASE_URL PROFILES_YAML
"""

from __future__ import annotations

import logging
import os
import sys

import uvicorn
from pydantic import SecretStr

SIGNING_KEY = "b" * 32
MASKING_KEY = "bench-masking-key-0123456789abcd"


def upstream(port: int) -> None:
    from orgtwin.testing.upstream import FakeUpstream, Script

    fake = FakeUpstream()
    # Echo the (masked) last user message; streamed in 4-character events.
    fake.script("bench-stream", Script(text=None, chunk_size=4))
    # Requests are recorded by default; a long bench run must not grow without bound.
    fake.requests = _Discard()  # type: ignore[assignment]
    uvicorn.run(fake.app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: object) -> None:
        return None


def proxy(port: int, upstream_url: str, profiles: str) -> None:
    from orgtwin.core import logging as orgtwin_logging
    from orgtwin.proxy.app import create_app, quiet_client_logs
    from orgtwin.proxy.settings import ProxySettings

    settings = ProxySettings(
        namespace="bench",
        session_signing_key=SecretStr(SIGNING_KEY),
        masking_key=SecretStr(MASKING_KEY),
        openai_base_url=upstream_url,
        openai_api_key=SecretStr("bench-upstream-key"),
        anthropic_base_url=upstream_url,
        anthropic_api_key=SecretStr("bench-upstream-key"),
        profiles_file=profiles,
        record_activity=False,
    )
    # Production logging (one JSON line per request at INFO), written to stderr.
    orgtwin_logging.configure("INFO", "json")
    quiet_client_logs()
    logging.getLogger("uvicorn.access").disabled = True
    uvicorn.run(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    role = sys.argv[1]
    if role == "upstream":
        upstream(int(sys.argv[2]))
    else:
        proxy(int(sys.argv[2]), sys.argv[3], sys.argv[4])
