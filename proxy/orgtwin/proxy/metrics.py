"""Prometheus metrics of the proxy, on a registry per app so tests can run several apps."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "orgtwin_proxy_requests",
            "Requests by protocol, stream flag and outcome status.",
            ["protocol", "stream", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "orgtwin_proxy_request_seconds",
            "Whole request time as the client sees it (to the last byte).",
            ["protocol", "stream"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.overhead = Histogram(
            "orgtwin_proxy_overhead_seconds",
            "Time the proxy itself spent on a request: auth, masking, restoring, policy.",
            ["protocol", "stream"],
            buckets=_OVERHEAD_BUCKETS,
            registry=self.registry,
        )
        self.detections = Counter(
            "orgtwin_proxy_detections",
            "PII detections in requests, by entity type and mode.",
            ["type", "mode"],
            registry=self.registry,
        )
        self.blocks = Counter(
            "orgtwin_proxy_tool_blocks",
            "Tool calls blocked in responses or tools removed from requests.",
            ["where"],
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "orgtwin_proxy_upstream_errors",
            "Upstream failures by kind: connect, timeout, status, stream.",
            ["kind"],
            registry=self.registry,
        )
        # Labelled children, looked up once: labels() validates and locks on every call,
        # and the hot path touches a dozen of them per request.
        self._done: dict[tuple[str, str, int], tuple[Counter, Histogram, Histogram]] = {}
        self._detections: dict[tuple[str, str], Counter] = {}

    def request_done(
        self, protocol: str, stream: str, status: int, seconds: float, overhead: float
    ) -> None:
        """Count one finished request and observe its latency and the proxy's own work."""
        key = (protocol, stream, status)
        children = self._done.get(key)
        if children is None:
            children = self._done[key] = (
                self.requests.labels(protocol, stream, str(status)),
                self.latency.labels(protocol, stream),
                self.overhead.labels(protocol, stream),
            )
        children[0].inc()
        children[1].observe(seconds)
        children[2].observe(overhead)

    def detected(self, counts: Mapping[str, int], mode: str) -> None:
        """Count PII detections by entity type (types and counts only, never values)."""
        for entity_type, count in counts.items():
            child = self._detections.get((entity_type, mode))
            if child is None:
                child = self._detections[(entity_type, mode)] = self.detections.labels(
                    entity_type, mode
                )
            child.inc(count)
