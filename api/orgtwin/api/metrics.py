"""Prometheus metrics of the api: requests, latency, idempotent replays, mesh and imports."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "orgtwin_api_requests_total", "HTTP requests.", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "orgtwin_api_request_seconds",
    "HTTP request latency.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30),
    registry=REGISTRY,
)
REPLAYS = Counter(
    "orgtwin_api_idempotent_replays_total",
    "Responses replayed for a repeated key.",
    registry=REGISTRY,
)
MESH_ITEMS = Counter(
    "orgtwin_api_mesh_items_total",
    "Tasks, approvals and notifications created.",
    ["kind"],
    registry=REGISTRY,
)
IMPORTS = Counter(
    "orgtwin_api_imports_total", "Org imports by outcome.", ["outcome"], registry=REGISTRY
)
AUTH_FAILURES = Counter(
    "orgtwin_api_auth_failures_total",
    "Rejected credentials by kind.",
    ["kind"],
    registry=REGISTRY,
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def render() -> bytes:
    return generate_latest(REGISTRY)
