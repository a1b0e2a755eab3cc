"""Pure builders: spec in, Kubernetes object (a plain dict, as sent to the API) out.

No builder performs I/O; tests/operator/test_builders.py pins each against golden YAML.
"""

from orgtwin.operator.builders.goose import configmap, render_goose_config
from orgtwin.operator.builders.meta import SessionContext, config_hash, owner_reference
from orgtwin.operator.builders.pod import pod
from orgtwin.operator.builders.policy import network_policy
from orgtwin.operator.builders.secret import signing_secret, token_secret

__all__ = [
    "SessionContext",
    "config_hash",
    "configmap",
    "network_policy",
    "owner_reference",
    "pod",
    "render_goose_config",
    "signing_secret",
    "token_secret",
]
