"""Typed, immutable model of an AWS network, built from raw responses in one place."""

from reachgraph.model.build import build_model
from reachgraph.model.records import (
    AclEntry, Interface, Model, NetworkAcl, Peering, PrefixList, Route, RouteTable, Rule, SecurityGroup, Subnet, Vpc,
    Workload,
)

__all__ = ["build_model", "AclEntry", "Interface", "Model", "NetworkAcl", "Peering", "PrefixList", "Route",
           "RouteTable", "Rule", "SecurityGroup", "Subnet", "Vpc", "Workload"]
