"""Test and demo infrastructure: a local control plane, a throwaway Postgres, a fake LLM upstream.

Components never import this package; tests, benchmarks, the demo and the CLI do.
"""
