"""Prometheus metrics: reconciles, their durations, errors, transitions and sessions by phase."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

PHASES = ("Pending", "Active", "Paused", "Completed", "Failed", "Expired")


class _PhaseCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "orgtwin_operator_sessions",
            "AgentSessions by phase, as last reconciled.",
            labels=["phase"],
        )
        counts = self._metrics.phase_counts()
        for phase in PHASES:
            family.add_metric([phase], counts.get(phase, 0))
        yield family


class Metrics:
    """One registry per operator process (tests may run several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "orgtwin_operator_reconciles",
            "Reconcile passes by kind and result (ok, error, retry).",
            ["kind", "result"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "orgtwin_operator_reconcile_seconds",
            "Duration of one reconcile pass.",
            ["kind"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.errors = Counter(
            "orgtwin_operator_errors",
            "Reconcile passes that failed, by kind and error type.",
            ["kind", "error"],
            registry=self.registry,
        )
        self.transitions = Counter(
            "orgtwin_operator_session_transitions",
            "AgentSession phase transitions.",
            ["from_phase", "to_phase"],
            registry=self.registry,
        )
        self._phases: dict[str, str] = {}
        self._lock = threading.Lock()
        self.registry.register(_PhaseCollector(self))

    def set_phase(self, key: str, phase: str | None) -> None:
        with self._lock:
            if phase is None:
                self._phases.pop(key, None)
            else:
                self._phases[key] = phase

    def phase_counts(self) -> dict[str, int]:
        with self._lock:
            counts: dict[str, int] = {}
            for phase in self._phases.values():
                counts[phase] = counts.get(phase, 0) + 1
            return counts

    @contextmanager
    def reconcile(self, kind: str) -> Iterator[None]:
        """Count and time one reconcile; errors are counted by type and re-raised."""
        started = time.perf_counter()
        try:
            yield
        except Exception as exc:
            self.reconciles.labels(kind, "error").inc()
            self.errors.labels(kind, type(exc).__name__).inc()
            raise
        else:
            self.reconciles.labels(kind, "ok").inc()
        finally:
            self.duration.labels(kind).observe(time.perf_counter() - started)

    def serve(self, host: str, port: int) -> None:
        start_http_server(port, addr=host, registry=self.registry)
