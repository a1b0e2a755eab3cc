"""Proxy benchmark: added latency, streaming overhead, engine throughput, Presidio ratio.

Upstream (the scripted fake), proxy and a floor run as separate processes on 127.0.0.1
and are measured in the same run, interleaving direct, floor and proxied requests so
all see the same machine noise. The floor is a bare relay of the proxy's own parts
(uvicorn, httpx over the aiohttp transport) that forwards bytes and does nothing else:
it shows what the second HTTP hop alone costs on this machine. The proxy process's CPU
per request is reported too, since on a shared machine wall-clock numbers mostly
measure the neighbours. Writes
bench/results/proxy.json and prints a table. BENCH_ONLY=proxy runs the latency and
streaming parts only and writes bench/results/proxy-latency.json instead.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from engines import corpus_chunks, corpus_halves, engine_rate, labeled_corpus, presidio_rate  # noqa: E402
from servers import MASKING_KEY, SIGNING_KEY  # noqa: E402

from orgtwin.core import tokens  # noqa: E402
from orgtwin.testing.ports import free_port, is_listening  # noqa: E402

PEOPLE = [
    ("Margarethe Vandersloot", "m.vandersloot@acme.example", "EMP-77120"),
    ("Oluwaseun Adebayo-Kerr", "seun.ak@acme.example", "EMP-77121"),
]
PII = [
    "Margarethe Vandersloot",
    "m.vandersloot@acme.example",
    "EMP-77121",
    "+44 20 7946 0958",
    "(415) 555-2671",
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "123-45-6789",
    "10.20.30.40",
    "sk-proj-Q2x9LmN4vB7cD1eF6gH3jK8pR5tW0yZ",
]
FILLER = (
    "Please review the quarterly budget and the hiring plan before the meeting on "
    "Thursday; the numbers for Q3 changed after the last forecast and the team needs "
    "a decision on the vendor contract. "
)
N_LATENCY = int(os.environ.get("BENCH_N", "400"))
N_STREAM = int(os.environ.get("BENCH_STREAMS", "40"))
N_PACED = int(os.environ.get("BENCH_PACED_STREAMS", "40"))
# BENCH_ONLY=proxy runs the latency and streaming parts only (quick iterations).
ONLY = os.environ.get("BENCH_ONLY", "")


def payload(model: str, stream: bool, turn: int = 0) -> dict[str, Any]:
    """About 4 KB of messages carrying 10 PII values.

    The system prompt is the same in every request, as in a real conversation; the
    user message, which carries the PII, is new in every turn, so the engine never
    answers it from what it remembers.
    """
    system = FILLER * 9
    parts = [f"Turn {turn}."]
    for value in PII:
        parts.append(FILLER)
        parts.append(f"Contact detail: {value}.")
    user = " ".join(parts)
    return {
        "model": model,
        "stream": stream,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
    }


@dataclass(frozen=True)
class Server:
    port: int
    pid: int


def cpu_seconds(pid: int) -> float:
    """CPU time of a process so far, to the nanosecond (schedstat) where the kernel has it.

    Wall-clock latency on a shared machine mostly measures the neighbours; the proxy's
    CPU per request does not, so both are reported."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as fh:
                total += int(fh.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def process(*args: str) -> Iterator[Server]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "servers.py"), args[0], str(port), *args[1:]],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 60
        while not is_listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args[0]} did not start")
            time.sleep(0.1)
        yield Server(port, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _profiles(path: Path) -> None:
    docs: list[dict[str, Any]] = [
        {
            "kind": "AgentProfile",
            "metadata": {"name": "bench"},
            "spec": {"role": "bench", "model": {"provider": "openai", "name": "m"}},
        }
    ]
    docs += [
        {"kind": "OrgUser", "spec": {"employeeId": e, "displayName": n, "email": m}}
        for n, m, e in PEOPLE
    ]
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")


def _token() -> str:
    now = int(time.time())
    claims = tokens.SessionClaims("bench-1", "u", "bench", "bench", "bench", now + 3600, now)
    return tokens.mint(SIGNING_KEY.encode(), claims)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(
    direct: httpx.Client, floor: httpx.Client, proxied: httpx.Client, proxy_pid: int, relay_pid: int
) -> dict[str, float]:
    assert len(json.dumps(payload("bench-echo", False))) >= 4096
    for client in (direct, floor, proxied):
        for turn in range(30):
            warm = payload("bench-echo", False, -turn - 1)
            client.post("/v1/chat/completions", json=warm).raise_for_status()
    times: dict[str, list[float]] = {"direct": [], "floor": [], "proxied": []}
    cpu, relay_cpu = cpu_seconds(proxy_pid), cpu_seconds(relay_pid)
    for turn in range(N_LATENCY):
        body = payload("bench-echo", False, turn)
        for name, client in (("direct", direct), ("floor", floor), ("proxied", proxied)):
            start = time.perf_counter()
            r = client.post("/v1/chat/completions", json=body)
            times[name].append((time.perf_counter() - start) * 1000)
            r.raise_for_status()
    cpu, relay_cpu = cpu_seconds(proxy_pid) - cpu, cpu_seconds(relay_pid) - relay_cpu
    d, f, p = times["direct"], times["floor"], times["proxied"]
    return {
        # All of it, the log line and metrics written after the last byte included.
        "proxy_cpu_ms_per_request": cpu / N_LATENCY * 1000,
        # The bare relay's: what the second HTTP hop alone costs in CPU.
        "floor_cpu_ms_per_request": relay_cpu / N_LATENCY * 1000,
        "direct_p50_ms": pct(d, 0.5),
        "direct_p99_ms": pct(d, 0.99),
        "floor_p50_ms": pct(f, 0.5),
        "floor_p99_ms": pct(f, 0.99),
        "proxied_p50_ms": pct(p, 0.5),
        "proxied_p99_ms": pct(p, 0.99),
        "added_p50_ms": pct(p, 0.5) - pct(d, 0.5),
        "added_p99_ms": pct(p, 0.99) - pct(d, 0.99),
        # What a bare relay of the same parts adds, and what orgtwin's work adds on top.
        "floor_added_p50_ms": pct(f, 0.5) - pct(d, 0.5),
        "floor_added_p99_ms": pct(f, 0.99) - pct(d, 0.99),
        "own_added_p50_ms": pct(p, 0.5) - pct(f, 0.5),
    }


def proxy_overhead(proxied: httpx.Client) -> dict[str, float]:
    """The proxy's own measure of its work per request (auth, masking, restoring, policy)."""
    text = proxied.get("/metrics").text
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("orgtwin_proxy_overhead_seconds_") and 'stream="false"' in line:
            name, value = line.rsplit(" ", 1)
            values[name.split("{")[0].rsplit("_", 1)[1]] = float(value)
    count = values.get("count", 0.0)
    return {"proxy_work_mean_ms": values.get("sum", 0.0) / count * 1000 if count else 0.0}


def masked_payload(model: str, stream: bool, turn: int) -> dict[str, Any]:
    """The payload as the proxy forwards it: same tenant key, so the same placeholders.

    Sent directly, it makes the upstream stream exactly the events it streams behind
    the proxy, so event counts and TTFT compare like with like."""
    from orgtwin.core.privacy import Directory, Engine

    engine = Engine(secret=MASKING_KEY.encode(), directory=Directory.from_people(PEOPLE))
    body = payload(model, stream, turn)
    masker = engine.masker()
    for message in body["messages"]:
        message["content"] = masker.mask(message["content"])
    return body


def _chat_text(event: dict[str, Any]) -> str | None:
    """A chat completion chunk's text delta; None when the chunk carries no text."""
    content: str | None = event["choices"][0]["delta"].get("content")
    return content


def _responses_text(event: dict[str, Any]) -> str | None:
    """A Responses event's text delta; None for every other event."""
    return str(event["delta"]) if event["type"] == "response.output_text.delta" else None


def _stream_once(
    client: httpx.Client,
    body: dict[str, Any],
    path: str = "/v1/chat/completions",
    text_of: Callable[[dict[str, Any]], str | None] = _chat_text,
) -> tuple[float, int, int, str]:
    start = time.perf_counter()
    ttft = 0.0
    events = 0
    empty = 0
    text = ""
    with client.stream("POST", path, json=body) as r:
        for line in r.iter_lines():
            if not line.startswith("data: {"):
                continue
            content = text_of(json.loads(line[6:]))
            if content is None:
                continue
            events += 1
            if content and not ttft:
                ttft = (time.perf_counter() - start) * 1000
            empty += content == ""
            text += content
    return ttft, events, empty, text


def streaming(
    direct: httpx.Client, floor: httpx.Client, proxied: httpx.Client, proxy_pid: int
) -> dict[str, float]:
    """Event counts and exact restoring on a flood, time to first token on a paced stream.

    The flood: the upstream writes its ~580 events as fast as it can, so every event
    the client sees is counted against what the upstream sent. Its time to first token
    mostly measures four processes competing for two CPUs while the first event is in
    flight (``flood_ttft_*``). The paced stream waits 5 ms before its first event (a
    model's time to first token is far longer) and then sends one event per
    millisecond, still faster than providers stream tokens; it gives ``ttft_*``.
    """
    flood: dict[str, list[float]] = {"direct": [], "floor": [], "proxied": []}
    d_events = p_events = p_empty = d_empty = 0
    restored = True
    cpu = 0.0
    for turn in range(N_STREAM):
        direct_body = masked_payload("bench-stream", True, turn)
        proxied_body = payload("bench-stream", True, turn)
        t, e, em, _ = _stream_once(direct, direct_body)
        flood["direct"].append(t)
        d_events += e
        d_empty += em
        # The floor forwards bytes unchanged, so it is sent the masked body too.
        flood["floor"].append(_stream_once(floor, direct_body)[0])
        before = cpu_seconds(proxy_pid)
        t, e, em, text = _stream_once(proxied, proxied_body)
        cpu += cpu_seconds(proxy_pid) - before
        flood["proxied"].append(t)
        p_events += e
        p_empty += em
        restored = restored and all(v in text for v in PII)
    paced: dict[str, list[float]] = {"direct": [], "floor": [], "proxied": []}
    for turn in range(N_PACED):
        masked = masked_payload("bench-paced", True, N_STREAM + turn)
        paced["direct"].append(_stream_once(direct, masked)[0])
        paced["floor"].append(_stream_once(floor, masked)[0])
        proxied_body = payload("bench-paced", True, N_STREAM + turn)
        paced["proxied"].append(_stream_once(proxied, proxied_body)[0])
    results = {
        "proxy_cpu_ms_per_stream": cpu / N_STREAM * 1000,
        **_ttft("", paced),
        **_ttft("flood_", flood),
        "events_ratio": p_events / d_events,
        # Events the proxy forwarded with their text held back (a possible placeholder start).
        "events_held_fraction": (p_empty - d_empty) / d_events,
        "stream_restored_exactly": float(restored),
    }
    return results


def as_responses(body: dict[str, Any]) -> dict[str, Any]:
    """The same conversation as an OpenAI Responses request, shaped as goose sends one."""
    items = [
        {"role": m["role"], "content": [{"type": "input_text", "text": m["content"]}]}
        for m in body["messages"]
    ]
    return {"model": body["model"], "stream": body["stream"], "input": items}


def responses_streaming(
    direct: httpx.Client, proxied: httpx.Client, proxy_pid: int
) -> dict[str, float]:
    """The flood again through the Responses API, goose's path for some OpenAI models.

    New turn numbers: the engine has not seen these user messages before."""
    d_events = p_events = 0
    restored = True
    cpu = 0.0
    for turn in range(10_000, 10_000 + N_STREAM):
        masked = as_responses(masked_payload("bench-stream", True, turn))
        d_events += _stream_once(direct, masked, "/v1/responses", _responses_text)[1]
        before = cpu_seconds(proxy_pid)
        body = as_responses(payload("bench-stream", True, turn))
        _, events, _, text = _stream_once(proxied, body, "/v1/responses", _responses_text)
        cpu += cpu_seconds(proxy_pid) - before
        p_events += events
        restored = restored and all(v in text for v in PII)
    return {
        "responses_cpu_ms_per_stream": cpu / N_STREAM * 1000,
        "responses_events_ratio": p_events / d_events,
        "responses_restored_exactly": float(restored),
    }


def _ttft(prefix: str, times: dict[str, list[float]]) -> dict[str, float]:
    d, f, p = (statistics.median(times[k]) for k in ("direct", "floor", "proxied"))
    return {
        f"{prefix}ttft_direct_ms": d,
        f"{prefix}ttft_floor_ms": f,
        f"{prefix}ttft_proxied_ms": p,
        f"{prefix}ttft_added_ms": p - d,
        f"{prefix}floor_ttft_added_ms": f - d,
        f"{prefix}own_ttft_added_ms": p - f,
    }


def chat_rate() -> float:
    """Engine MB/s on the latency payload: chat text with 10 PII values per 4 KB, masked as
    the proxy does on every turn (warm placeholder and phone caches). Every text is
    scanned: the engine's memory of texts seen before is turned off."""
    from orgtwin.core.privacy import Directory, Engine

    engine = Engine(
        secret=MASKING_KEY.encode(),
        directory=Directory.from_people(PEOPLE),
        memo_chars=0,
    )
    texts = [str(m["content"]) for m in payload("m", False)["messages"]]
    size = sum(len(t.encode()) for t in texts)
    rounds = 300
    start = time.process_time()
    for _ in range(rounds):
        masker = engine.masker()
        for text in texts:
            masker.mask(text)
    return size * rounds / (time.process_time() - start) / 1e6


def machine() -> dict[str, str]:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    model = next(
        (line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line), ""
    )
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def main() -> None:
    results: dict[str, Any] = {"machine": machine()}
    profiles = REPO / "bench" / "results" / "proxy-profiles.yaml"
    profiles.parent.mkdir(parents=True, exist_ok=True)
    _profiles(profiles)
    with process("upstream") as up:
        upstream_url = f"http://127.0.0.1:{up.port}/v1"
        with (
            process("proxy", upstream_url, str(profiles)) as proxy,
            process("relay", f"http://127.0.0.1:{up.port}") as relay,
        ):
            headers = {"authorization": f"Bearer {_token()}"}
            with (
                httpx.Client(base_url=f"http://127.0.0.1:{up.port}", timeout=30) as direct,
                httpx.Client(base_url=f"http://127.0.0.1:{relay.port}", timeout=30) as floor,
                httpx.Client(
                    base_url=f"http://127.0.0.1:{proxy.port}", headers=headers, timeout=30
                ) as proxied,
            ):
                results.update(latency(direct, floor, proxied, proxy.pid, relay.pid))
                results.update(proxy_overhead(proxied))
                results.update(streaming(direct, floor, proxied, proxy.pid))
                results.update(responses_streaming(direct, proxied, proxy.pid))
    if ONLY == "proxy":
        _report(results, REPO / "bench" / "results" / "proxy-latency.json")
        return
    labeled = labeled_corpus()
    chunks, engine = corpus_chunks(labeled)
    results["engine_mb_per_s"] = engine_rate(chunks, engine)
    results["engine_chat_mb_per_s"] = chat_rate()
    results.update(corpus_halves(labeled))
    presidio = presidio_rate(chunks)
    results["presidio_mb_per_s"] = presidio
    results["presidio_speed_ratio"] = results["engine_mb_per_s"] / presidio if presidio else None
    _report(results, REPO / "bench" / "results" / "proxy.json")


def _report(results: dict[str, Any], out: Path) -> None:
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    goals = {
        "added_p50_ms": "<= 1.5",
        "added_p99_ms": "<= 6",
        "ttft_added_ms": "<= 2",
        "events_ratio": ">= 0.95",
        "responses_events_ratio": ">= 0.95",
        "engine_mb_per_s": ">= 10",
        "engine_chat_mb_per_s": ">= 10",
        "presidio_speed_ratio": ">= 50",
    }
    print(f"{'metric':<36} {'value':>12}  goal")
    for key, value in results.items():
        if key == "machine":
            continue
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{key:<36} {shown:>12}  {goals.get(key, '')}")
    print(f"machine: {results['machine']}")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
