"""Reconcile AgentProfiles (validate, render the ConfigMap, report) and OrgUsers (resolve refs)."""

from __future__ import annotations

import logging
from typing import Any

from orgtwin.core import k8s
from orgtwin.core.crds.models import AgentProfileStatus, Condition, OrgUserSpec, OrgUserStatus
from orgtwin.operator import builders, conditions
from orgtwin.operator.builders.meta import Owner
from orgtwin.operator.runtime import Lookups, ProfileRecord, Runtime

log = logging.getLogger("orgtwin.operator.profiles")

PROFILE_KIND = "AgentProfile"
USER_KIND = "OrgUser"


def _changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return any(old.get(k) != v for k, v in new.items())


def _dump_conditions(conds: list[Any]) -> list[dict[str, Any]]:
    return [c.model_dump(by_alias=True, exclude_none=True, mode="json") for c in conds]


def reconcile_profile(
    rt: Runtime, lookups: Lookups, namespace: str, name: str, body: dict[str, Any] | None = None
) -> bool:
    """Validate, render and report one profile; True when its generation or hash changed."""
    with rt.lock(PROFILE_KIND, namespace, name), rt.metrics.reconcile(PROFILE_KIND):
        body = body or rt.kube.get(k8s.PROFILE_PLURAL, namespace, name)
        if body is None:
            return False
        meta = body["metadata"]
        generation = int(meta.get("generation", 1))
        record = ProfileRecord(name, meta["uid"], generation, dict(body.get("spec") or {}))
        resolved = rt.resolve_profile(namespace, record)
        raw_status: dict[str, Any] = dict(body.get("status") or {})
        status = AgentProfileStatus.model_validate(raw_status)
        now = conditions.now_rfc3339()
        patch: dict[str, Any] = {
            "observedGeneration": generation,
            "usersAssigned": len(lookups.users_of_profile(namespace, name)),
        }
        if resolved.error is not None or resolved.spec is None:
            reason = resolved.error.reason if resolved.error else "InvalidSpec"
            message = str(resolved.error) if resolved.error else "invalid"
            ready = conditions.make(conditions.READY, "False", reason, message, generation, now)
        else:
            owner = Owner(PROFILE_KIND, name, meta["uid"])
            rt.kube.apply_configmap(
                builders.configmap(namespace, owner, resolved.spec, rt.settings)
            )
            patch["configHash"] = resolved.config_hash
            patch["configMapName"] = k8s.profile_configmap_name(name)
            ready = conditions.make(
                conditions.READY,
                "True",
                "ConfigRendered",
                "goose configuration rendered",
                generation,
                now,
            )
        conds = conditions.set_condition(status.conditions, ready)
        patch["conditions"] = _dump_conditions(conds)
        old_ready = conditions.get(status.conditions, conditions.READY)
        if _changed(raw_status, patch):
            rt.kube.patch_status(k8s.PROFILE_PLURAL, namespace, name, patch)
        if old_ready is None or (old_ready.status, old_ready.reason) != (
            ready.status,
            ready.reason,
        ):
            warn = ready.status != "True"
            rt.kube.event(
                body, PROFILE_KIND, "Warning" if warn else "Normal", ready.reason, ready.message
            )
            fields = {"namespace": namespace, "profile": name, "reason": ready.reason}
            (log.warning if warn else log.info)("profile.ready", extra={"fields": fields})
        return status.observed_generation != generation or status.config_hash != patch.get(
            "configHash", status.config_hash
        )


def _profile_condition(
    rt: Runtime, lookups: Lookups, namespace: str, spec: OrgUserSpec, generation: int, now: str
) -> tuple[Condition, dict[str, Any]]:
    def cond(status: conditions.Status, reason: str, message: str) -> Condition:
        return conditions.make(
            conditions.PROFILE_RESOLVED, status, reason, message, generation, now
        )

    if not spec.profile_ref:
        return cond("False", "NoProfileAssigned", "no profileRef assigned yet"), {}
    record = lookups.profile(namespace, spec.profile_ref)
    if record is None:
        return cond("False", "ProfileNotFound", "the AgentProfile in profileRef does not exist"), {}
    resolved = rt.resolve_profile(namespace, record)
    if resolved.error is not None:
        return cond(
            "False", "ProfileInvalid", f"the AgentProfile is invalid ({resolved.error.reason})"
        ), {}
    extra = {
        "profileGeneration": resolved.generation,
        "configHash": resolved.config_hash,
        "role": resolved.role,
    }
    return cond("True", "Resolved", "profile resolved"), extra


def reconcile_user(
    rt: Runtime, lookups: Lookups, namespace: str, name: str, body: dict[str, Any] | None = None
) -> None:
    """Resolve the user's profile and manager and record them in status."""
    with rt.lock(USER_KIND, namespace, name), rt.metrics.reconcile(USER_KIND):
        body = body or rt.kube.get(k8s.USER_PLURAL, namespace, name)
        if body is None:
            return
        generation = int(body["metadata"].get("generation", 1))
        spec = OrgUserSpec.model_validate(body.get("spec") or {})
        raw_status: dict[str, Any] = dict(body.get("status") or {})
        status = OrgUserStatus.model_validate(raw_status)
        now = conditions.now_rfc3339()
        profile_cond, extra = _profile_condition(rt, lookups, namespace, spec, generation, now)
        mgr: tuple[conditions.Status, str, str]
        if not spec.manager_id:
            mgr = ("True", "TopOfChart", "no manager: top of the org chart")
        elif lookups.user_by_employee(namespace, spec.manager_id) is None:
            mgr = ("False", "ManagerNotFound", "no OrgUser has the managerId as employeeId")
        else:
            mgr = ("True", "Resolved", "manager resolved")
        manager_cond = conditions.make(
            conditions.MANAGER_RESOLVED,
            mgr[0],
            mgr[1],
            mgr[2],
            generation,
            now,
        )
        ready = conditions.make(
            conditions.READY,
            profile_cond.status,
            "Ready" if profile_cond.status == "True" else profile_cond.reason,
            "user is ready" if profile_cond.status == "True" else profile_cond.message,
            generation,
            now,
        )
        conds = conditions.set_all(status.conditions, [profile_cond, manager_cond, ready])
        patch: dict[str, Any] = {
            "observedGeneration": generation,
            "conditions": _dump_conditions(conds),
            **extra,
        }
        if _changed(raw_status, patch):
            rv = rt.kube.patch_status(k8s.USER_PLURAL, namespace, name, patch)
            rt.wrote(USER_KIND, namespace, name, rv)
        old_ready = conditions.get(status.conditions, conditions.READY)
        if old_ready is None or old_ready.reason != ready.reason:
            fields = {"namespace": namespace, "user": name, "reason": ready.reason}
            if ready.status != "True":
                rt.kube.event(body, USER_KIND, "Warning", ready.reason, ready.message)
                log.warning("user.not_ready", extra={"fields": fields})
            else:
                log.info("user.ready", extra={"fields": fields})
