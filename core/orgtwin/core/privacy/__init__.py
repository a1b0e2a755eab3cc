"""PII detection and reversible masking: pure Python, no network; used by the proxy and the api."""

from orgtwin.core.privacy.directory import Directory
from orgtwin.core.privacy.engine import Engine, Masked, NerBackend, RequestMasker, resolve
from orgtwin.core.privacy.restore import RestoreMap, StreamRestorer
from orgtwin.core.privacy.types import BUILTIN_TYPES, Detection

__all__ = [
    "BUILTIN_TYPES",
    "Detection",
    "Directory",
    "Engine",
    "Masked",
    "NerBackend",
    "RequestMasker",
    "RestoreMap",
    "StreamRestorer",
    "resolve",
]
