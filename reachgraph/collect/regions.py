"""Which regions to collect: named ones (checked offline), the enabled ones, or the configured one."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import boto3

from reachgraph.collect.session import AccountSession
from reachgraph.errors import InputError

_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region botocore knows an EC2 endpoint for, in every partition (no network)."""
    session = boto3.Session()
    return frozenset(r for p in session.get_available_partitions()
                     for r in session.get_available_regions("ec2", partition_name=p))


def validate_regions(regions: Iterable[str]) -> tuple[str, ...]:
    """Region names, deduplicated and sorted; a malformed or unknown name is a usage error."""
    cleaned = sorted({r.strip() for r in regions if r.strip()})
    for region in cleaned:
        if not _REGION_RE.match(region):
            raise InputError(f"'{region}' is not a region name", "--region", "use names like us-east-1")
        if region not in known_regions():
            near = sorted(r for r in known_regions() if r.split("-")[0] == region.split("-")[0])
            raise InputError(f"unknown region '{region}'", "--region",
                             f"known: {', '.join(near) or 'none alike'}; if the region is new, upgrade boto3")
    return tuple(cleaned)


def enabled_regions(account: AccountSession, via_region: str) -> tuple[str, ...]:
    """The regions enabled for this account (DescribeRegions without AllRegions lists only those)."""
    client = account.client("ec2", via_region)
    return tuple(sorted(r["RegionName"] for r in client.describe_regions()["Regions"]))


def configured_region(account: AccountSession) -> tuple[str, ...]:
    """The account's configured default region, or a usage error saying how to choose one."""
    if not account.default_region:
        raise InputError("no region given and none configured", account.target.label(),
                         "pass --region REGION (repeatable) or --all-regions, or set AWS_REGION")
    return validate_regions([account.default_region])
