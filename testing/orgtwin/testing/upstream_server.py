"""Run the fake LLM upstream as its own process, answering with the scripted brain.

    python -m orgtwin.testing.upstream_server --port 8099 --record requests.jsonl

Every request body is appended to the record file, so a demo or an e2e test in
another process can prove that no seeded PII value reached the "provider".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import Request
from fastapi.responses import Response

from orgtwin.testing import brain
from orgtwin.testing.upstream import FakeUpstream


class BrainUpstream(FakeUpstream):
    """The fake provider with a per-request script from ``brain.respond``."""

    def __init__(self, record: Path) -> None:
        super().__init__()
        self.record = record

    async def _answer(self, request: Request, protocol: str) -> Response:
        raw = await request.body()
        with self.record.open("ab") as fh:
            fh.write(raw.replace(b"\n", b" ") + b"\n")
        body: Any = json.loads(raw)
        # No await between choosing the script and the parent reading it: the body
        # is cached, so concurrent requests for the same model cannot interleave.
        self.scripts[str(body.get("model", ""))] = brain.respond(body)
        return await super()._answer(request, protocol)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args()
    upstream = BrainUpstream(args.record)
    uvicorn.run(upstream.app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
