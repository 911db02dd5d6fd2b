"""Checks along the path between two interfaces beyond security groups (public addresses; ACLs and routes
arrive with the network-path work). Pure: reads the model only."""

from __future__ import annotations

from reachgraph.model.records import Interface, Model
from reachgraph.result import Check


class PathEvaluator:
    """Produces the non-security-group checks for one pair."""

    def __init__(self, model: Model) -> None:
        self.model = model

    def checks(self, src: Interface | None, dst: Interface | None, *, src_internet: bool = False,
               dst_internet: bool = False) -> list[Check]:
        """Checks for one pair; an empty list means nothing beyond security groups is modelled."""
        out: list[Check] = []
        if src_internet and dst is not None and not dst.public_ipv4:
            out.append(Check(kind="address", direction="ingress", component=dst.id, status="deny",
                             code="NO_PUBLIC_ADDRESS",
                             detail=f"{dst.id} has no public or Elastic IP, so no internet host can address it"))
        return out
