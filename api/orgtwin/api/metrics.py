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
MESH_WRITE_ITEMS = Histogram(
    "orgtwin_api_mesh_write_items",
    "Mesh items written per transaction (creates that arrived together).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
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


# Children by label values: ``labels()`` validates and locks on every call, and the
# set of (method, route, status) a server sees is small (routes are templates).
_request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    children = _request_children.get(key)
    if children is None:
        children = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
        _request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def render() -> bytes:
    return generate_latest(REGISTRY)
