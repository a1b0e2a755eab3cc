"""Shared library: CRD models, the PII engine, settings, logging, errors and Kubernetes helpers."""
