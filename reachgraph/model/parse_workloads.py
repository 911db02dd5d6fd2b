"""Raw EC2 instance, ECS and ElastiCache responses -> workloads that group interfaces."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reachgraph.model import shape as f
from reachgraph.model.parse_network import NetworkParser
from reachgraph.model.records import Interface, Workload
from reachgraph.snapshot import RawDocument

ACTIVE_TASK_STATES = frozenset({"PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"})


def workload_key(kind: str, account: str | None, region: str | None, name: str) -> str:
    """The unique key of a workload."""
    return f"{kind}:{account or '-'}:{region or '-'}:{name}"


def _arn_tail(arn: str | None) -> str:
    return arn.rsplit("/", 1)[-1] if arn else ""


class WorkloadParser:
    """Builds workloads; adds inferred interfaces where AWS does not list them (ECS-1, EC-1)."""

    def __init__(self, net: NetworkParser) -> None:
        self.net = net
        self.workloads: dict[str, Workload] = {}
        self.instance_interfaces: dict[str, list[str]] = defaultdict(list)
        self.task_definitions: dict[str, dict[str, Any]] = {}
        self.container_instances: dict[str, str] = {}
        self._tasks_of: dict[str, int] = {}   # service key -> tasks in the snapshot

    def _add(self, w: Workload) -> None:
        self.workloads.setdefault(w.key, w)

    # -- EC2 instances -----------------------------------------------------------------------------
    def reservations_doc(self, doc: RawDocument) -> None:
        """Reservations (describe-instances): an instance and all its interfaces."""
        def one(res: dict[str, Any]) -> None:
            for inst in f.objs(res, "Instances"):
                iid = f.req(inst, "InstanceId")
                state = f.s(f.obj(inst, "State"), "Name") or "unknown"
                if state in ("terminated", "shutting-down"):
                    continue
                account = doc.account or f.s(res, "OwnerId")
                az = f.s(f.obj(inst, "Placement"), "AvailabilityZone")
                region = doc.region or f.region_of_az(az)
                enis = [self.net.add_interface(n, doc, instance_id=iid, vpc_id=f.s(inst, "VpcId"),
                                               subnet_id=f.s(inst, "SubnetId"))
                        for n in f.objs(inst, "NetworkInterfaces")]
                self.instance_interfaces[iid].extend(enis)
                name = f.tag(f.objs(inst, "Tags"), "Name") or iid
                notes = (f"instance {iid} is {state}",) if state != "running" else ()
                self._add(Workload(
                    key=workload_key("ec2_instance", account, region, iid), kind="ec2_instance", name=name,
                    account=account, region=region, interface_ids=tuple(sorted(set(enis))),
                    group_ids=tuple(sorted({f.req(g, "GroupId") for g in f.objs(inst, "SecurityGroups")})),
                    label=f"EC2 instance {name} ({iid}, {state})", notes=notes))
        f.each(doc.items, doc.key, doc.source, one)

    # -- ECS -------------------------------------------------------------------------------------
    def task_definitions_doc(self, doc: RawDocument) -> None:
        """taskDefinition / taskDefinitions: container ports, network mode."""
        def one(item: dict[str, Any]) -> None:
            arn = f.s(item, "taskDefinitionArn")
            family, rev = f.s(item, "family"), f.i(item, "revision")
            for key in filter(None, (arn, f"{family}:{rev}" if family and rev is not None else None)):
                self.task_definitions.setdefault(key, item)
        f.each(doc.items, doc.key, doc.source, one)

    def container_instances_doc(self, doc: RawDocument) -> None:
        """containerInstances: the EC2 instance behind bridge/host tasks (ECS-3)."""
        def one(item: dict[str, Any]) -> None:
            arn, iid = f.s(item, "containerInstanceArn"), f.s(item, "ec2InstanceId")
            if arn and iid:
                self.container_instances[arn] = iid
        f.each(doc.items, doc.key, doc.source, one)

    def ecs(self, services: list[RawDocument], tasks: list[RawDocument]) -> None:
        """ECS services and their tasks (ECS-1, ECS-2, ECS-4)."""
        service_cfg: dict[tuple[str, str], dict[str, Any]] = {}
        service_doc: dict[tuple[str, str], RawDocument] = {}
        for doc in services:
            def one_service(item: dict[str, Any], doc: RawDocument = doc) -> None:
                name, cluster = f.req(item, "serviceName"), f.s(item, "clusterArn") or ""
                service_cfg.setdefault((cluster, name), item)
                service_doc.setdefault((cluster, name), doc)
            f.each(doc.items, doc.key, doc.source, one_service)
        by_service: dict[tuple[str, str], list[str]] = defaultdict(list)
        notes: dict[tuple[str, str], list[str]] = defaultdict(list)
        for doc in tasks:
            def one_task(item: dict[str, Any], doc: RawDocument = doc) -> None:
                self._task(item, doc, service_cfg, by_service, notes)
            f.each(doc.items, doc.key, doc.source, one_task)
        for (cluster, name), item in sorted(service_cfg.items()):
            doc = service_doc[(cluster, name)]
            with f.item_context(doc.source, f"services[{name}]"):
                self._service(item, doc, by_service[(cluster, name)], notes[(cluster, name)])

    def _task(self, item: dict[str, Any], doc: RawDocument, service_cfg: dict[tuple[str, str], dict[str, Any]],
              by_service: dict[tuple[str, str], list[str]],
              service_notes: dict[tuple[str, str], list[str]]) -> None:
        task_arn = f.req(item, "taskArn")
        if (f.s(item, "lastStatus") or "RUNNING") not in ACTIVE_TASK_STATES:
            return
        cluster = f.s(item, "clusterArn") or ""
        group = f.s(item, "group") or ""
        svc_name = group[len("service:"):] if group.startswith("service:") else None
        cfg = service_cfg.get((cluster, svc_name or ""), {})
        awsvpc = f.obj(f.obj(cfg, "networkConfiguration"), "awsvpcConfiguration")
        account, region = f.account_region_of_arn(task_arn)
        account, region = doc.account or account, doc.region or region
        enis: list[str] = []
        notes: list[str] = []
        eni_attachments = [a for a in f.objs(item, "attachments") if f.s(a, "type") == "ElasticNetworkInterface"]
        for att in eni_attachments:
            details = {f.s(d, "name"): d.get("value") for d in f.objs(att, "details")}
            eni_id, ip, subnet = details.get("networkInterfaceId"), details.get("privateIPv4Address"), details.get(
                "subnetId")
            status = f.s(att, "status") or "ATTACHED"
            if isinstance(eni_id, str) and eni_id in self.net.interfaces:
                enis.append(eni_id)
                continue
            uncertain = None
            if status == "PRECREATED" or not isinstance(eni_id, str):
                uncertain = f"task {_arn_tail(task_arn)}'s interface is not attached yet ({status}) (ECS-4)"
            groups = tuple(sorted(set(f.strs(awsvpc, "securityGroups"))))
            if not groups:
                uncertain = uncertain or (f"task {_arn_tail(task_arn)}'s interface is not in the snapshot and its "
                                          "service's security groups are unknown (ECS-1)")
            iface_id = eni_id if isinstance(eni_id, str) else f"eni-of-task-{_arn_tail(task_arn)}"
            sub = self.net.subnets.get(subnet) if isinstance(subnet, str) else None
            self.net.put_interface(Interface(
                id=iface_id, vpc_id=sub.vpc_id if sub else None, subnet_id=subnet if isinstance(subnet, str) else None,
                account=account, region=region, group_ids=groups,
                private_ipv4=(f.ip(ip),) if isinstance(ip, str) and ip else (), az=sub.az if sub else None,
                description=f"ECS task {_arn_tail(task_arn)} (inferred from describe-tasks)", inferred=True,
                uncertain=uncertain, public_hint={"ENABLED": True, "DISABLED": False}.get(
                    f.s(awsvpc, "assignPublicIp") or "")))
            enis.append(iface_id)
        if not eni_attachments:
            # bridge/host network mode: the container instance's interfaces (ECS-3)
            ci = f.s(item, "containerInstanceArn")
            iid = self.container_instances.get(ci or "")
            if iid and self.instance_interfaces.get(iid):
                enis.extend(self.instance_interfaces[iid])
            else:
                notes.append(f"task {_arn_tail(task_arn)} has no awsvpc interface and its container instance "
                             "is not in the snapshot (ECS-3)")
        parent = workload_key("ecs_service", account, region, f"{_arn_tail(cluster)}/{svc_name}") if svc_name else None
        if svc_name:
            by_service[(cluster, svc_name)].extend(enis)
            service_notes[(cluster, svc_name)].extend(notes)
        task_id = _arn_tail(task_arn)
        if parent and workload_key("ecs_task", account, region, task_id) not in self.workloads:
            self._tasks_of[parent] = self._tasks_of.get(parent, 0) + 1
        self._add(Workload(
            key=workload_key("ecs_task", account, region, task_id), kind="ecs_task", name=task_id,
            account=account, region=region, interface_ids=tuple(sorted(set(enis))), parent=parent,
            ports=self._task_ports(f.s(item, "taskDefinitionArn"), cfg),
            label=f"ECS task {task_id} ({group or 'standalone'})", notes=tuple(notes), arn=task_arn))

    def _task_ports(self, td_arn: str | None, service: dict[str, Any]) -> tuple[int, ...]:
        ports: list[int] = []
        for lb in f.objs(service, "loadBalancers"):
            p = f.i(lb, "containerPort")
            if p is not None and p not in ports:
                ports.append(p)
        td = self.task_definitions.get(td_arn or "", {})
        if (f.s(td, "networkMode") or "awsvpc") in ("bridge", "host"):
            # ECS-3: on the container instance's interface the task listens on the host port (0: dynamic, unknown).
            mapped = {f.i(m, "containerPort"): f.i(m, "hostPort") for c in f.objs(td, "containerDefinitions")
                      for m in f.objs(c, "portMappings")}
            ports = [mapped[p] for p in ports if mapped.get(p)]
            for host in mapped.values():
                if host and host not in ports:
                    ports.append(host)
            return tuple(ports)
        for c in f.objs(td, "containerDefinitions"):
            for m in f.objs(c, "portMappings"):
                p = f.i(m, "containerPort")
                if p is not None and p not in ports:
                    ports.append(p)
        return tuple(ports)

    def _service(self, item: dict[str, Any], doc: RawDocument, members: list[str], task_notes: list[str]) -> None:
        name = f.req(item, "serviceName")
        account, region = f.account_region_of_arn(f.s(item, "serviceArn"))
        account, region = doc.account or account, doc.region or region
        enis = sorted(set(members))
        notes = list(task_notes)
        running = f.i(item, "runningCount")
        cluster = _arn_tail(f.s(item, "clusterArn"))
        key = workload_key("ecs_service", account, region, f"{cluster}/{name}")
        tasks = self._tasks_of.get(key, 0)
        if running and tasks < running:
            notes.append(f"service reports {running} running tasks but the snapshot holds {tasks}")
        if not tasks:
            notes.append("service has no running tasks in the snapshot")
        awsvpc = f.obj(f.obj(item, "networkConfiguration"), "awsvpcConfiguration")
        self._add(Workload(
            key=key, kind="ecs_service", name=name,
            account=account, region=region, interface_ids=tuple(enis),
            group_ids=tuple(sorted(set(f.strs(awsvpc, "securityGroups")))),
            ports=self._task_ports(f.s(item, "taskDefinition"), item),
            label=f"ECS service {name}{f' in {cluster}' if cluster else ''}, {tasks} task{'s' * (tasks != 1)}",
            notes=tuple(notes), arn=f.s(item, "serviceArn")))

    # -- ElastiCache -------------------------------------------------------------------------------
    def elasticache(self, clusters: list[RawDocument], groups: list[RawDocument],
                    serverless: list[RawDocument]) -> None:
        """Cache clusters, replication groups (EC-1..EC-3) and serverless caches (EC-4)."""
        by_description: dict[str, list[str]] = defaultdict(list)
        for iface in self.net.interfaces.values():
            if iface.description.startswith("ElastiCache "):
                by_description[iface.description[len("ElastiCache "):].strip()].append(iface.id)
        cluster_keys: dict[str, str] = {}
        for doc in clusters:
            def one(item: dict[str, Any], doc: RawDocument = doc) -> None:
                key = self._cache_cluster(item, doc, by_description)
                cluster_keys.setdefault(f.req(item, "CacheClusterId"), key)
            f.each(doc.items, doc.key, doc.source, one)
        for doc in groups:
            def one_rg(item: dict[str, Any], doc: RawDocument = doc) -> None:
                self._replication_group(item, doc, cluster_keys, by_description)
            f.each(doc.items, doc.key, doc.source, one_rg)
        for doc in serverless:
            f.each(doc.items, doc.key, doc.source, lambda item, doc=doc: self._serverless(item, doc))

    def _cache_cluster(self, item: dict[str, Any], doc: RawDocument, by_description: dict[str, list[str]]) -> str:
        cid = f.req(item, "CacheClusterId")
        account, region = f.account_region_of_arn(f.s(item, "ARN"))
        account = doc.account or account
        region = doc.region or region or f.region_of_az(f.s(item, "PreferredAvailabilityZone"))
        groups = tuple(sorted({f.req(g, "SecurityGroupId") for g in f.objs(item, "SecurityGroups")}))
        nodes = f.objs(item, "CacheNodes")
        ports = []
        for n in nodes:
            p = f.i(f.obj(n, "Endpoint"), "Port")
            if p is not None and p not in ports:
                ports.append(p)
        cfg_port = f.i(f.obj(item, "ConfigurationEndpoint"), "Port")
        if cfg_port is not None and cfg_port not in ports:
            ports.insert(0, cfg_port)
        enis = sorted(by_description.get(cid, []))
        notes: list[str] = []
        if not enis:
            # EC-1 fallback: the API lists no interface ids; use the cluster's groups, address unknown.
            notes.append(f"no interface described 'ElastiCache {cid}' in the snapshot; using the cluster's "
                         "security groups with an unknown address (EC-1)")
            vpcs = {self.net.groups[g].vpc_id for g in groups if g in self.net.groups}
            vpc = vpcs.pop() if len(vpcs) == 1 else None
            for n in nodes or [{"CacheNodeId": "0001"}]:
                nid = f"eni-of-cache-{cid}-{f.s(n, 'CacheNodeId') or '0001'}"
                az = f.s(n, "CustomerAvailabilityZone") or f.s(item, "PreferredAvailabilityZone")
                in_az = [sub.id for sub in self.net.subnets.values() if vpc and sub.vpc_id == vpc and sub.az == az]
                self.net.put_interface(Interface(
                    id=nid, vpc_id=vpc, subnet_id=in_az[0] if len(in_az) == 1 else None, account=account,
                    region=region, group_ids=groups, az=az,
                    description=f"ElastiCache {cid} node (inferred)", inferred=True, public_hint=False,
                    uncertain=None if groups else f"cache cluster {cid}'s security groups are not in the snapshot"))
                enis.append(nid)
        rg = f.s(item, "ReplicationGroupId")
        engine = f.s(item, "Engine") or "cache"
        self._add(Workload(
            key=workload_key("elasticache_cluster", account, region, cid), kind="elasticache_cluster", name=cid,
            account=account, region=region, interface_ids=tuple(sorted(enis)), group_ids=groups, ports=tuple(ports),
            parent=workload_key("elasticache_replication_group", account, region, rg) if rg else None,
            label=f"ElastiCache {engine} cluster {cid}", notes=tuple(notes), arn=f.s(item, "ARN")))
        return workload_key("elasticache_cluster", account, region, cid)

    def _replication_group(self, item: dict[str, Any], doc: RawDocument, cluster_keys: dict[str, str],
                           by_description: dict[str, list[str]]) -> None:
        rid = f.req(item, "ReplicationGroupId")
        account, region = f.account_region_of_arn(f.s(item, "ARN"))
        account, region = doc.account or account, doc.region or region
        members = list(f.strs(item, "MemberClusters"))
        ports: list[int] = []
        cfg_port = f.i(f.obj(item, "ConfigurationEndpoint"), "Port")
        if cfg_port is not None:
            ports.append(cfg_port)
        for ng in f.objs(item, "NodeGroups"):
            p = f.i(f.obj(ng, "PrimaryEndpoint"), "Port")
            if p is not None and p not in ports:
                ports.append(p)
            for m in f.objs(ng, "NodeGroupMembers"):
                cid = f.s(m, "CacheClusterId")
                if cid and cid not in members:
                    members.append(cid)
        enis: set[str] = set()
        groups: set[str] = set()
        notes: list[str] = []
        for cid in sorted(members):
            w = self.workloads.get(cluster_keys.get(cid, ""))
            if w is not None:
                enis.update(w.interface_ids)
                groups.update(w.group_ids)
                notes.extend(w.notes)
                ports.extend(p for p in w.ports if p not in ports)
            elif by_description.get(cid):
                enis.update(by_description[cid])
            else:
                notes.append(f"member cluster {cid} is not in the snapshot (EC-2)")
                nid = f"eni-of-cache-{cid}-unknown"
                self.net.put_interface(Interface(
                    id=nid, vpc_id=None, subnet_id=None, account=account, region=region, group_ids=(),
                    description=f"ElastiCache {cid} (not in snapshot)", inferred=True,
                    uncertain=f"member cluster {cid} of {rid} is not in the snapshot"))
                enis.add(nid)
        engine = f.s(item, "Engine") or "redis"
        self._add(Workload(
            key=workload_key("elasticache_replication_group", account, region, rid),
            kind="elasticache_replication_group", name=rid, account=account, region=region,
            interface_ids=tuple(sorted(enis)), group_ids=tuple(sorted(groups)), ports=tuple(ports),
            label=f"ElastiCache {engine} replication group {rid}, {len(members)} member cluster"
                  f"{'s' * (len(members) != 1)}",
            notes=tuple(dict.fromkeys(notes)), arn=f.s(item, "ARN")))

    def _serverless(self, item: dict[str, Any], doc: RawDocument) -> None:
        name = f.req(item, "ServerlessCacheName")
        account, region = f.account_region_of_arn(f.s(item, "ARN"))
        account, region = doc.account or account, doc.region or region
        groups = tuple(sorted(set(f.strs(item, "SecurityGroupIds"))))
        port = f.i(f.obj(item, "Endpoint"), "Port")
        # EC-4: VPC-endpoint interfaces in the given subnets; AWS names no interface ids, so infer one per subnet.
        enis = self.net.infer_interfaces(name, "ElastiCache serverless", f.strs(item, "SubnetIds"), groups, account,
                                         region)
        self._add(Workload(
            key=workload_key("elasticache_serverless", account, region, name), kind="elasticache_serverless",
            name=name, account=account, region=region, interface_ids=tuple(enis), group_ids=groups,
            ports=(port,) if port is not None else (), label=f"ElastiCache serverless cache {name}",
            arn=f.s(item, "ARN")))
