"""The Kubernetes API as the api uses it: OrgUsers, AgentProfiles, AgentSessions.

The official client is synchronous, so every call runs in a worker thread with
a short timeout and no retries: an unreachable apiserver becomes
``UnavailableError("kubernetes")`` (503) quickly instead of hanging a request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, cast

import anyio
import urllib3
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from orgtwin.api.errors import UnavailableError
from orgtwin.api.settings import ApiSettings
from orgtwin.core import k8s
from orgtwin.core.errors import ConflictError, FieldProblem, InputValidationError, NotFoundError
from orgtwin.core.kubeconfig import load_configuration

FIELD_MANAGER = "orgtwin-api"
KUBECONFIG_VARIABLE = "ORGTWIN_API_KUBECONFIG"
Obj = dict[str, Any]


def _api_client(settings: ApiSettings) -> client.ApiClient:
    cfg = load_configuration(settings.kubeconfig, KUBECONFIG_VARIABLE)
    # Fail fast: an unreachable apiserver must become a 503 now, not after retries.
    cfg.retries = 0
    # Imports apply in parallel; the default pool of 10 would churn connections.
    cfg.connection_pool_maxsize = max(settings.import_concurrency * 2, 10)
    return client.ApiClient(cfg)


class Kube:
    """Typed-enough access to the three custom resources of one namespace."""

    def __init__(self, settings: ApiSettings) -> None:
        self.namespace = settings.namespace
        self.timeout = settings.k8s_timeout_seconds
        self.api = _api_client(settings)
        self.custom = client.CustomObjectsApi(self.api)
        self.version_api = client.VersionApi(self.api)

    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("_request_timeout", self.timeout)
        try:
            return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
        except ApiException as exc:
            raise _translate(exc) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise UnavailableError("kubernetes") from exc

    async def _obj(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Obj:
        return cast(Obj, await self._call(fn, *args, **kwargs))

    async def ping(self) -> None:
        await self._call(self.version_api.get_code)

    async def get(self, plural: str, name: str) -> Obj:
        return await self._obj(
            self.custom.get_namespaced_custom_object,
            k8s.GROUP,
            k8s.VERSION,
            self.namespace,
            plural,
            name,
        )

    async def list_versioned(
        self, plural: str, label_selector: str = ""
    ) -> tuple[list[Obj], str | None]:
        """The objects, and the list's resourceVersion: a watch from it misses no change."""
        out: dict[str, Any] = await self._call(
            self.custom.list_namespaced_custom_object,
            k8s.GROUP,
            k8s.VERSION,
            self.namespace,
            plural,
            label_selector=label_selector,
        )
        return list(out.get("items", [])), (out.get("metadata") or {}).get("resourceVersion")

    async def list(self, plural: str, label_selector: str = "") -> list[Obj]:
        return (await self.list_versioned(plural, label_selector))[0]

    async def create(self, plural: str, body: Obj) -> Obj:
        return await self._obj(
            self.custom.create_namespaced_custom_object,
            k8s.GROUP,
            k8s.VERSION,
            self.namespace,
            plural,
            body,
            field_manager=FIELD_MANAGER,
        )

    async def apply(self, plural: str, body: Obj, *, dry_run: bool = False) -> Obj:
        """Server-side apply as field manager orgtwin-api."""
        kwargs: dict[str, Any] = {
            "field_manager": FIELD_MANAGER,
            "force": True,
            "_content_type": "application/apply-patch+yaml",
        }
        if dry_run:
            kwargs["dry_run"] = "All"
        return await self._obj(
            self.custom.patch_namespaced_custom_object,
            k8s.GROUP,
            k8s.VERSION,
            self.namespace,
            plural,
            body["metadata"]["name"],
            body,
            **kwargs,
        )

    async def merge_patch(self, plural: str, name: str, patch: Obj) -> Obj:
        return await self._merge(self.custom.patch_namespaced_custom_object, plural, name, patch)

    async def patch_status(self, plural: str, name: str, patch: Obj) -> Obj:
        return await self._merge(
            self.custom.patch_namespaced_custom_object_status, plural, name, patch
        )

    async def _merge(self, method: Callable[..., Any], plural: str, name: str, patch: Obj) -> Obj:
        """A JSON merge patch of the object (or its status subresource) by ``method``."""
        return await self._obj(
            method,
            k8s.GROUP,
            k8s.VERSION,
            self.namespace,
            plural,
            name,
            patch,
            field_manager=FIELD_MANAGER,
            _content_type="application/merge-patch+json",
        )

    async def delete(self, plural: str, name: str) -> None:
        await self._call(
            self.custom.delete_namespaced_custom_object,
            k8s.GROUP,
            k8s.VERSION,
            self.namespace,
            plural,
            name,
        )

    def events(self, w: watch.Watch, plural: str, **kwargs: Any) -> Iterator[Obj]:
        """Watch events of ``plural`` in this namespace, through ``w`` (which can stop them).

        Blocking: iterate it in a thread of its own, never on the event loop.
        """
        return cast(
            Iterator[Obj],
            w.stream(  # type: ignore[no-untyped-call]
                self.custom.list_namespaced_custom_object,
                k8s.GROUP,
                k8s.VERSION,
                self.namespace,
                plural,
                **kwargs,
            ),
        )

    def close(self) -> None:
        self.api.close()  # type: ignore[no-untyped-call]


def _translate(exc: ApiException) -> Exception:
    status = exc.status or 0
    if status == 404:
        return NotFoundError("object not found")
    if status == 409:
        return ConflictError("the object changed or already exists; retry")
    if status in (400, 422):
        # The apiserver's message can quote field values, so only the reason is passed on.
        return InputValidationError(
            "rejected by the Kubernetes API", [FieldProblem("object", f"invalid ({status})")]
        )
    return UnavailableError("kubernetes")
