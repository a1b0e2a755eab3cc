"""The LLM privacy proxy: masks PII, restores it in (streamed) answers, enforces tool policy."""
