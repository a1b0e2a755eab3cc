"""The LLM proxy that masks PII, restores it in answers and enforces tool policy."""
