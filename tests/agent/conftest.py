"""Fixtures for the agent tests: the stand-in api on 127.0.0.1 and agent settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_standin import TOKEN, StandInApi

from orgtwin.agent.settings import AgentSettings


@pytest.fixture(scope="session")
def standin_server() -> Iterator[StandInApi]:
    api = StandInApi()
    api.start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def standin(standin_server: StandInApi) -> StandInApi:
    standin_server.reset()
    return standin_server


@pytest.fixture
def settings(standin: StandInApi, tmp_path: Path) -> AgentSettings:
    """Settings as the operator would set them, with fast backoff so retries do not drag."""
    return AgentSettings(
        api_url=standin.url,
        session_token=TOKEN,
        session_token_file=tmp_path / "absent-token",
        backoff_base=0.01,
        backoff_max=0.05,
        max_attempts=4,
    )
