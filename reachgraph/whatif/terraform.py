"""Terraform plans (`terraform show -json PLANFILE`) -> what-if changes.

Reads Terraform's documented JSON plan representation: `format_version`, `resource_changes[]` (`address`,
`type`, `change.actions`, `change.before`, `change.after`, `change.after_unknown`) and, to follow values
unknown until apply, `configuration` (each resource's `expressions` and their `references`).

Unknown values: an id that only exists after apply (a group created by the plan) becomes the placeholder
`tf:ADDRESS` (`tf:aws_security_group.api_tasks`). A reference to it elsewhere in the plan is itself
unknown; it is traced through the configuration's `references` (across module outputs and input
variables) back to the resource address, so rules and services that name a new group still evaluate.
A value that cannot be traced becomes `tf:unknown:ADDRESS.ATTRIBUTE` and a warning.

Every managed resource the plan changes that reachgraph does not model is listed as a warning.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reachgraph.errors import InputError
from reachgraph.model.protocols import normalize_protocol
from reachgraph.model.records import AclEntry, Model, Rule
from reachgraph.whatif.changes import (
    PLACEHOLDER_PREFIX, UNKNOWN_PREFIX, AddAclEntry, AssociateAcl, AuthorizeRule, Change, CreateAcl, CreateGroup,
    CreateService, DeleteAcl, DeleteGroup, MoveWorkload, RemoveAclEntry, RemoveWorkload, RevokeRule, make_rule,
    rule_key,
)

SUPPORTED_TYPES = (
    "aws_security_group", "aws_default_security_group", "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_ecs_service",
    "aws_elasticache_replication_group", "aws_elasticache_cluster", "aws_network_acl", "aws_default_network_acl",
    "aws_network_acl_rule", "aws_network_acl_association",
)
_SUPPORTED_MAJOR = ("0", "1")
_INDEX_RE = re.compile(r"\[[^\]]*\]")


@dataclass(frozen=True)
class PlanChanges:
    """What a plan means for the snapshot: the changes, in the order to apply them, and warnings."""

    changes: tuple[Change, ...]
    warnings: tuple[str, ...]
    source: str = "plan"
    resources: tuple[str, ...] = ()     # addresses of the plan's changed, modelled resources


# -- reading ---------------------------------------------------------------------------------------------

def load_plan(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a plan JSON file; InputError (one line, exit 2) when it is missing or not a plan."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("plan file not found", str(p), "write one with: terraform show -json PLANFILE > plan.json") \
            from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read plan ({exc.__class__.__name__})", str(p)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", str(p),
                         "write the plan with: terraform show -json PLANFILE > plan.json") from None
    validate_plan(data, str(p))
    return data


def validate_plan(data: Any, where: str = "plan") -> None:
    """Check the outer shape of a plan; InputError naming the JSON path otherwise."""
    hint = "expected the output of: terraform show -json PLANFILE"
    if not isinstance(data, dict):
        raise InputError(f"a plan is a JSON object, got {type(data).__name__}", where, hint)
    version = data.get("format_version")
    if not isinstance(version, str) or not version:
        raise InputError("no format_version: this is not a Terraform JSON plan", where, hint)
    if version.split(".")[0] not in _SUPPORTED_MAJOR:
        raise InputError(f"unsupported plan format_version {version!r} (reachgraph reads 0.x and 1.x)", where, hint)
    if "values" in data and "planned_values" not in data and "resource_changes" not in data:
        raise InputError("this is a Terraform state, not a plan", where, "run terraform plan -out=PLANFILE first")
    changes = data.get("resource_changes", [])
    if not isinstance(changes, list):
        raise InputError("resource_changes should be a list", where, hint)
    for n, rc in enumerate(changes):
        path = f"resource_changes[{n}]"
        if not isinstance(rc, dict):
            raise InputError(f"{path} should be an object", where, hint)
        for key in ("address", "type"):
            if not isinstance(rc.get(key), str) or not rc[key]:
                raise InputError(f"{path}.{key} should be a non-empty string", where, hint)
        change = rc.get("change")
        if not isinstance(change, dict):
            raise InputError(f"{path}.change should be an object ({rc['address']})", where, hint)
        actions = change.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, str) for a in actions):
            raise InputError(f"{path}.change.actions should be a list of strings ({rc['address']})", where, hint)
        for key in ("before", "after"):
            if change.get(key) is not None and not isinstance(change[key], dict):
                raise InputError(f"{path}.change.{key} should be an object or null ({rc['address']})", where, hint)
        unknown = change.get("after_unknown")
        if unknown is not None and not isinstance(unknown, (dict, bool)):
            raise InputError(f"{path}.change.after_unknown should be an object ({rc['address']})", where, hint)
    config = data.get("configuration")
    if config is not None and not isinstance(config, dict):
        raise InputError("configuration should be an object", where, hint)


# -- tracing unknown values through the configuration ----------------------------------------------------------

def _strip_index(address: str) -> str:
    return _INDEX_RE.sub("", address)


def _module_prefix(address: str) -> str:
    """'module.a[0].module.b.aws_x.y[1]' -> 'module.a[0].module.b.'."""
    parts = _split_address(address)
    prefix = ""
    n = 0
    while n + 1 < len(parts) and parts[n] == "module":
        prefix += f"module.{parts[n + 1]}."
        n += 2
    return prefix


def _split_address(address: str) -> list[str]:
    """Split on dots outside brackets."""
    out, depth, cur = [], 0, ""
    for ch in address:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "." and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


class _Tracer:
    """Follows `references` in the configuration from an unknown attribute to the resources it names."""

    def __init__(self, plan: dict[str, Any], by_address: dict[str, dict[str, Any]]) -> None:
        config = plan.get("configuration") if isinstance(plan.get("configuration"), dict) else {}
        self.root = config.get("root_module") if isinstance(config.get("root_module"), dict) else {}
        self.by_address = by_address
        self.by_base: dict[str, list[str]] = {}
        for addr in by_address:
            self.by_base.setdefault(_strip_index(addr), []).append(addr)

    # module scopes: "" (root) or "module.a.module.b." (indexes dropped)
    def _module(self, scope: str) -> dict[str, Any] | None:
        mod = self.root
        parts = [p for p in _split_address(_strip_index(scope).rstrip(".")) if p] if scope else []
        for n in range(0, len(parts), 2):
            calls = mod.get("module_calls") if isinstance(mod, dict) else None
            call = calls.get(parts[n + 1]) if isinstance(calls, dict) else None
            mod = call.get("module") if isinstance(call, dict) else None
            if not isinstance(mod, dict):
                return None
        return mod

    def _call(self, scope: str) -> tuple[dict[str, Any] | None, str]:
        """The module call that created scope, and the parent scope."""
        parts = _split_address(scope.rstrip(".")) if scope else []
        if len(parts) < 2:
            return None, ""
        parent = "".join(f"{parts[n]}.{parts[n + 1]}." for n in range(0, len(parts) - 2, 2))
        mod = self._module(parent)
        calls = mod.get("module_calls") if isinstance(mod, dict) else None
        call = calls.get(_strip_index(parts[-1])) if isinstance(calls, dict) else None
        return (call if isinstance(call, dict) else None), parent

    def expression(self, address: str, path: list[Any], known_block: dict[str, Any] | None = None) -> Any:
        """The configuration expression for one attribute path of a resource instance, or None."""
        scope = _module_prefix(address)
        local = _strip_index(address[len(scope):])
        mod = self._module(scope)
        if mod is None:
            return None
        res = next((r for r in mod.get("resources") or [] if isinstance(r, dict) and r.get("address") == local),
                   None)
        if res is None:
            return None
        node: Any = res.get("expressions")
        for n, step in enumerate(path):
            if isinstance(node, dict) and ("references" in node or "constant_value" in node):
                return node
            if isinstance(step, int):
                if not isinstance(node, list) or not node:
                    return None
                blocks = [b for b in node if isinstance(b, dict)]
                if len(blocks) == 1:
                    node = blocks[0]
                elif known_block is not None and n == len(path) - 2:
                    node = _match_block(blocks, known_block)
                    if node is None:
                        return None
                elif step < len(blocks):
                    node = blocks[step]
                else:
                    return None
            else:
                node = node.get(step) if isinstance(node, dict) else None
            if node is None:
                return None
        return node if isinstance(node, dict) and ("references" in node or "constant_value" in node) else None

    def resolve(self, address: str, path: list[Any], known_block: dict[str, Any] | None = None
                ) -> tuple[list[str], str | None]:
        """Ids an unknown attribute will hold: ([ids], None), or ([], why it could not be traced)."""
        expr = self.expression(address, path, known_block)
        if expr is None:
            return [], "the plan's configuration has no expression for it"
        refs = expr.get("references")
        if not isinstance(refs, list) or not refs:
            return [], "its expression names no resource"
        return self._refs(refs, _module_prefix(address), address, depth=0)

    def _refs(self, refs: list[Any], scope: str, origin: str, depth: int) -> tuple[list[str], str | None]:
        if depth > 12:
            return [], "references nest too deeply"
        specific = _most_specific([r for r in refs if isinstance(r, str)])
        ids: list[str] = []
        for ref in specific:
            got, why = self._ref(ref, scope, origin, depth)
            if why:
                return [], why
            ids += got
        if not ids:
            return [], "its expression names no resource"
        return list(dict.fromkeys(ids)), None

    def _ref(self, ref: str, scope: str, origin: str, depth: int) -> tuple[list[str], str | None]:
        parts = _split_address(ref)
        head = parts[0]
        if head in ("count", "each", "path", "terraform", "self"):
            return [], None
        if head == "local":
            return [], f"it comes from local.{parts[1] if len(parts) > 1 else ''}, which plans do not describe"
        if head == "data":
            return [], f"it comes from data source {'.'.join(parts[:3])}, unknown until apply"
        if head == "var":
            if len(parts) < 2:
                return [], "unreadable reference"
            call, parent = self._call(scope)
            if call is None:
                return [], f"it comes from var.{parts[1]}, which is unknown"
            exprs = call.get("expressions") if isinstance(call.get("expressions"), dict) else {}
            expr = exprs.get(parts[1])
            if not isinstance(expr, dict) or not isinstance(expr.get("references"), list):
                return [], f"module input {parts[1]} names no resource"
            return self._refs(expr["references"], parent, origin, depth + 1)
        if head == "module":
            if len(parts) < 3:
                return [], "unreadable reference"
            inner = f"{scope}module.{_strip_index(parts[1])}."
            mod = self._module(inner)
            outputs = mod.get("outputs") if isinstance(mod, dict) else None
            out = outputs.get(parts[2]) if isinstance(outputs, dict) else None
            expr = out.get("expression") if isinstance(out, dict) else None
            if not isinstance(expr, dict) or not isinstance(expr.get("references"), list):
                return [], f"module output {parts[1]}.{parts[2]} names no resource"
            return self._refs(expr["references"], inner, origin, depth + 1)
        if len(parts) < 2:
            return [], f"unreadable reference {ref!r}"
        attr = parts[2] if len(parts) > 2 else "id"
        if attr != "id":
            return [], f"it comes from {ref}, which is not an id"
        target = f"{scope}{parts[0]}.{parts[1]}"
        instances = self._instances(target, origin)
        if instances is None:
            return [], f"{target} has several instances and the reference does not say which"
        if not instances:
            return [], f"{target} is not in the plan"
        return [self.id_of(a) for a in instances], None

    def _instances(self, target: str, origin: str) -> list[str] | None:
        if target in self.by_address:
            return [target]
        cands = sorted(self.by_base.get(_strip_index(target), []))
        if target.endswith("[*]"):
            return cands
        if _strip_index(target) != target:
            return [a for a in cands if a == target]
        if len(cands) <= 1:
            return cands
        own = re.search(r"\[[^\]]*\]$", origin)
        if own:
            same = [a for a in cands if a.endswith(own.group(0))]
            if len(same) == 1:
                return same
        return None

    def id_of(self, address: str) -> str:
        """The id a resource will have: known from the plan, else the placeholder tf:ADDRESS."""
        rc = self.by_address.get(address, {})
        change = rc.get("change", {}) if isinstance(rc, dict) else {}
        after = change.get("after") if isinstance(change.get("after"), dict) else {}
        before = change.get("before") if isinstance(change.get("before"), dict) else {}
        unknown = change.get("after_unknown") if isinstance(change.get("after_unknown"), dict) else {}
        if isinstance(after.get("id"), str) and not unknown.get("id"):
            return after["id"]
        if not after and isinstance(before.get("id"), str):
            return before["id"]
        return PLACEHOLDER_PREFIX + address


def _most_specific(refs: list[str]) -> list[str]:
    """Drop references that are a prefix of another (Terraform lists each traversal step)."""
    out = []
    for r in refs:
        if any(o != r and (o.startswith(r + ".") or o.startswith(r + "[")) for o in refs):
            continue
        out.append(r)
    return list(dict.fromkeys(out))


def _match_block(blocks: list[dict[str, Any]], known: dict[str, Any]) -> dict[str, Any] | None:
    """The configuration block whose constant attributes agree with a planned block's known values."""
    hits = []
    for b in blocks:
        ok = True
        for key, expr in b.items():
            if isinstance(expr, dict) and "constant_value" in expr and key in known and known[key] is not None:
                if _norm(expr["constant_value"]) != _norm(known[key]):
                    ok = False
                    break
        if ok:
            hits.append(b)
    return hits[0] if len(hits) == 1 else None


def _norm(v: Any) -> Any:
    if isinstance(v, list):
        return sorted(map(str, v))
    return str(v)


# -- values of one resource change ------------------------------------------------------------------------------

@dataclass
class _Res:
    """One resource change with helpers to read known and unknown values."""

    rc: dict[str, Any]
    tracer: _Tracer
    warnings: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        return self.rc["address"]

    @property
    def type(self) -> str:
        return self.rc["type"]

    @property
    def actions(self) -> list[str]:
        return self.rc["change"]["actions"]

    @property
    def before(self) -> dict[str, Any]:
        v = self.rc["change"].get("before")
        return v if isinstance(v, dict) else {}

    @property
    def after(self) -> dict[str, Any]:
        v = self.rc["change"].get("after")
        return v if isinstance(v, dict) else {}

    def unknown_at(self, path: list[Any]) -> Any:
        node: Any = self.rc["change"].get("after_unknown")
        if node is True:
            return True
        for step in path:
            if node is True:
                return True
            if isinstance(step, int):
                node = node[step] if isinstance(node, list) and step < len(node) else None
            else:
                node = node.get(step) if isinstance(node, dict) else None
            if node is None:
                return None
        return node

    def value_at(self, path: list[Any], base: dict[str, Any] | None = None) -> Any:
        node: Any = self.after if base is None else base
        for step in path:
            if isinstance(step, int):
                node = node[step] if isinstance(node, list) and step < len(node) else None
            else:
                node = node.get(step) if isinstance(node, dict) else None
            if node is None:
                return None
        return node

    def id(self) -> str:
        """This resource's id after apply (placeholder when unknown)."""
        return self.tracer.id_of(self.address)

    def string(self, path: list[Any], what: str, known_block: dict[str, Any] | None = None) -> str | None:
        """A string attribute of `after`; unknown -> traced id or an unknown placeholder (with a warning)."""
        if self.unknown_at(path) is True:
            ids, why = self.tracer.resolve(self.address, path, known_block)
            if why or len(ids) != 1:
                return self._untraced(path, what, why or "it names several resources")
            return ids[0]
        v = self.value_at(path)
        return v if isinstance(v, str) and v else None

    def strings(self, path: list[Any], what: str, known_block: dict[str, Any] | None = None) -> list[str]:
        """A list/set of strings of `after`, unknown elements traced to the resources they name."""
        unknown = self.unknown_at(path)
        known = [v for v in (self.value_at(path) or []) if isinstance(v, str) and v]
        if unknown is True or (isinstance(unknown, list) and any(x is True for x in unknown)):
            ids, why = self.tracer.resolve(self.address, path, known_block)
            if why:
                return list(dict.fromkeys(known + [self._untraced(path, what, why)]))
            return list(dict.fromkeys(known + ids))
        return list(dict.fromkeys(known))

    def _untraced(self, path: list[Any], what: str, why: str) -> str:
        attr = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[")
        placeholder = f"{UNKNOWN_PREFIX}{self.address}.{attr}"
        self.warnings.append(f"{self.address}: {what} ({attr}) is unknown until apply and could not be traced "
                             f"({why}); reachgraph treats it as {placeholder}, which matches nothing, so answers "
                             "that depend on it may be unknown or wrongly blocked")
        return placeholder


# -- translation ---------------------------------------------------------------------------------------------------

_PHASE = {"create_group": 0, "create_acl": 0, "authorize": 1, "revoke": 1, "add_acl_entry": 1,
          "remove_acl_entry": 1, "associate_acl": 2, "move": 2, "create_service": 2, "remove_workload": 2,
          "delete_group": 4, "delete_acl": 4}

# Attributes of supported resources that change reachability answers but are not modelled: changing them is
# worth a warning (ports answer default-port queries; desired counts and load balancers change who talks).
_UNMODELLED_ATTRS = {
    "aws_ecs_service": ("desired_count", "load_balancer", "launch_type", "task_definition"),
    "aws_elasticache_replication_group": ("port", "subnet_group_name", "num_cache_clusters", "num_node_groups"),
    "aws_elasticache_cluster": ("port", "subnet_group_name", "num_cache_nodes"),
}


def _unmodelled_changes(res: _Res) -> None:
    if res.actions != ["update"]:
        return
    changed = [a for a in _UNMODELLED_ATTRS.get(res.type, ())
               if res.before.get(a) != res.after.get(a) or res.unknown_at([a]) is True]
    if changed:
        res.warnings.append(f"{res.address}: changes to {', '.join(changed)} are not modelled; answers reflect the "
                            "current values")


def changes_from_plan(plan: dict[str, Any], model: Model, source: str = "plan") -> PlanChanges:
    """Translate a plan into ordered changes against this model, and warnings for what it cannot model."""
    validate_plan(plan, source)
    warnings: list[str] = []
    if plan.get("errored") is True:
        warnings.append(f"{source}: the plan errored; it may not list every change Terraform would make")
    rcs = [rc for rc in plan.get("resource_changes", []) if rc.get("mode", "managed") == "managed"]
    by_address = {rc["address"]: rc for rc in rcs}
    tracer = _Tracer(plan, by_address)
    changes: list[Change] = []
    modelled: list[str] = []
    unsupported: list[str] = []
    for rc in rcs:
        actions = rc["change"]["actions"]
        if actions in (["no-op"], ["read"]) or actions == ["forget"]:
            continue
        res = _Res(rc, tracer)
        handler = _HANDLERS.get(rc["type"])
        if handler is None:
            unsupported.append(f"{rc['address']} ({'/'.join(actions)})")
            continue
        try:
            out = handler(res, model)
            _unmodelled_changes(res)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InputError(f"{rc['address']}: cannot read the planned values ({exc})", source,
                             "is this unmodified terraform show -json output?") from None
        warnings += res.warnings
        changes += out
        modelled.append(rc["address"])
    for item in unsupported:
        warnings.append(f"{item}: resource type not modelled by reachgraph; its effect is not in the answer")
    ordered = sorted(enumerate(changes), key=lambda p: (_PHASE.get(p[1].kind, 2), p[0]))
    return PlanChanges(changes=tuple(c for _, c in ordered), warnings=tuple(dict.fromkeys(warnings)), source=source,
                       resources=tuple(modelled))


def _deletes(res: _Res) -> bool:
    return "delete" in res.actions


def _creates(res: _Res) -> bool:
    return "create" in res.actions


# security groups ---------------------------------------------------------------------------------------------------

def _inline_rules(res: _Res, gid: str, direction: str, blocks: Any, base_path: list[Any] | None) -> list[Rule]:
    """Rules of aws_security_group ingress/egress blocks, one per peer (as the snapshot splits them)."""
    out: list[Rule] = []
    if not isinstance(blocks, list):
        return out
    for n, b in enumerate(blocks):
        if not isinstance(b, dict):
            continue
        proto, lo, hi = b.get("protocol", "-1"), b.get("from_port"), b.get("to_port")
        desc = b.get("description") or None
        peers: list[str] = []
        peers += [c for c in b.get("cidr_blocks") or [] if isinstance(c, str)]
        peers += [c for c in b.get("ipv6_cidr_blocks") or [] if isinstance(c, str)]
        peers += [c for c in b.get("prefix_list_ids") or [] if isinstance(c, str)]
        if base_path is not None:
            peers += res.strings(base_path + [n, "security_groups"], f"a {direction} rule's group", known_block=b)
        else:
            peers += [c for c in b.get("security_groups") or [] if isinstance(c, str)]
        if b.get("self") is True:
            peers.append(gid)
        for peer in dict.fromkeys(peers):
            out.append(make_rule(gid, direction, proto, lo, hi, peer, description=desc))
    return out


def _security_group(res: _Res, model: Model) -> list[Change]:
    default = res.type == "aws_default_security_group"
    out: list[Change] = []
    before_id = res.before.get("id") if isinstance(res.before.get("id"), str) else None
    if _deletes(res) and before_id:
        if default:
            # Terraform only forgets a default group; AWS keeps it and its rules.
            return []
        out.append(DeleteGroup(before_id, origin=res.address))
        if not _creates(res):
            return out
    gid = res.id()
    a = res.after
    rules: dict[str, list[Rule]] = {}
    for direction in ("ingress", "egress"):
        if res.unknown_at([direction]) is True:
            rules[direction] = []
            if not _creates(res) and before_id:
                rules[direction] = _inline_rules(res, gid, direction, res.before.get(direction), None)
        else:
            rules[direction] = _inline_rules(res, gid, direction, a.get(direction), [direction])
    if _creates(res) and not default:
        name = a.get("name") if isinstance(a.get("name"), str) else res.address
        vpc = res.string(["vpc_id"], "the group's VPC")
        for direction in ("ingress", "egress"):
            if res.unknown_at([direction]) is True:
                res.warnings.append(f"{res.address}: {direction} rules are not in the configuration; Terraform "
                                    f"creates the group with no {direction} rules (it removes AWS's default egress)")
        out.append(CreateGroup(gid, name=name, vpc_id=vpc, description=a.get("description") or "",
                               ingress=tuple(rules["ingress"]), egress=tuple(rules["egress"]), origin=res.address))
        return out
    # update: apply what the plan changes (before -> after); a default group adopted by Terraform loses the
    # rules it had and gets exactly the configured ones.
    current = model.groups.get(gid)
    if current is None and default:
        vpc = res.after.get("vpc_id") or res.before.get("vpc_id")
        hits = [g for g in model.groups.values() if g.is_default and g.vpc_id == vpc]
        current = hits[0] if len(hits) == 1 else None
        if current is not None and current.id != gid:
            gid = current.id
            rules = {d: [_with_group(r, gid) for r in rs] for d, rs in rules.items()}
    if current is None:
        res.warnings.append(f"{res.address}: security group {gid} is not in the snapshot; its rule changes are not "
                            "modelled")
        return out
    for direction in ("ingress", "egress"):
        if res.unknown_at([direction]) is True:
            continue
        if _creates(res) or not res.before:
            old_rules = list(current.ingress if direction == "ingress" else current.egress)
        else:
            old_rules = _inline_rules(res, gid, direction, res.before.get(direction), None)
        have = {rule_key(r): r for r in old_rules}
        want = {rule_key(r): r for r in rules[direction]}
        out += [RevokeRule(r, origin=res.address) for k, r in have.items() if k not in want]
        out += [AuthorizeRule(r, origin=res.address) for k, r in want.items() if k not in have]
    return out


def _with_group(r: Rule, gid: str) -> Rule:
    peer = gid if r.peer_kind == "group" and r.peer == r.group_id else r.peer
    return replace(r, group_id=gid, peer=peer)


def _sg_rule(res: _Res, model: Model) -> list[Change]:
    """aws_security_group_rule: type, security_group_id, protocol, from/to_port and one kind of peer."""
    out: list[Change] = []
    if _deletes(res) and res.before:
        out += [RevokeRule(r, origin=res.address) for r in _sg_rule_rules(res, res.before, known=True)]
    if _creates(res) or res.actions == ["update"]:
        if res.actions == ["update"] and res.before:
            old = {rule_key(r): r for r in _sg_rule_rules(res, res.before, known=True)}
            new = {rule_key(r): r for r in _sg_rule_rules(res, res.after, known=False)}
            out += [RevokeRule(r, origin=res.address) for k, r in old.items() if k not in new]
            out += [AuthorizeRule(r, origin=res.address) for k, r in new.items() if k not in old]
        else:
            out += [AuthorizeRule(r, origin=res.address) for r in _sg_rule_rules(res, res.after, known=False)]
    return out


def _sg_rule_rules(res: _Res, v: dict[str, Any], known: bool) -> list[Rule]:
    direction = v.get("type")
    if direction not in ("ingress", "egress"):
        raise ValueError(f"type should be ingress or egress, got {direction!r}")
    gid = v.get("security_group_id") if known else res.string(["security_group_id"], "the rule's group")
    if not gid:
        raise ValueError("security_group_id is missing")
    peers: list[str] = []
    for key in ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"):
        peers += [c for c in v.get(key) or [] if isinstance(c, str)]
    if known:
        src = v.get("source_security_group_id")
        if isinstance(src, str) and src:
            peers.append(src)
    elif res.unknown_at(["source_security_group_id"]) is True or v.get("source_security_group_id"):
        src = res.string(["source_security_group_id"], "the rule's peer group")
        if src:
            peers.append(src)
    if v.get("self") is True:
        peers.append(gid)
    return [make_rule(gid, direction, v.get("protocol", "-1"), v.get("from_port"), v.get("to_port"), p,
                      description=v.get("description") or None) for p in dict.fromkeys(peers)]


def _vpc_sg_rule(res: _Res, model: Model) -> list[Change]:
    """aws_vpc_security_group_ingress_rule / _egress_rule: one peer per resource."""
    direction = "ingress" if res.type.endswith("ingress_rule") else "egress"
    out: list[Change] = []

    def rule_of(v: dict[str, Any], known: bool) -> Rule:
        gid = v.get("security_group_id") if known else res.string(["security_group_id"], "the rule's group")
        if not gid:
            raise ValueError("security_group_id is missing")
        peer = v.get("cidr_ipv4") or v.get("cidr_ipv6") or v.get("prefix_list_id")
        if not peer:
            if known:
                peer = v.get("referenced_security_group_id")
            else:
                peer = res.string(["referenced_security_group_id"], "the rule's referenced group")
        if not peer:
            raise ValueError("the rule names no cidr_ipv4, cidr_ipv6, prefix_list_id or referenced_security_group_id")
        return make_rule(gid, direction, v.get("ip_protocol", "-1"), v.get("from_port"), v.get("to_port"), peer,
                         description=v.get("description") or None)

    if _deletes(res) and res.before:
        out.append(RevokeRule(rule_of(res.before, True), origin=res.address))
    if _creates(res):
        out.append(AuthorizeRule(rule_of(res.after, False), origin=res.address))
    elif res.actions == ["update"]:
        old, new = rule_of(res.before, True), rule_of(res.after, False)
        if rule_key(old) != rule_key(new):
            out += [RevokeRule(old, origin=res.address), AuthorizeRule(new, origin=res.address)]
    return out


# workloads -------------------------------------------------------------------------------------------------------

def _ecs_service(res: _Res, model: Model) -> list[Change]:
    out: list[Change] = []
    name = (res.after or res.before).get("name")
    if not isinstance(name, str) or not name:
        res.warnings.append(f"{res.address}: the service name is unknown until apply; not modelled")
        return out
    existing = _find(model, "ecs_service", name, res)
    if _deletes(res):
        if existing is not None:
            out.append(RemoveWorkload(existing.key, origin=res.address, label=_label(existing)))
        if not _creates(res):
            return out
    nc_path = ["network_configuration", 0]
    has_nc = isinstance(res.after.get("network_configuration"), list) and res.after["network_configuration"]
    if not has_nc and res.unknown_at(["network_configuration"]) is not True:
        if _creates(res):
            res.warnings.append(f"{res.address}: a new service without awsvpc network_configuration (bridge/host "
                                "mode) is not modelled")
        return out
    groups = res.strings(nc_path + ["security_groups"], "the service's security groups")
    subnets = res.strings(nc_path + ["subnets"], "the service's subnets")
    if _creates(res):
        count = res.after.get("desired_count")
        ports = tuple(lb.get("container_port") for lb in res.after.get("load_balancer") or []
                      if isinstance(lb, dict) and isinstance(lb.get("container_port"), int))
        cluster = res.after.get("cluster") if isinstance(res.after.get("cluster"), str) else None
        out.append(CreateService(name=name, group_ids=tuple(groups), subnet_ids=tuple(subnets),
                                 count=count if isinstance(count, int) else 1, ports=ports, cluster=cluster,
                                 origin=res.address))
        return out
    if existing is None:
        res.warnings.append(f"{res.address}: ECS service {name} is not in the snapshot; its change is not modelled")
        return out
    before_nc = (res.before.get("network_configuration") or [{}])[0] if res.before else {}
    old_subnets = sorted(before_nc.get("subnets") or []) if isinstance(before_nc, dict) else []
    subnets_change = tuple(subnets) if subnets and sorted(subnets) != old_subnets else None
    if tuple(sorted(groups)) != tuple(sorted(existing.group_ids)) or subnets_change:
        out.append(MoveWorkload(existing.key, tuple(groups), subnet_ids=subnets_change, redeploy=True,
                                origin=res.address, label=_label(existing)))
    return out


def _label(w: Any) -> str:
    kinds = {"ecs_service": "ECS service", "elasticache_replication_group": "ElastiCache replication group",
             "elasticache_cluster": "ElastiCache cluster"}
    return f"{kinds.get(w.kind, w.kind)} {w.name}"


def _find(model: Model, kind: str, name: str, res: _Res):  # noqa: ANN202 - Workload | None
    hits = [w for w in model.workloads.values() if w.kind == kind and w.name == name]
    if kind == "ecs_service" and len(hits) > 1:
        cluster = (res.after or res.before).get("cluster")
        if isinstance(cluster, str):
            tail = cluster.rsplit("/", 1)[-1]
            hits = [w for w in hits if w.arn and w.arn.split("/")[-2:-1] == [tail]] or hits
    return hits[0] if len(hits) == 1 else None


def _cache(res: _Res, model: Model) -> list[Change]:
    rg = res.type == "aws_elasticache_replication_group"
    key = "replication_group_id" if rg else "cluster_id"
    kind = "elasticache_replication_group" if rg else "elasticache_cluster"
    name = (res.after or res.before).get(key)
    if not isinstance(name, str) or not name:
        res.warnings.append(f"{res.address}: {key} is unknown until apply; not modelled")
        return []
    existing = _find(model, kind, name, res)
    out: list[Change] = []
    if _deletes(res):
        if existing is not None:
            out.append(RemoveWorkload(existing.key, origin=res.address, label=_label(existing)))
        if not _creates(res):
            return out
    if _creates(res):
        res.warnings.append(f"{res.address}: creating ElastiCache {name} is not modelled (its nodes have no "
                            "interfaces until apply)")
        return out
    if existing is None:
        res.warnings.append(f"{res.address}: ElastiCache {name} is not in the snapshot; its change is not modelled")
        return out
    if not rg and res.after.get("replication_group_id"):
        # A member cluster's groups are its replication group's; the group resource carries the change.
        return out
    groups = res.strings(["security_group_ids"], "the cache's security groups")
    if tuple(sorted(groups)) != tuple(sorted(existing.group_ids)):
        out.append(MoveWorkload(existing.key, tuple(groups), redeploy=False, origin=res.address,
                                label=_label(existing)))
    return out


# network ACLs ---------------------------------------------------------------------------------------------------

def _acl_entry(v: dict[str, Any], egress: bool, number_key: str, action_key: str) -> AclEntry:
    proto = normalize_protocol(v.get("protocol", "-1"))
    cidr = v.get("cidr_block") or v.get("ipv6_cidr_block")
    if not isinstance(cidr, str) or not cidr:
        raise ValueError("an ACL entry needs cidr_block or ipv6_cidr_block")
    number = v.get(number_key)
    if not isinstance(number, int):
        raise ValueError(f"{number_key} should be a number")
    action = str(v.get(action_key, "")).lower()
    if action not in ("allow", "deny"):
        raise ValueError(f"{action_key} should be allow or deny")
    ports = proto in ("tcp", "udp")
    icmp = proto in ("icmp", "icmpv6")
    return AclEntry(rule_number=number, egress=egress, action=action, protocol=proto,
                    cidr=str(ipaddress.ip_network(cidr, strict=False)),
                    port_from=v.get("from_port") if ports else None, port_to=v.get("to_port") if ports else None,
                    icmp_type=v.get("icmp_type") if icmp else None, icmp_code=v.get("icmp_code") if icmp else None)


def _acl_entries(v: dict[str, Any]) -> list[AclEntry]:
    out = []
    for direction, egress in (("ingress", False), ("egress", True)):
        for e in v.get(direction) or []:
            if isinstance(e, dict):
                out.append(_acl_entry(e, egress, "rule_no", "action"))
    return out


def _network_acl(res: _Res, model: Model) -> list[Change]:
    default = res.type == "aws_default_network_acl"
    out: list[Change] = []
    before_id = res.before.get("id") if isinstance(res.before.get("id"), str) else None
    if _deletes(res) and before_id and not default:
        out.append(DeleteAcl(before_id, origin=res.address))
        if not _creates(res):
            return out
    if _deletes(res) and default:
        return out
    acl_id = res.id() if not default else (res.after.get("id") or res.string(["default_network_acl_id"], "ACL id"))
    subnets = res.strings(["subnet_ids"], "the ACL's subnets")
    if _creates(res) and not default:
        vpc = res.string(["vpc_id"], "the ACL's VPC")
        entries = [] if res.unknown_at(["ingress"]) is True and res.unknown_at(["egress"]) is True \
            else _acl_entries(res.after)
        out.append(CreateAcl(acl_id, vpc, tuple(entries), tuple(subnets), origin=res.address))
        return out
    current = model.acls.get(acl_id or "")
    if current is None:
        res.warnings.append(f"{res.address}: network ACL {acl_id} is not in the snapshot; its change is not modelled")
        return out
    keep = {(e.egress, e.rule_number) for e in current.entries if e.rule_number == 32767}
    want = {(e.egress, e.rule_number): e for e in _acl_entries(res.after)}
    have = {(e.egress, e.rule_number): e for e in current.entries if (e.egress, e.rule_number) not in keep}
    for k, e in have.items():
        if k not in want:
            out.append(RemoveAclEntry(acl_id, e.egress, e.rule_number, origin=res.address))
    for k, e in want.items():
        if have.get(k) != e:
            out.append(AddAclEntry(acl_id, e, origin=res.address))
    if res.unknown_at(["subnet_ids"]) is True or isinstance(res.after.get("subnet_ids"), list):
        added = [s for s in subnets if s not in current.subnet_ids]
        removed = [s for s in current.subnet_ids if s not in subnets]
        if added:
            out.append(AssociateAcl(acl_id, tuple(added), origin=res.address))
        if removed and not default:
            out.append(AssociateAcl(None, tuple(removed), origin=res.address))
    return out


def _network_acl_rule(res: _Res, model: Model) -> list[Change]:
    out: list[Change] = []
    if _deletes(res) and res.before:
        b = res.before
        out.append(RemoveAclEntry(b["network_acl_id"], bool(b.get("egress")), int(b["rule_number"]),
                                  origin=res.address))
    if _creates(res) or res.actions == ["update"]:
        acl = res.string(["network_acl_id"], "the rule's ACL")
        if acl:
            out.append(AddAclEntry(acl, _acl_entry(res.after, bool(res.after.get("egress")), "rule_number",
                                                   "rule_action"), origin=res.address))
    return out


def _network_acl_association(res: _Res, model: Model) -> list[Change]:
    out: list[Change] = []
    if _deletes(res) and res.before and not _creates(res):
        sub = res.before.get("subnet_id")
        if isinstance(sub, str):
            out.append(AssociateAcl(None, (sub,), origin=res.address))
    if _creates(res) or res.actions == ["update"]:
        acl = res.string(["network_acl_id"], "the associated ACL")
        sub = res.string(["subnet_id"], "the associated subnet")
        if acl and sub:
            out.append(AssociateAcl(acl, (sub,), origin=res.address))
    return out


_HANDLERS = {
    "aws_security_group": _security_group, "aws_default_security_group": _security_group,
    "aws_security_group_rule": _sg_rule, "aws_vpc_security_group_ingress_rule": _vpc_sg_rule,
    "aws_vpc_security_group_egress_rule": _vpc_sg_rule, "aws_ecs_service": _ecs_service,
    "aws_elasticache_replication_group": _cache, "aws_elasticache_cluster": _cache,
    "aws_network_acl": _network_acl, "aws_default_network_acl": _network_acl,
    "aws_network_acl_rule": _network_acl_rule, "aws_network_acl_association": _network_acl_association,
}
assert set(_HANDLERS) == set(SUPPORTED_TYPES)

