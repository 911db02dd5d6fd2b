"""What-if analysis: answer questions about the estate as it would be after a change.

    snap2 = snap.with_changes(["authorize-ingress sg-0454e74e2924a7754 tcp 6379 sg-0864e6f6aee2a5cf4"])
    snap3, warnings = snap.with_plan("migration-plan.json")     # terraform show -json PLANFILE

The original snapshot is never changed. `apply_whatif` is what the CLI's `--plan` / `--assume` use: it
returns the changed snapshot together with the changes applied and the warnings, for printing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from reachgraph.errors import InputError
from reachgraph.model.records import Model
from reachgraph.whatif.assume import ASSUME_SYNTAX, parse_assume, parse_fix, parse_many
from reachgraph.whatif.changes import (
    CHANGE_TYPES, PLACEHOLDER_PREFIX, AddAclEntry, AssociateAcl, AuthorizeRule, Change, CreateAcl, CreateGroup,
    CreateService, DeleteAcl, DeleteGroup, MoveWorkload, RemoveAclEntry, RemoveWorkload, RevokeRule, apply_changes,
    change_to_dict, find_workload, is_placeholder, make_rule, show_id,
)
from reachgraph.whatif.terraform import SUPPORTED_TYPES, PlanChanges, changes_from_plan, load_plan, validate_plan

if TYPE_CHECKING:
    from reachgraph.api import Snapshot


def as_changes(changes: Any) -> list[Change]:
    """Change records and/or --assume strings (one string alone is accepted too) -> change records."""
    if isinstance(changes, (str, *CHANGE_TYPES)):
        changes = [changes]
    out: list[Change] = []
    for c in changes:
        if isinstance(c, str):
            out += parse_assume(c)
        elif isinstance(c, CHANGE_TYPES):
            out.append(c)
        else:
            raise InputError(f"not a what-if change: {c!r}",
                             hint=f"pass change records or --assume strings; {ASSUME_SYNTAX}")
    return out


def apply_to_model(model: Model, changes: Any) -> tuple[Model, tuple[str, ...]]:
    """The changed model and the warnings of applying `changes` (records or --assume strings)."""
    return apply_changes(model, as_changes(changes))


def plan_changes(plan: str | os.PathLike[str] | dict[str, Any], model: Model) -> PlanChanges:
    """A plan file path or an already-loaded plan dict -> its changes against this model."""
    if isinstance(plan, dict):
        return changes_from_plan(plan, model, source="plan")
    data = load_plan(plan)
    return changes_from_plan(data, model, source=os.fspath(plan))


@dataclass(frozen=True)
class WhatIf:
    """A what-if applied to a snapshot: the changed snapshot, what was applied, and what could not be."""

    snapshot: Snapshot
    changes: tuple[Change, ...] = ()
    warnings: tuple[str, ...] = ()
    plan: str | None = None
    assume: tuple[str, ...] = ()
    plan_resources: tuple[str, ...] = field(default=())

    @property
    def active(self) -> bool:
        """True when a plan or an --assume was given."""
        return self.plan is not None or bool(self.assume)

    def summary_lines(self) -> list[str]:
        """One line per applied change, for stderr: 'what-if: ORIGIN: DESCRIPTION'."""
        if not self.active:
            return []
        head = [f"what-if: {len(self.changes)} change{'s' * (len(self.changes) != 1)}"
                + (f" from {self.plan}" if self.plan else "") + (" and --assume" if self.plan and self.assume else "")
                + (" from --assume" if self.assume and not self.plan else "")]
        return head + [f"what-if:   {c.origin + ': ' if c.origin and not c.origin.startswith('--assume') else ''}"
                       f"{c.describe()}" for c in self.changes]

    def to_dict(self) -> dict[str, Any]:
        """The `whatif` object of `--json` output."""
        return {"plan": self.plan, "assume": list(self.assume), "plan_resources": list(self.plan_resources),
                "changes": [change_to_dict(c) for c in self.changes], "warnings": list(self.warnings)}


def apply_whatif(snap: Snapshot, plan: str | os.PathLike[str] | dict[str, Any] | None = None,
                 assume: Iterable[str] = ()) -> WhatIf:
    """The snapshot with a plan's changes, then each --assume, applied; the input snapshot is untouched."""
    assume = tuple(assume or ())
    changes: list[Change] = []
    warnings: list[str] = []
    resources: tuple[str, ...] = ()
    plan_name = None
    if plan is not None:
        pc = plan_changes(plan, snap.model)
        plan_name = pc.source
        changes += pc.changes
        warnings += pc.warnings
        resources = pc.resources
    changes += parse_many(list(assume))
    if plan is None and not assume:
        return WhatIf(snapshot=snap)
    model, applied_warnings = apply_changes(snap.model, changes)
    warnings += applied_warnings
    warnings = list(dict.fromkeys(warnings))
    extra = tuple(w for w in warnings if w not in model.warnings)
    if extra:
        model = replace(model, warnings=tuple(model.warnings) + extra)
    return WhatIf(snapshot=snap.with_model(model), changes=tuple(changes), warnings=tuple(warnings), plan=plan_name,
                  assume=assume, plan_resources=resources)


# -- explaining diffs and checks with the changes that caused them ---------------------------------------------

def related_changes(whatif: WhatIf, old: Snapshot, workload_keys: Iterable[str]) -> list[Change]:
    """The applied changes that touch these workloads: moves of them, rule and group changes of the groups their
    interfaces carry (before or after), and ACL changes on their subnets."""
    keys = {k for k in workload_keys if k}
    models = (old.model, whatif.snapshot.model)
    groups: set[str] = set()
    subnets: set[str] = set()
    names: set[str] = set()
    for m in models:
        for k in keys:
            w = m.workloads.get(k)
            if w is None:
                continue
            names.add(w.name)
            for e in w.interface_ids:
                iface = m.interfaces.get(e)
                if iface is not None:
                    groups.update(iface.group_ids)
                    subnets.update([iface.subnet_id] if iface.subnet_id else [])
    acls = {a.id for m in models for a in m.acls.values() if set(a.subnet_ids) & subnets}
    out: list[Change] = []
    for c in whatif.changes:
        if isinstance(c, (MoveWorkload, RemoveWorkload)):
            w = find_workload(old.model.workloads, c.target)
            hit = (w is not None and (w.key in keys or (w.parent or "") in keys
                                      or any(x.parent == w.key for x in old.model.workloads.values()
                                             if x.key in keys)))
            if not hit and c.target.startswith("eni-"):
                hit = any(c.target in m.workloads[k].interface_ids for m in models for k in keys if k in m.workloads)
        elif isinstance(c, CreateService):
            hit = c.name in names
        elif isinstance(c, (AuthorizeRule, RevokeRule)):
            hit = c.rule.group_id in groups
        elif isinstance(c, (CreateGroup, DeleteGroup)):
            hit = c.group_id in groups
        elif isinstance(c, (AddAclEntry, RemoveAclEntry, CreateAcl, DeleteAcl)):
            hit = c.acl_id in acls
        elif isinstance(c, AssociateAcl):
            hit = bool(set(c.subnet_ids) & subnets)
        else:  # pragma: no cover - every change type is listed above
            hit = False
        if hit:
            out.append(c)
    moved_to = {g for c in out if isinstance(c, MoveWorkload) for g in c.group_ids}
    return [c for c in out if not (isinstance(c, CreateGroup) and c.group_id in moved_to)]


def cause_text(c: Change) -> str:
    """'aws_ecs_service.api: move ECS service hokusai-api-development to aws_security_group.api_tasks'."""
    if c.origin and not c.origin.startswith("--assume"):
        return f"{c.origin}: {c.describe()}"
    return f"assumed: {c.describe()}"


def annotate_diff(result: Any, whatif: WhatIf, old: Snapshot, label: str | None = None) -> Any:
    """A diff result (reachgraph.diff.DiffResult) whose flow causes start with the plan changes behind them."""
    flows = []
    for f in result.flows:
        extra = tuple(cause_text(c) for c in related_changes(whatif, old, f.key[:2]))
        flows.append(replace(f, causes=tuple(dict.fromkeys(extra + tuple(f.causes)))) if extra else f)
    return replace(result, flows=tuple(flows), new=label or result.new)


__all__ = [
    "ASSUME_SYNTAX", "PLACEHOLDER_PREFIX", "SUPPORTED_TYPES", "AddAclEntry", "AssociateAcl", "AuthorizeRule", "Change",
    "annotate_diff", "cause_text", "related_changes",
    "CreateAcl", "CreateGroup", "CreateService", "DeleteAcl", "DeleteGroup", "MoveWorkload", "PlanChanges",
    "RemoveAclEntry", "RemoveWorkload", "RevokeRule", "WhatIf", "apply_changes", "apply_to_model", "apply_whatif",
    "as_changes", "change_to_dict", "changes_from_plan", "is_placeholder", "load_plan", "make_rule", "parse_assume",
    "parse_fix", "parse_many", "plan_changes", "show_id", "validate_plan",
]
