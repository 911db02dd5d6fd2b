"""Raw RDS, ELBv2 and Lambda responses -> workloads (interfaces found by description, groups and subnet)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reachgraph.model import shape as f
from reachgraph.model.parse_network import NetworkParser
from reachgraph.model.parse_workloads import workload_key
from reachgraph.model.records import Workload
from reachgraph.snapshot import RawDocument


class ServiceParser:
    """RDS instances and clusters, load balancers, Lambda functions."""

    def __init__(self, net: NetworkParser, workloads: dict[str, Workload]) -> None:
        self.net = net
        self.workloads = workloads
        self._rds_enis = [i for i in net.interfaces.values() if i.description == "RDSNetworkInterface"]
        self._lambda_enis = [i for i in net.interfaces.values()
                             if i.interface_type == "lambda" or i.description.startswith("AWS Lambda VPC ENI")]

    def _add(self, w: Workload) -> None:
        self.workloads.setdefault(w.key, w)

    # -- RDS -----------------------------------------------------------------------------------------
    def rds(self, instances: list[RawDocument], clusters: list[RawDocument]) -> None:
        """DBInstances and DBClusters; cluster members point at their cluster."""
        cluster_of: dict[str, str] = {}
        for doc in clusters:
            def one_cluster(item: dict[str, Any], doc: RawDocument = doc) -> None:
                for m in f.objs(item, "DBClusterMembers"):
                    cluster_of[f.req(m, "DBInstanceIdentifier")] = f.req(item, "DBClusterIdentifier")
            f.each(doc.items, doc.key, doc.source, one_cluster)
        members: dict[str, list[str]] = defaultdict(list)
        for doc in instances:
            f.each(doc.items, doc.key, doc.source,
                   lambda item, doc=doc: self._rds_instance(item, doc, cluster_of, members))
        for doc in clusters:
            f.each(doc.items, doc.key, doc.source, lambda item, doc=doc: self._rds_cluster(item, doc, members))

    def _rds_instance(self, item: dict[str, Any], doc: RawDocument, cluster_of: dict[str, str],
                      members: dict[str, list[str]]) -> None:
        name = f.req(item, "DBInstanceIdentifier")
        account, region = f.account_region_of_arn(f.s(item, "DBInstanceArn"))
        account, region = doc.account or account, doc.region or region
        groups = tuple(sorted({f.req(g, "VpcSecurityGroupId") for g in f.objs(item, "VpcSecurityGroups")}))
        sng = f.obj(item, "DBSubnetGroup")
        subnets = [f.req(s_, "SubnetIdentifier") for s_ in f.objs(sng, "Subnets")]
        az = f.s(item, "AvailabilityZone")
        in_az = [sid for sid in subnets if (self.net.subnets.get(sid) and self.net.subnets[sid].az == az)]
        candidates = [i.id for i in self._rds_enis if set(i.group_ids) == set(groups)
                      and i.subnet_id in (in_az or subnets)]
        notes = []
        if candidates and len(candidates) > 1:
            notes.append(f"{len(candidates)} RDS interfaces share this instance's groups and subnets; all are used")
        public = item.get("PubliclyAccessible")
        enis = candidates or self.net.infer_interfaces(name, "RDS", in_az or subnets, groups, account, region,
                                            public if isinstance(public, bool) else None)
        port = f.i(f.obj(item, "Endpoint"), "Port")
        cluster = cluster_of.get(name) or f.s(item, "DBClusterIdentifier")
        key = workload_key("rds_instance", account, region, name)
        if cluster:
            members[cluster].append(key)
        self._add(Workload(
            key=key, kind="rds_instance", name=name, account=account, region=region, interface_ids=tuple(sorted(enis)),
            group_ids=groups, ports=(port,) if port is not None else (),
            parent=workload_key("rds_cluster", account, region, cluster) if cluster else None,
            label=f"RDS {f.s(item, 'Engine') or 'database'} instance {name}", notes=tuple(notes),
            arn=f.s(item, "DBInstanceArn")))

    def _rds_cluster(self, item: dict[str, Any], doc: RawDocument, members: dict[str, list[str]]) -> None:
        name = f.req(item, "DBClusterIdentifier")
        account, region = f.account_region_of_arn(f.s(item, "DBClusterArn"))
        account, region = doc.account or account, doc.region or region
        enis: set[str] = set()
        for key in members.get(name, []):
            enis.update(self.workloads[key].interface_ids)
        groups = tuple(sorted({f.req(g, "VpcSecurityGroupId") for g in f.objs(item, "VpcSecurityGroups")}))
        port = f.i(item, "Port")
        notes = () if enis else ("no member instance of the cluster is in the snapshot",)
        self._add(Workload(
            key=workload_key("rds_cluster", account, region, name), kind="rds_cluster", name=name, account=account,
            region=region, interface_ids=tuple(sorted(enis)), group_ids=groups, ports=(port,) if port else (),
            label=f"RDS {f.s(item, 'Engine') or 'database'} cluster {name}, {len(members.get(name, []))} instances",
            notes=notes, arn=f.s(item, "DBClusterArn")))

    # -- load balancers ------------------------------------------------------------------------------
    def load_balancers(self, lbs: list[RawDocument], listeners: list[RawDocument]) -> None:
        """LoadBalancers with their listeners' ports; interfaces described 'ELB app/NAME/ID'."""
        ports: dict[str, set[int]] = defaultdict(set)
        for doc in listeners:
            def one_listener(item: dict[str, Any]) -> None:
                arn, port = f.s(item, "LoadBalancerArn"), f.i(item, "Port")
                if arn and port is not None:
                    ports[arn].add(port)
            f.each(doc.items, doc.key, doc.source, one_listener)
        by_desc: dict[str, list[str]] = defaultdict(list)
        for i in self.net.interfaces.values():
            if i.description.startswith("ELB "):
                by_desc[i.description[4:]].append(i.id)
        for doc in lbs:
            f.each(doc.items, doc.key, doc.source, lambda item, doc=doc: self._lb(item, doc, ports, by_desc))

    def _lb(self, item: dict[str, Any], doc: RawDocument, ports: dict[str, set[int]],
            by_desc: dict[str, list[str]]) -> None:
        name = f.req(item, "LoadBalancerName")
        arn = f.s(item, "LoadBalancerArn") or ""
        account, region = f.account_region_of_arn(arn)
        account, region = doc.account or account, doc.region or region
        suffix = arn.split(":loadbalancer/", 1)[-1] if ":loadbalancer/" in arn else ""
        groups = tuple(sorted(set(f.strs(item, "SecurityGroups"))))
        enis = sorted(by_desc.get(suffix, []))
        if not enis:
            subnets = [f.req(z, "SubnetId") for z in f.objs(item, "AvailabilityZones") if z.get("SubnetId")]
            scheme = f.s(item, "Scheme")
            enis = self.net.infer_interfaces(name, "load balancer", subnets, groups, account, region,
                                  None if scheme is None else scheme == "internet-facing")
        listener_ports = sorted(ports.get(arn, ()), key=lambda p: (p != 443, p))
        kind = f.s(item, "Type") or "application"
        self._add(Workload(
            key=workload_key("load_balancer", account, region, name), kind="load_balancer", name=name,
            account=account, region=region, interface_ids=tuple(enis), group_ids=groups, ports=tuple(listener_ports),
            label=f"{f.s(item, 'Scheme') or ''} {kind} load balancer {name}".strip(), arn=arn or None))

    # -- Lambda -------------------------------------------------------------------------------------
    def functions(self, docs: list[RawDocument]) -> None:
        """Functions with a VpcConfig; their hyperplane interfaces are shared per (subnet, groups)."""
        for doc in docs:
            f.each(doc.items, doc.key, doc.source, lambda item, doc=doc: self._function(item, doc))

    def _function(self, item: dict[str, Any], doc: RawDocument) -> None:
        name = f.req(item, "FunctionName")
        cfg = f.obj(item, "VpcConfig")
        subnets = f.strs(cfg, "SubnetIds")
        groups = tuple(sorted(set(f.strs(cfg, "SecurityGroupIds"))))
        if not subnets:
            return  # not attached to a VPC: not part of the network graph
        account, region = f.account_region_of_arn(f.s(item, "FunctionArn"))
        account, region = doc.account or account, doc.region or region
        enis = sorted(i.id for i in self._lambda_enis if set(i.group_ids) == set(groups) and i.subnet_id in subnets)
        enis = enis or self.net.infer_interfaces(name, "Lambda", subnets, groups, account, region)
        self._add(Workload(
            key=workload_key("lambda", account, region, name), kind="lambda", name=name, account=account,
            region=region, interface_ids=tuple(enis), group_ids=groups, label=f"Lambda function {name}",
            arn=f.s(item, "FunctionArn")))
