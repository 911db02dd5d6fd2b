"""Typed what-if changes, and applying them to a Model purely (the Model is never mutated).

A change is one thing an engineer or a Terraform plan would do to the estate: authorize or revoke a
security-group rule, create or delete a group, move a workload's interfaces to other groups, delete a
workload, or change a network ACL. `apply_changes(model, changes)` returns a new Model plus warnings for
changes that could not be applied as written (the group is not in the snapshot, the rule is already
there, AWS would refuse the delete...). Nothing here does I/O.

Groups that do not exist yet (created by a Terraform plan, id unknown until apply) are named by a
placeholder id: `tf:` followed by the Terraform address, e.g. `tf:aws_security_group.api_tasks`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any, Union

from reachgraph.errors import InputError
from reachgraph.model.protocols import has_ports, normalize_protocol
from reachgraph.model.records import AclEntry, Interface, Model, NetworkAcl, Rule, SecurityGroup, Workload

PLACEHOLDER_PREFIX = "tf:"
UNKNOWN_PREFIX = PLACEHOLDER_PREFIX + "unknown:"   # a value unknown until apply that could not be traced

_REDEPLOYED_KINDS = frozenset({"ecs_service", "ecs_task"})


def is_placeholder(value: str | None) -> bool:
    """True for ids that exist only in a plan (`tf:ADDRESS`), unknown until apply."""
    return bool(value) and str(value).startswith(PLACEHOLDER_PREFIX)


def show_id(value: str) -> str:
    """An id as people read it: a placeholder becomes its Terraform address."""
    if is_placeholder(value):
        return value[len(PLACEHOLDER_PREFIX):]
    return value


# -- building rules -------------------------------------------------------------------------------------

def rule_ports(protocol: str, from_port: int | None, to_port: int | None) -> tuple[int | None, int | None]:
    """Ports exactly as the snapshot loader stores them (SG-7, SG-8): None for portless protocols."""
    if not has_ports(protocol):
        return None, None
    if protocol in ("tcp", "udp"):
        lo = 0 if from_port is None or from_port == -1 else from_port
        hi = 65535 if to_port is None or to_port == -1 else to_port
        if not (0 <= lo <= 65535 and 0 <= hi <= 65535) or lo > hi:
            raise ValueError(f"port range {lo}-{hi} is not within 0-65535")
        return lo, hi
    return (-1 if from_port is None else from_port), (-1 if to_port is None else to_port)


def peer_of(text: str) -> tuple[str, str, str | None]:
    """'sg-1', '123456789012/sg-1', 'tf:aws_security_group.x', 'pl-1', CIDR or IP -> (kind, peer, account)."""
    value = text.strip()
    if "/" in value and value.split("/", 1)[0].isdigit() and value.split("/", 1)[1].startswith("sg-"):
        account, gid = value.split("/", 1)
        return "group", gid, account
    if value.startswith("sg-") or is_placeholder(value):
        return "group", value, None
    if value.startswith("pl-"):
        return "prefix_list", value, None
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not a security group id, prefix list id or CIDR") from None
    return ("cidr6" if net.version == 6 else "cidr4"), str(net), None


def make_rule(group_id: str, direction: str, protocol: Any, from_port: int | None, to_port: int | None,
              peer: str, *, description: str | None = None) -> Rule:
    """One Rule as the snapshot loader would build it from the equivalent AWS permission."""
    if direction not in ("ingress", "egress"):
        raise ValueError(f"direction must be ingress or egress, not {direction!r}")
    proto = normalize_protocol(protocol)
    lo, hi = rule_ports(proto, from_port, to_port)
    kind, value, account = peer_of(peer)
    return Rule(group_id=group_id, direction=direction, protocol=proto,  # type: ignore[arg-type]
                from_port=lo, to_port=hi, peer_kind=kind, peer=value,  # type: ignore[arg-type]
                peer_account=account, description=description or None)


def rule_key(r: Rule) -> tuple[Any, ...]:
    """What makes two rules the same permission (AWS refuses duplicates; revoke matches on this)."""
    return (r.group_id, r.direction, r.protocol, r.from_port, r.to_port, r.peer_kind, r.peer)


def _rule_text(r: Rule) -> str:
    word = "from" if r.direction == "ingress" else "to"
    return f"{show_id(r.group_id)} {r.direction} {r.ports_text()} {word} {show_id(r.peer)}"


# -- change records -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuthorizeRule:
    """Add one rule (one peer) to a group: authorize-security-group-ingress/egress."""

    rule: Rule
    origin: str | None = None

    kind = "authorize"

    def describe(self) -> str:
        """'authorize sg-x ingress tcp/6379 from sg-y'."""
        return f"authorize {_rule_text(self.rule)}"


@dataclass(frozen=True)
class RevokeRule:
    """Remove the rule with the same protocol, ports and peer from a group."""

    rule: Rule
    origin: str | None = None

    kind = "revoke"

    def describe(self) -> str:
        """'revoke sg-x ingress tcp/6379 from sg-y'."""
        return f"revoke {_rule_text(self.rule)}"


@dataclass(frozen=True)
class CreateGroup:
    """A new security group with exactly these rules (Terraform removes AWS's default egress rule)."""

    group_id: str
    name: str
    vpc_id: str | None = None
    description: str = ""
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    origin: str | None = None

    kind = "create_group"

    def describe(self) -> str:
        """'create group tf:... (name) with 1 ingress and 1 egress rules'."""
        return (f"create security group {show_id(self.group_id)} ({self.name}) with {len(self.ingress)} ingress "
                f"and {len(self.egress)} egress rule{'s' * (len(self.egress) != 1)}")


@dataclass(frozen=True)
class DeleteGroup:
    """Delete a security group (AWS refuses while interfaces carry it or other groups' rules name it)."""

    group_id: str
    origin: str | None = None

    kind = "delete_group"

    def describe(self) -> str:
        """'delete security group sg-x'."""
        return f"delete security group {show_id(self.group_id)}"


@dataclass(frozen=True)
class MoveWorkload:
    """Give a workload's interfaces exactly these groups (and, optionally, these subnets).

    `target` is a workload key, a workload name as `query` resolves it, or an eni-/i- id. ECS tasks are
    replaced when their service's network configuration changes (`redeploy`, default for ECS): their new
    addresses are unknown until they start, somewhere in their subnets.
    """

    target: str
    group_ids: tuple[str, ...]
    subnet_ids: tuple[str, ...] | None = None
    redeploy: bool | None = None
    origin: str | None = None
    label: str | None = None      # how to name the target in descriptions ("ECS service hokusai-api")

    kind = "move"

    def describe(self) -> str:
        """'move api to sg-a, sg-b'."""
        where = f" in subnets {', '.join(map(show_id, self.subnet_ids))}" if self.subnet_ids else ""
        return (f"move {self.label or self.target} to {', '.join(map(show_id, self.group_ids)) or 'no groups'}"
                f"{where}")


@dataclass(frozen=True)
class CreateService:
    """A new ECS service (awsvpc): `count` tasks spread over the subnets, addresses unknown until they start."""

    name: str
    group_ids: tuple[str, ...]
    subnet_ids: tuple[str, ...]
    count: int = 1
    ports: tuple[int, ...] = ()
    cluster: str | None = None
    origin: str | None = None

    kind = "create_service"

    def describe(self) -> str:
        """'create ECS service x (2 tasks) in sg-a'."""
        return (f"create ECS service {self.name} ({self.count} task{'s' * (self.count != 1)}) in "
                f"{', '.join(map(show_id, self.group_ids)) or 'no groups'}")


@dataclass(frozen=True)
class RemoveWorkload:
    """Delete a workload: it, its member workloads (tasks, cache clusters) and their interfaces go away."""

    target: str
    origin: str | None = None
    label: str | None = None

    kind = "remove_workload"

    def describe(self) -> str:
        """'delete workload x'."""
        return f"delete {self.label or self.target}"


@dataclass(frozen=True)
class CreateAcl:
    """A new network ACL: the given entries plus AWS's final deny-all (NACL-3)."""

    acl_id: str
    vpc_id: str | None
    entries: tuple[AclEntry, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    origin: str | None = None

    kind = "create_acl"

    def describe(self) -> str:
        """'create network ACL tf:... with 2 entries'."""
        return f"create network ACL {show_id(self.acl_id)} with {len(self.entries)} entries"


@dataclass(frozen=True)
class DeleteAcl:
    """Delete a network ACL; its subnets fall back to the VPC's default ACL (NACL-4)."""

    acl_id: str
    origin: str | None = None

    kind = "delete_acl"

    def describe(self) -> str:
        """'delete network ACL acl-x'."""
        return f"delete network ACL {show_id(self.acl_id)}"


@dataclass(frozen=True)
class AddAclEntry:
    """Add (or replace, same number and direction) one ACL entry."""

    acl_id: str
    entry: AclEntry
    origin: str | None = None

    kind = "add_acl_entry"

    def describe(self) -> str:
        """'add acl-x inbound rule 100 allow tcp 10.0.0.0/16 443'."""
        e = self.entry
        ports = f" {e.port_from}-{e.port_to}" if e.port_from is not None else ""
        return (f"add {show_id(self.acl_id)} {'outbound' if e.egress else 'inbound'} rule {e.rule_number} "
                f"{e.action} {e.protocol} {e.cidr}{ports}")


@dataclass(frozen=True)
class RemoveAclEntry:
    """Remove the entry with this number and direction."""

    acl_id: str
    egress: bool
    rule_number: int
    origin: str | None = None

    kind = "remove_acl_entry"

    def describe(self) -> str:
        """'remove acl-x inbound rule 100'."""
        return f"remove {show_id(self.acl_id)} {'outbound' if self.egress else 'inbound'} rule {self.rule_number}"


@dataclass(frozen=True)
class AssociateAcl:
    """Associate subnets with an ACL (None: back to their VPC's default ACL); a subnet has one ACL (NACL-4)."""

    acl_id: str | None
    subnet_ids: tuple[str, ...]
    origin: str | None = None

    kind = "associate_acl"

    def describe(self) -> str:
        """'associate subnet-a with acl-x'."""
        target = show_id(self.acl_id) if self.acl_id else "the VPC's default network ACL"
        return f"associate {', '.join(map(show_id, self.subnet_ids))} with {target}"


Change = Union[AuthorizeRule, RevokeRule, CreateGroup, DeleteGroup, MoveWorkload, CreateService, RemoveWorkload,
               CreateAcl, DeleteAcl, AddAclEntry, RemoveAclEntry, AssociateAcl]
CHANGE_TYPES = (AuthorizeRule, RevokeRule, CreateGroup, DeleteGroup, MoveWorkload, CreateService, RemoveWorkload,
                CreateAcl, DeleteAcl, AddAclEntry, RemoveAclEntry, AssociateAcl)


def change_to_dict(change: Change) -> dict[str, Any]:
    """The JSON form listed under `whatif.changes`."""
    out: dict[str, Any] = {"kind": change.kind, "description": change.describe(), "origin": change.origin}
    if isinstance(change, (AuthorizeRule, RevokeRule)):
        r = change.rule
        out.update(group=r.group_id, direction=r.direction, protocol=r.protocol, from_port=r.from_port,
                   to_port=r.to_port, peer=r.peer, peer_kind=r.peer_kind)
    elif isinstance(change, (CreateGroup, DeleteGroup)):
        out["group"] = change.group_id
    elif isinstance(change, MoveWorkload):
        out.update(target=change.target, groups=list(change.group_ids),
                   subnets=list(change.subnet_ids) if change.subnet_ids is not None else None)
    elif isinstance(change, CreateService):
        out.update(name=change.name, groups=list(change.group_ids), subnets=list(change.subnet_ids),
                   count=change.count)
    elif isinstance(change, RemoveWorkload):
        out["target"] = change.target
    elif isinstance(change, (CreateAcl, DeleteAcl, AddAclEntry, RemoveAclEntry)):
        out["acl"] = change.acl_id
    elif isinstance(change, AssociateAcl):
        out.update(acl=change.acl_id, subnets=list(change.subnet_ids))
    return out


# -- applying -------------------------------------------------------------------------------------------

@dataclass
class _State:
    """Working copies of the model's dictionaries; the input Model is never touched."""

    model: Model
    groups: dict[str, SecurityGroup] = field(default_factory=dict)
    interfaces: dict[str, Interface] = field(default_factory=dict)
    workloads: dict[str, Workload] = field(default_factory=dict)
    acls: dict[str, NetworkAcl] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def warn(self, change: Change, message: str) -> None:
        where = f"{change.origin}: " if change.origin else ""
        self.warnings.append(f"what-if: {where}{message}")


def apply_changes(model: Model, changes: Any) -> tuple[Model, tuple[str, ...]]:
    """Apply changes in order; returns the changed Model (a new object) and warnings.

    The returned Model's `warnings` also carry the what-if warnings, so `Snapshot.warnings` shows them.
    """
    st = _State(model, dict(model.groups), dict(model.interfaces), dict(model.workloads), dict(model.acls))
    for change in changes:
        if not isinstance(change, CHANGE_TYPES):
            raise InputError(f"not a what-if change: {change!r}",
                             hint="use reachgraph.whatif.parse_assume(...) or the change classes")
        _APPLY[type(change)](st, change)
    new = replace(model, groups=_sorted(st.groups), interfaces=_sorted(st.interfaces),
                  workloads=_sorted(st.workloads), acls=_sorted(st.acls),
                  warnings=tuple(model.warnings) + tuple(dict.fromkeys(st.warnings)))
    return new, tuple(dict.fromkeys(st.warnings))


def _sorted(d: dict) -> dict:
    return {k: d[k] for k in sorted(d)}


def _authorize(st: _State, c: AuthorizeRule) -> None:
    r = c.rule
    g = st.groups.get(r.group_id)
    if g is None:
        st.warn(c, f"cannot {c.describe()}: {show_id(r.group_id)} is not in the snapshot")
        return
    rules = g.ingress if r.direction == "ingress" else g.egress
    if any(rule_key(x) == rule_key(r) for x in rules):
        st.warn(c, f"{_rule_text(r)} is already allowed by an identical rule")
        return
    if r.peer_kind == "group" and r.peer not in st.groups and not r.peer_account \
            and not r.peer.startswith(UNKNOWN_PREFIX):
        st.warn(c, f"{show_id(r.peer)} named by {_rule_text(r)} is not in the snapshot; the rule matches nothing "
                   "(SG-12)")
    field_name = "ingress" if r.direction == "ingress" else "egress"
    st.groups[g.id] = replace(g, **{field_name: rules + (r,)})


def _revoke(st: _State, c: RevokeRule) -> None:
    r = c.rule
    g = st.groups.get(r.group_id)
    if g is None:
        st.warn(c, f"cannot {c.describe()}: {show_id(r.group_id)} is not in the snapshot")
        return
    rules = g.ingress if r.direction == "ingress" else g.egress
    kept = tuple(x for x in rules if rule_key(x) != rule_key(r))
    if len(kept) == len(rules):
        st.warn(c, f"cannot {c.describe()}: no such rule in {show_id(r.group_id)} (AWS: InvalidPermission.NotFound)")
        return
    field_name = "ingress" if r.direction == "ingress" else "egress"
    st.groups[g.id] = replace(g, **{field_name: kept})


def _create_group(st: _State, c: CreateGroup) -> None:
    if c.group_id in st.groups:
        st.warn(c, f"security group {show_id(c.group_id)} already exists; not created again")
        return
    vpc = st.model.vpcs.get(c.vpc_id or "")
    account = vpc.account if vpc else (st.model.accounts[0] if len(st.model.accounts) == 1 else None)
    region = vpc.region if vpc else (st.model.regions[0] if len(st.model.regions) == 1 else None)
    ingress = tuple(replace(r, group_id=c.group_id) for r in c.ingress)
    egress = tuple(replace(r, group_id=c.group_id) for r in c.egress)
    st.groups[c.group_id] = SecurityGroup(id=c.group_id, name=c.name or c.group_id, vpc_id=c.vpc_id,
                                          account=account, region=region, description=c.description,
                                          ingress=_dedupe(ingress), egress=_dedupe(egress))


def _dedupe(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    seen: dict[tuple[Any, ...], Rule] = {}
    for r in rules:
        seen.setdefault(rule_key(r), r)
    return tuple(seen.values())


def _delete_group(st: _State, c: DeleteGroup) -> None:
    if c.group_id not in st.groups:
        st.warn(c, f"cannot delete {show_id(c.group_id)}: not in the snapshot")
        return
    users = sorted(i.id for i in st.interfaces.values() if c.group_id in i.group_ids)
    if users:
        st.warn(c, f"AWS refuses to delete {show_id(c.group_id)} while {len(users)} interface"
                   f"{'s' * (len(users) != 1)} carry it ({', '.join(users[:3])}{', ...' if len(users) > 3 else ''})"
                   " (DependencyViolation); the what-if keeps the group")
        return
    referrers = sorted({g.id for g in st.groups.values() if g.id != c.group_id
                        for r in g.ingress + g.egress if r.peer_kind == "group" and r.peer == c.group_id})
    if referrers:
        st.warn(c, f"AWS refuses to delete {show_id(c.group_id)} while rules of {', '.join(map(show_id, referrers))} "
                   "name it (DependencyViolation); the what-if keeps the group")
        return
    del st.groups[c.group_id]


def find_workload(model_workloads: dict[str, Workload], target: str) -> Workload | None:
    """A workload by key, exact name, i- id, or unique case-insensitive substring (parents first)."""
    if target in model_workloads:
        return model_workloads[target]
    ws = list(model_workloads.values())
    if target.startswith("i-"):
        hits = [w for w in ws if w.kind == "ec2_instance" and w.key.endswith(":" + target)]
        return hits[0] if len(hits) == 1 else None
    exact = [w for w in ws if w.name == target] or [w for w in ws if w.name.lower() == target.lower()]
    cands = exact or [w for w in ws if target.lower() in w.name.lower()]
    keys = {w.key for w in cands}
    cands = [w for w in cands if not (w.parent and w.parent in keys)]
    return cands[0] if len(cands) == 1 else None


def _candidates_text(st: _State, target: str) -> str:
    names = sorted({w.name for w in st.workloads.values() if target.lower() in w.name.lower()})
    return f"it matches {', '.join(names[:6])}" if names else "nothing matches it"


def _move(st: _State, c: MoveWorkload) -> None:
    groups = tuple(sorted(dict.fromkeys(c.group_ids)))
    for gid in groups:
        if gid not in st.groups and not gid.startswith(UNKNOWN_PREFIX):
            st.warn(c, f"{show_id(gid)} is not in the snapshot: answers that depend on it are unknown")
    # Groups unknown until apply: the interfaces' groups are unknown, so every answer about them is (ECS-1).
    uncertain = _unknown_groups_reason(groups)
    if uncertain:
        groups = ()
    if c.target.startswith("eni-"):
        iface = st.interfaces.get(c.target)
        if iface is None:
            st.warn(c, f"cannot move {c.target}: no such interface in the snapshot")
            return
        st.interfaces[iface.id] = replace(iface, group_ids=groups, **_uncertain_fields(iface, uncertain))
        return
    w = find_workload(st.workloads, c.target)
    if w is None:
        st.warn(c, f"cannot move {c.target!r}: no single workload matches ({_candidates_text(st, c.target)})")
        return
    if not groups and not uncertain:
        # An interface always has a group: without one, AWS (and ECS) use the VPC's default security group.
        vpcs = {st.interfaces[e].vpc_id for e in w.interface_ids if e in st.interfaces}
        groups = tuple(sorted(g.id for g in st.groups.values() if g.is_default and g.vpc_id in vpcs))
        st.warn(c, f"no security groups given for {c.label or c.target}: AWS uses the VPC's default group "
                   f"({', '.join(groups) or 'not in the snapshot'})")
        if not groups:
            uncertain = "security groups unknown: the VPC's default group is not in the snapshot"
    redeploy = c.redeploy if c.redeploy is not None else w.kind in _REDEPLOYED_KINDS
    subnets = tuple(c.subnet_ids) if c.subnet_ids else ()
    for sid in subnets:
        if sid not in st.model.subnets:
            st.warn(c, f"subnet {show_id(sid)} is not in the snapshot: addresses there are unknown")
    ifaces = sorted(w.interface_ids)
    for n, eid in enumerate(ifaces):
        iface = st.interfaces.get(eid)
        if iface is None:
            continue
        changes: dict[str, Any] = {"group_ids": groups, **_uncertain_fields(iface, uncertain)}
        if subnets and iface.subnet_id not in subnets:
            sid = subnets[n % len(subnets)]
            sub = st.model.subnets.get(sid)
            changes.update(subnet_id=sid, vpc_id=sub.vpc_id if sub else iface.vpc_id, az=sub.az if sub else None,
                           private_ipv4=(), ipv6=(), inferred=changes.get("inferred") or iface.inferred
                           or bool(iface.ipv6))
        elif redeploy:
            # New tasks, new interfaces: same subnets, addresses unknown until they start (IPv6 if it had one).
            changes.update(private_ipv4=(), ipv6=(),
                           inferred=changes.get("inferred") or iface.inferred or bool(iface.ipv6))
        st.interfaces[eid] = replace(iface, **changes)
    notes = list(w.notes)
    if redeploy and ifaces:
        notes.append("tasks are replaced by the change: their new addresses are unknown until they start")
    st.workloads[w.key] = replace(w, group_ids=groups, notes=tuple(dict.fromkeys(notes)))
    for child in list(st.workloads.values()):
        if child.parent == w.key and child.group_ids:
            st.workloads[child.key] = replace(child, group_ids=groups)
    parent = st.workloads.get(w.parent or "")
    if parent is not None and parent.group_ids:
        union = sorted({g for x in st.workloads.values() if x.parent == parent.key for g in x.group_ids})
        st.workloads[parent.key] = replace(parent, group_ids=tuple(union))


_UNKNOWN_GROUPS = "security groups unknown until apply"


def _unknown_groups_reason(groups: tuple[str, ...]) -> str | None:
    unknown = [g for g in groups if g.startswith(UNKNOWN_PREFIX)]
    if not unknown:
        return None
    return f"{_UNKNOWN_GROUPS} ({', '.join(show_id(g) for g in unknown)})"


def _uncertain_fields(iface: Interface, reason: str | None) -> dict[str, Any]:
    """An interface whose groups are unknown: no groups, inferred, uncertain (answers about it are unknown)."""
    if reason is None:
        return {"uncertain": None} if (iface.uncertain or "").startswith(_UNKNOWN_GROUPS) else {}
    return {"inferred": True, "uncertain": reason}


def _create_service(st: _State, c: CreateService) -> None:
    from reachgraph.model.parse_workloads import workload_key  # noqa: PLC0415 - one key format everywhere

    subnets = tuple(c.subnet_ids)
    first = st.model.subnets.get(subnets[0]) if subnets else None
    account = first.account if first else (st.model.accounts[0] if len(st.model.accounts) == 1 else None)
    region = first.region if first else (st.model.regions[0] if len(st.model.regions) == 1 else None)
    key = workload_key("ecs_service", account, region, f"{c.cluster or 'default'}/{c.name}")
    if key in st.workloads:
        st.warn(c, f"ECS service {c.name} already exists in the snapshot; not created again")
        return
    groups = tuple(sorted(set(c.group_ids)))
    uncertain = _unknown_groups_reason(groups)
    if uncertain:
        groups = ()
    enis = []
    for n in range(max(c.count, 0)):
        sid = subnets[n % len(subnets)] if subnets else None
        sub = st.model.subnets.get(sid or "")
        eid = f"eni-of-new-task-{c.name}-{n + 1}"
        st.interfaces[eid] = Interface(
            id=eid, vpc_id=sub.vpc_id if sub else None, subnet_id=sid, account=account, region=region,
            group_ids=groups, az=sub.az if sub else None,
            description=f"ECS task {n + 1} of new service {c.name} (what-if; address unknown)", inferred=True,
            uncertain=uncertain)
        enis.append(eid)
    notes = ("a new service: its tasks' addresses are unknown until they start",)
    if c.count <= 0:
        notes += ("the service starts no tasks (desired count 0)",)
    st.workloads[key] = Workload(key=key, kind="ecs_service", name=c.name, account=account, region=region,
                                 interface_ids=tuple(enis), group_ids=groups,
                                 ports=tuple(c.ports), label=f"ECS service {c.name} (planned), {c.count} task"
                                 f"{'s' * (c.count != 1)}", notes=notes)


def _remove_workload(st: _State, c: RemoveWorkload) -> None:
    w = find_workload(st.workloads, c.target)
    if w is None:
        st.warn(c, f"cannot delete {c.target!r}: no single workload matches ({_candidates_text(st, c.target)})")
        return
    doomed = {w.key} | {x.key for x in st.workloads.values() if x.parent == w.key}
    enis = {e for k in doomed for e in st.workloads[k].interface_ids}
    for k in doomed:
        del st.workloads[k]
    still_used = {e for x in st.workloads.values() for e in x.interface_ids}
    for e in enis - still_used:
        st.interfaces.pop(e, None)
    parent = st.workloads.get(w.parent or "")
    if parent is not None:
        members = [x for x in st.workloads.values() if x.parent == parent.key]
        st.workloads[parent.key] = replace(
            parent, interface_ids=tuple(sorted({e for x in members for e in x.interface_ids})),
            group_ids=tuple(sorted({g for x in members for g in x.group_ids})) if parent.group_ids else ())


_FINAL_DENY = 32767


def final_denies() -> tuple[AclEntry, ...]:
    """The `*` entries every ACL ends with (IPv4 and IPv6, both directions)."""
    return tuple(AclEntry(rule_number=_FINAL_DENY, egress=eg, action="deny", protocol="-1", cidr=cidr)
                 for eg in (False, True) for cidr in ("0.0.0.0/0", "::/0"))


def _sort_entries(entries: list[AclEntry] | tuple[AclEntry, ...]) -> tuple[AclEntry, ...]:
    return tuple(sorted(entries, key=lambda e: (e.egress, e.rule_number, e.cidr)))


def _create_acl(st: _State, c: CreateAcl) -> None:
    if c.acl_id in st.acls:
        st.warn(c, f"network ACL {show_id(c.acl_id)} already exists; not created again")
        return
    vpc = st.model.vpcs.get(c.vpc_id or "")
    entries = list(c.entries) + list(final_denies())
    st.acls[c.acl_id] = NetworkAcl(id=c.acl_id, vpc_id=c.vpc_id, account=vpc.account if vpc else None,
                                   region=vpc.region if vpc else None, is_default=False,
                                   entries=_sort_entries(entries))
    if c.subnet_ids:
        _associate(st, AssociateAcl(c.acl_id, tuple(c.subnet_ids), c.origin))


def _delete_acl(st: _State, c: DeleteAcl) -> None:
    acl = st.acls.get(c.acl_id)
    if acl is None:
        st.warn(c, f"cannot delete {show_id(c.acl_id)}: not in the snapshot")
        return
    if acl.is_default:
        st.warn(c, f"AWS never deletes a VPC's default network ACL ({acl.id}); the what-if keeps it")
        return
    subnets = acl.subnet_ids
    del st.acls[c.acl_id]
    if subnets:
        _associate(st, AssociateAcl(None, subnets, c.origin), vpc_hint=acl.vpc_id)


def _add_entry(st: _State, c: AddAclEntry) -> None:
    acl = st.acls.get(c.acl_id)
    if acl is None:
        st.warn(c, f"cannot {c.describe()}: {show_id(c.acl_id)} is not in the snapshot")
        return
    e = c.entry
    kept = [x for x in acl.entries if not (x.egress == e.egress and x.rule_number == e.rule_number)]
    if len(kept) != len(acl.entries):
        st.warn(c, f"{show_id(c.acl_id)} already has {'outbound' if e.egress else 'inbound'} rule {e.rule_number}; "
                   "replaced")
    st.acls[acl.id] = replace(acl, entries=_sort_entries(kept + [e]))


def _remove_entry(st: _State, c: RemoveAclEntry) -> None:
    acl = st.acls.get(c.acl_id)
    if acl is None:
        st.warn(c, f"cannot {c.describe()}: {show_id(c.acl_id)} is not in the snapshot")
        return
    kept = tuple(x for x in acl.entries if not (x.egress == c.egress and x.rule_number == c.rule_number))
    if len(kept) == len(acl.entries):
        st.warn(c, f"cannot {c.describe()}: no such entry")
        return
    st.acls[acl.id] = replace(acl, entries=kept)


def _associate(st: _State, c: AssociateAcl, vpc_hint: str | None = None) -> None:
    for sid in c.subnet_ids:
        sub = st.model.subnets.get(sid)
        vpc_id = sub.vpc_id if sub else vpc_hint
        target = c.acl_id
        if target is None:
            defaults = [a.id for a in st.acls.values() if a.is_default and a.vpc_id == vpc_id]
            if not defaults:
                st.warn(c, f"{sid} returns to its VPC's default network ACL, which is not in the snapshot")
                target = None
            else:
                target = defaults[0]
        elif target not in st.acls:
            st.warn(c, f"cannot associate {sid} with {show_id(target)}: not in the snapshot")
            continue
        for acl in list(st.acls.values()):
            if sid in acl.subnet_ids and acl.id != target:
                st.acls[acl.id] = replace(acl, subnet_ids=tuple(s for s in acl.subnet_ids if s != sid))
        if target is not None:
            acl = st.acls[target]
            if sid not in acl.subnet_ids:
                st.acls[target] = replace(acl, subnet_ids=tuple(sorted(acl.subnet_ids + (sid,))))


_APPLY: dict[type, Any] = {
    AuthorizeRule: _authorize, RevokeRule: _revoke, CreateGroup: _create_group, DeleteGroup: _delete_group,
    MoveWorkload: _move, CreateService: _create_service, RemoveWorkload: _remove_workload,
    CreateAcl: _create_acl, DeleteAcl: _delete_acl, AddAclEntry: _add_entry, RemoveAclEntry: _remove_entry,
    AssociateAcl: _associate,
}
