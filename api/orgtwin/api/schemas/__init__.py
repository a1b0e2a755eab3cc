"""Pydantic request and response models of the control API (the wire contract)."""
