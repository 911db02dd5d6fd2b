"""The one place raw AWS responses become the model."""

from __future__ import annotations

import re
from collections import defaultdict

from reachgraph.gc_pause import gc_paused
from reachgraph.model.parse_network import NetworkParser
from reachgraph.model.parse_services import ServiceParser
from reachgraph.model.parse_workloads import WorkloadParser
from reachgraph.model.records import Model
from reachgraph.snapshot import RawDocument, RawSnapshot

# Network documents are parsed first: workloads point at interfaces, subnets and groups.
_NETWORK_ORDER = ("Vpcs", "Subnets", "SecurityGroupRules", "SecurityGroups", "NetworkInterfaces", "PrefixLists",
                  "NetworkAcls", "RouteTables", "VpcPeeringConnections")


@gc_paused()
def build_model(raw: RawSnapshot) -> Model:
    """Interpret every raw document; shape errors raise InputError naming file and JSON path."""
    by_key: dict[str, list[RawDocument]] = defaultdict(list)
    for doc in raw.documents:
        by_key[doc.key].append(doc)
    net = NetworkParser()
    handlers = {
        "Vpcs": net.vpcs_doc, "Subnets": net.subnets_doc, "SecurityGroups": net.groups_doc,
        "SecurityGroupRules": net.group_rules_doc, "NetworkInterfaces": net.interfaces_doc,
        "PrefixLists": net.prefix_lists_doc, "NetworkAcls": net.acls_doc, "RouteTables": net.route_tables_doc,
        "VpcPeeringConnections": net.peerings_doc,
    }
    for key in _NETWORK_ORDER:
        for doc in by_key.get(key, []):
            handlers[key](doc)
    wl = WorkloadParser(net)
    for doc in by_key.get("Reservations", []):
        wl.reservations_doc(doc)
    for doc in by_key.get("taskDefinition", []) + by_key.get("taskDefinitions", []):
        wl.task_definitions_doc(doc)
    for doc in by_key.get("containerInstances", []):
        wl.container_instances_doc(doc)
    wl.ecs(by_key.get("services", []), by_key.get("tasks", []))
    wl.elasticache(by_key.get("CacheClusters", []), by_key.get("ReplicationGroups", []),
                   by_key.get("ServerlessCaches", []))
    services = ServiceParser(net, wl.workloads)
    services.rds(by_key.get("DBInstances", []), by_key.get("DBClusters", []))
    services.load_balancers(by_key.get("LoadBalancers", []), by_key.get("Listeners", []))
    services.functions(by_key.get("Functions", []))

    groups = net.groups
    warnings = []
    if raw.unknown_keys:
        warnings.append(f"ignored keys reachgraph does not read: {', '.join(raw.unknown_keys)}")
    accounts = {x.account for coll in (groups, net.interfaces, net.vpcs) for x in coll.values() if x.account}
    regions = {x.region for coll in (groups, net.interfaces, net.subnets) for x in coll.values() if x.region}
    interfaces = _sorted(net.interfaces)
    return Model(
        group_mentions=_group_mentions(raw),
        source=raw.source,
        vpcs=_sorted(net.vpcs), subnets=_sorted(net.subnets), groups=_sorted(groups),
        interfaces=interfaces, interface_index=net.index.finish(interfaces), prefix_lists=_sorted(net.prefix_lists),
        workloads=_sorted(wl.workloads), acls=_sorted(net.acls), route_tables=_sorted(net.route_tables),
        peerings=_sorted(net.peerings), accounts=tuple(sorted(accounts)), regions=tuple(sorted(regions)),
        errors=tuple(raw.errors), warnings=tuple(warnings))


def _sorted(d: dict) -> dict:
    return {k: d[k] for k in sorted(d)}


_SG_RE = re.compile(r"^sg-[0-9a-f]{8,17}$")
# Documents whose group references the model keeps (or that name none): scanning them would only cost time.
_MODELLED_GROUP_KEYS = frozenset({
    "SecurityGroups", "SecurityGroupRules", "NetworkInterfaces", "Reservations", "services", "tasks", "taskDefinition",
    "taskDefinitions", "Subnets", "Vpcs", "NetworkAcls", "RouteTables", "PrefixLists", "CacheClusters",
    "ReplicationGroups", "Listeners"})


def _group_mentions(raw: RawSnapshot) -> dict[str, tuple[str, ...]]:
    """Every group id named anywhere outside the security-group documents, with where: a group attached to a
    resource reachgraph does not model yet must still count as used."""
    found: dict[str, set[str]] = defaultdict(set)
    for doc in raw.documents:
        if doc.key in _MODELLED_GROUP_KEYS:
            continue
        where = f"{doc.key} ({doc.source})"
        stack: list[object] = list(doc.items)
        while stack:
            value = stack.pop()
            if isinstance(value, str):
                if value.startswith("sg-") and _SG_RE.match(value):
                    found[value].add(where)
            elif isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
    return {g: tuple(sorted(w)) for g, w in sorted(found.items())}
