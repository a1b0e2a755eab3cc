"""Every Kubernetes API call the operator makes, behind small idempotent functions.

Errors:
    KubeError                  base
    └── KubeUnavailableError        transient (5xx, 429, timeouts, conflicts): retry later

A 404 on read returns ``None``; a 404 on delete and a 409 on create are success,
so each call can be retried without duplicating anything.
"""

from __future__ import annotations

import base64
import json
import socket
from datetime import UTC, datetime
from typing import Any

import kopf
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from orgtwin.core import k8s
from orgtwin.core.kubeconfig import load_configuration
from orgtwin.operator.builders.meta import MANAGED_BY

_TRANSIENT = {409, 429, 500, 502, 503, 504}
KUBECONFIG_VARIABLE = "ORGTWIN_OPERATOR_KUBECONFIG"


class KubeError(Exception):
    """An API call failed."""


class KubeUnavailableError(KubeError):
    """A transient failure: the same call may succeed later."""


def _raise(exc: Exception, what: str) -> None:
    if isinstance(exc, ApiException) and exc.status not in _TRANSIENT:
        raise KubeError(f"{what}: HTTP {exc.status} {exc.reason}") from exc
    status = getattr(exc, "status", type(exc).__name__)
    raise KubeUnavailableError(f"{what}: {status}") from exc


def _json(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(response.data)
    return data


def new_api_client(kubeconfig: str | None, pool_size: int) -> client.ApiClient:
    """An ApiClient from a kubeconfig file, else in-cluster, else the default kubeconfig."""
    cfg = load_configuration(kubeconfig, KUBECONFIG_VARIABLE)
    cfg.connection_pool_maxsize = pool_size
    return client.ApiClient(cfg)


def connection_info(kubeconfig: str | None) -> kopf.ConnectionInfo:
    """kopf's credentials, taken from the same configuration our own client uses."""
    cfg = new_api_client(kubeconfig, 1).configuration
    header = cfg.get_api_key_with_prefix("BearerToken") or cfg.get_api_key_with_prefix(
        "authorization"
    )
    scheme, token = ([*header.split(" ", 1), ""])[:2] if header else (None, None)
    if header and " " not in header:
        scheme, token = None, header
    return kopf.ConnectionInfo(
        server=cfg.host,
        ca_path=cfg.ssl_ca_cert,
        insecure=not cfg.verify_ssl,
        username=cfg.username or None,
        password=cfg.password or None,
        scheme=scheme,
        token=token or None,
        certificate_path=cfg.cert_file,
        private_key_path=cfg.key_file,
    )


class Kube:
    """Typed-enough access to the objects the operator reads and writes."""

    def __init__(self, api: client.ApiClient) -> None:
        self.api = api
        # Typed as Any: bodies go over the wire as plain dicts, not client models.
        self.core: Any = client.CoreV1Api(api)
        self.custom: Any = client.CustomObjectsApi(api)
        self.net: Any = client.NetworkingV1Api(api)
        self.instance = socket.gethostname()

    # ------------------------------------------------------------------ custom resources
    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            obj: dict[str, Any] = self.custom.get_namespaced_custom_object(
                k8s.GROUP, k8s.VERSION, namespace, plural, name
            )
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            if isinstance(exc, ApiException) and exc.status == 404:
                return None
            _raise(exc, f"get {plural}")
        return obj

    def patch_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> str:
        """Merge-patch the status; returns the new resourceVersion ("" if the object is gone)."""
        try:
            out = self.custom.patch_namespaced_custom_object_status(
                k8s.GROUP, k8s.VERSION, namespace, plural, name, {"status": status}
            )
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            if isinstance(exc, ApiException) and exc.status == 404:
                return ""
            _raise(exc, f"patch {plural} status")
        return str(out["metadata"]["resourceVersion"])

    def delete_custom(self, plural: str, namespace: str, name: str) -> None:
        try:
            self.custom.delete_namespaced_custom_object(
                k8s.GROUP, k8s.VERSION, namespace, plural, name
            )
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            if isinstance(exc, ApiException) and exc.status == 404:
                return
            _raise(exc, f"delete {plural}")

    # ------------------------------------------------------------------ children
    def create(self, obj: dict[str, Any]) -> bool:
        """Create ``obj``; False when it already exists (a retry, or another pass got there)."""
        ns = obj["metadata"]["namespace"]
        creators = {
            "Pod": self.core.create_namespaced_pod,
            "Secret": self.core.create_namespaced_secret,
            "ConfigMap": self.core.create_namespaced_config_map,
            "NetworkPolicy": self.net.create_namespaced_network_policy,
        }
        try:
            creators[obj["kind"]](ns, obj, _preload_content=False)
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            if isinstance(exc, ApiException) and exc.status == 409:
                return False
            _raise(exc, f"create {obj['kind']}")
        return True

    def replace_secret(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        try:
            self.core.replace_namespaced_secret(
                meta["name"], meta["namespace"], obj, _preload_content=False
            )
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            if isinstance(exc, ApiException) and exc.status == 404:
                self.create(obj)
                return
            _raise(exc, "replace Secret")

    def apply_configmap(self, obj: dict[str, Any]) -> None:
        """Create the ConfigMap, or patch it when its content hash label differs."""
        if self.create(obj):
            return
        meta = obj["metadata"]
        try:
            current = _json(
                self.core.read_namespaced_config_map(
                    meta["name"], meta["namespace"], _preload_content=False
                )
            )
            labels = current["metadata"].get("labels") or {}
            if labels.get(k8s.LABEL_CONFIG_HASH) != meta["labels"][k8s.LABEL_CONFIG_HASH]:
                self.core.replace_namespaced_config_map(
                    meta["name"], meta["namespace"], obj, _preload_content=False
                )
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            _raise(exc, "update ConfigMap")

    def get_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The Pod as a plain dict: client models cost CPU and memory we do not need."""
        try:
            return _json(self.core.read_namespaced_pod(name, namespace, _preload_content=False))
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            if isinstance(exc, ApiException) and exc.status == 404:
                return None
            _raise(exc, "get Pod")
        return None

    def delete(self, kind: str, namespace: str, name: str) -> None:
        deleters = {
            "Pod": self.core.delete_namespaced_pod,
            "Secret": self.core.delete_namespaced_secret,
            "NetworkPolicy": self.net.delete_namespaced_network_policy,
        }
        try:
            deleters[kind](name, namespace, _preload_content=False)
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            if isinstance(exc, ApiException) and exc.status == 404:
                return
            _raise(exc, f"delete {kind}")

    # ------------------------------------------------------------------ signing key
    def signing_key(self, namespace: str, bootstrap: dict[str, Any]) -> bytes:
        """The tenant's token signing key; creates ``bootstrap`` first on a fresh install."""
        for _ in range(2):
            try:
                secret = _json(
                    self.core.read_namespaced_secret(
                        k8s.SIGNING_SECRET_NAME, namespace, _preload_content=False
                    )
                )
                return base64.b64decode((secret.get("data") or {})[k8s.SIGNING_SECRET_KEY])
            except KeyError as exc:
                raise KubeError("signing Secret has no signing-key entry") from exc
            except (ApiException, urllib3.exceptions.HTTPError) as exc:
                if not (isinstance(exc, ApiException) and exc.status == 404):
                    _raise(exc, "get signing Secret")
            # Two replicas racing here both end up with the one key that won the create.
            self.create(bootstrap)
        raise KubeUnavailableError("signing Secret not readable after creating it")

    # ------------------------------------------------------------------ events
    def event(self, obj: dict[str, Any], kind: str, type_: str, reason: str, message: str) -> None:
        """Record a Kubernetes Event on ``obj``; best effort, never fails the reconcile."""
        meta = obj["metadata"]
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            "metadata": {"generateName": f"{meta['name'][:200]}.", "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": k8s.API_VERSION,
                "kind": kind,
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta.get("uid"),
            },
            "reason": reason,
            "message": message[:1024],
            "type": type_,
            "source": {"component": MANAGED_BY},
            "reportingComponent": MANAGED_BY,
            "reportingInstance": self.instance[:128],
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        try:
            self.core.create_namespaced_event(meta["namespace"], body, _preload_content=False)
        except (ApiException, urllib3.exceptions.HTTPError):
            return
