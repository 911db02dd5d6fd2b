"""ECS: clusters, services, running tasks, their task definitions and container instances."""

from __future__ import annotations

from collections.abc import Iterable

from botocore.client import BaseClient

from reachgraph.collect.calls import Item, batched, distinct, paginate
from reachgraph.collect.context import UnitContext

SERVICE = "ecs"
SERVICES_PER_CALL = 10      # DescribeServices limit
TASKS_PER_CALL = 100        # DescribeTasks limit
INSTANCES_PER_CALL = 100    # DescribeContainerInstances limit
PAGE = 100                  # largest maxResults of the List* calls
OPERATIONS: tuple[str, ...] = ("ListClusters", "ListServices", "DescribeServices", "ListTasks", "DescribeTasks",
                               "DescribeTaskDefinition", "DescribeContainerInstances")
# Network modes where a task has no interface of its own and uses its EC2 host's (ECS-3).
_HOST_MODES = frozenset({"bridge", "host", "", None})


def get_cluster_arns(client: BaseClient) -> list[str]:
    """Every cluster ARN in the region."""
    return paginate(client, "list_clusters", "clusterArns", PAGE)


def get_service_arns(client: BaseClient, cluster: str) -> list[str]:
    """Every service ARN of one cluster."""
    return paginate(client, "list_services", "serviceArns", PAGE, cluster=cluster)


def get_services(client: BaseClient, cluster: str, arns: list[str]) -> list[Item]:
    """describe_services for at most 10 services of one cluster."""
    return client.describe_services(cluster=cluster, services=arns)["services"]


def get_task_arns(client: BaseClient, cluster: str) -> list[str]:
    """Every task ARN of one cluster whose desired status is RUNNING (includes PENDING/PROVISIONING)."""
    return paginate(client, "list_tasks", "taskArns", PAGE, cluster=cluster)


def get_tasks(client: BaseClient, cluster: str, arns: list[str]) -> list[Item]:
    """describe_tasks for at most 100 tasks of one cluster."""
    return client.describe_tasks(cluster=cluster, tasks=arns)["tasks"]


def get_task_definition(client: BaseClient, arn: str) -> Item:
    """The `taskDefinition` object of describe_task_definition."""
    return client.describe_task_definition(taskDefinition=arn)["taskDefinition"]


def get_container_instances(client: BaseClient, cluster: str, arns: list[str]) -> list[Item]:
    """describe_container_instances for at most 100 instances of one cluster."""
    return client.describe_container_instances(cluster=cluster, containerInstances=arns)["containerInstances"]


def task_definition_arns(services: Iterable[Item], tasks: Iterable[Item]) -> list[str]:
    """Distinct task definitions that running tasks or services use: one describe each."""
    return distinct([*(s.get("taskDefinition", "") for s in services),
                     *(t.get("taskDefinitionArn", "") for t in tasks)])


def host_instance_arns(tasks: Iterable[Item], definitions: Iterable[Item]) -> dict[str, list[str]]:
    """Per cluster, container instances that host bridge/host-mode tasks (unknown mode counts too)."""
    mode = {d.get("taskDefinitionArn"): d.get("networkMode") for d in definitions}
    wanted: dict[str, set[str]] = {}
    for task in tasks:
        arn = task.get("containerInstanceArn")
        if arn and mode.get(task.get("taskDefinitionArn")) in _HOST_MODES:
            wanted.setdefault(task.get("clusterArn", ""), set()).add(arn)
    return {cluster: sorted(arns) for cluster, arns in sorted(wanted.items())}


def collect(ctx: UnitContext) -> None:
    """Collect services, tasks, task definitions and container instances for one account/region."""
    client = ctx.client("ecs")
    clusters = ctx.call("ListClusters", lambda: get_cluster_arns(client))
    if clusters is None:
        return
    services: list[Item] = []
    tasks: list[Item] = []
    for cluster in sorted(clusters):
        service_arns = ctx.call("ListServices", lambda: get_service_arns(client, cluster), detail=cluster) or []
        for batch in batched(sorted(service_arns), SERVICES_PER_CALL):
            services.extend(ctx.call("DescribeServices", lambda: get_services(client, cluster, batch),
                                     detail=cluster) or [])
        task_arns = ctx.call("ListTasks", lambda: get_task_arns(client, cluster), detail=cluster) or []
        for batch in batched(sorted(task_arns), TASKS_PER_CALL):
            tasks.extend(ctx.call("DescribeTasks", lambda: get_tasks(client, cluster, batch), detail=cluster) or [])
    ctx.put("services", sorted(services, key=lambda s: s.get("serviceArn", "")))
    ctx.put("tasks", sorted(tasks, key=lambda t: t.get("taskArn", "")))
    definitions: list[Item] = []
    for arn in task_definition_arns(services, tasks):
        found = ctx.call("DescribeTaskDefinition", lambda: get_task_definition(client, arn), detail=arn)
        if found is not None:
            definitions.append(found)
    ctx.put("taskDefinitions", definitions)
    instances: list[Item] = []
    for cluster, arns in host_instance_arns(tasks, definitions).items():
        for batch in batched(arns, INSTANCES_PER_CALL):
            instances.extend(ctx.call("DescribeContainerInstances",
                                      lambda: get_container_instances(client, cluster, batch), detail=cluster) or [])
    ctx.put("containerInstances", sorted(instances, key=lambda i: i.get("containerInstanceArn", "")))
