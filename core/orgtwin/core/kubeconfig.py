"""Where every service finds its cluster: a kubeconfig file, in-cluster, or ~/.kube/config.

A service without any of them cannot start: StartupError names the setting to use.
"""

from __future__ import annotations

from kubernetes import client, config

from orgtwin.core.startup import StartupError


def load_configuration(
    kubeconfig: str | None, variable: str, alternative: str = ""
) -> client.Configuration:
    """The cluster configuration; ``variable`` is the setting that names ``kubeconfig``,
    ``alternative`` another way to run that the error names."""
    cfg = client.Configuration()
    if kubeconfig:
        try:
            config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)  # type: ignore[no-untyped-call]
        except (OSError, config.ConfigException):
            raise StartupError(
                f"{variable} ({kubeconfig}): missing or not a usable kubeconfig"
            ) from None
        return cfg
    try:
        config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
    except config.ConfigException:
        try:
            config.load_kube_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
        except config.ConfigException:
            raise StartupError(
                "no Kubernetes configuration: not in a cluster and no ~/.kube/config; "
                f"set {variable}{alternative}"
            ) from None
    return cfg
