"""An agent that follows the inbox cursor sees every item, however many agents write at once.

The cursor is the last ``seq`` seen and the inbox returns items with a higher one. That
only works if no item becomes visible after an item with a higher ``seq``: otherwise a
reader that has moved past it never sees it. Concurrent writers make that happen unless
items are committed in ``seq`` order, so this test writes from many clients while an
agent reads, over real sockets against an api process.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from apikit import ORG_CSV, Api
from kubernetes import client
from servers import ProcessServer

from orgtwin.api.settings import ApiSettings

pytestmark = pytest.mark.integration
WRITERS = 24
PER_WRITER = 40


def test_a_reader_following_the_cursor_misses_nothing_written_concurrently(
    settings: ApiSettings, k8s_api: client.ApiClient, tmp_path: Path
) -> None:
    server = ProcessServer(
        settings.model_copy(update={"session_cache_seconds": 30.0}), tmp_path / "api.log"
    )
    server.start()
    try:
        seed = Api(httpx.Client(base_url=server.url, timeout=30), k8s_api, settings.namespace)  # type: ignore[arg-type]
        assert seed.import_csv(ORG_CSV).status_code == 201
        sender = seed.agent("E3", "finance")
        reader = seed.agent("E5", "legal")
        done = threading.Event()
        seen: list[str] = []

        def read() -> None:
            after = 0
            with httpx.Client(base_url=server.url, timeout=30, headers=reader) as http:
                while True:
                    finished = done.is_set()
                    r = http.get("/v1/mesh/inbox", params={"after": after, "limit": 200})
                    assert r.status_code == 200, r.text
                    page = r.json()
                    seen.extend(item["id"] for item in page["items"])
                    after = page["next_cursor"]
                    if finished and not page["items"]:
                        return

        def write(w: int) -> list[str]:
            ids = []
            with httpx.Client(base_url=server.url, timeout=30, headers=sender) as http:
                for i in range(PER_WRITER):
                    r = http.post(
                        "/v1/mesh/tasks", json={"to": "role:legal", "title": f"item {w}.{i}"}
                    )
                    assert r.status_code == 201, r.text
                    ids.append(r.json()["id"])
            return ids

        reading = threading.Thread(target=read)
        reading.start()
        with ThreadPoolExecutor(WRITERS) as pool:
            written = [i for ids in pool.map(write, range(WRITERS)) for i in ids]
        done.set()
        reading.join(timeout=120)
        assert not reading.is_alive()
        assert len(written) == WRITERS * PER_WRITER
        missed = set(written) - set(seen)
        assert not missed, f"{len(missed)} of {len(written)} items never reached the reader"
        assert len(seen) == len(set(seen)), "an item was delivered twice"
    finally:
        server.stop()
