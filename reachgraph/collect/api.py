"""The collector's Python API: `collect(...)` returns a snapshot document, stats and errors; no printing."""

from __future__ import annotations

import datetime as _dt
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reachgraph import __version__
from reachgraph.collect.context import Unit
from reachgraph.collect.faults import classify
from reachgraph.collect.regions import configured_region, enabled_regions, validate_regions
from reachgraph.collect.runner import DEFAULT_SERVICES, ProgressCallback, UnitResult, run_units
from reachgraph.collect.session import AccountSession, CallCounter, Target, base_session, open_account
from reachgraph.errors import InputError
from reachgraph.snapshot import CollectionError, build_snapshot_document, write_snapshot_file


@dataclass(frozen=True)
class CollectStats:
    """Counts for the summary line and for tests."""

    api_calls: int
    attempts: int
    calls_by_operation: dict[str, int]
    resources: dict[str, int]
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    services: tuple[str, ...]
    elapsed_seconds: float


@dataclass(frozen=True)
class CollectResult:
    """A collected snapshot (the on-disk document), its stats and the calls that failed."""

    document: dict[str, Any]
    stats: CollectStats
    errors: tuple[CollectionError, ...]

    @property
    def complete(self) -> bool:
        """True when every call succeeded."""
        return not self.errors

    def write(self, path: str | Path) -> Path:
        """Write the snapshot atomically (nothing appears at `path` unless the whole file is written)."""
        return write_snapshot_file(path, self.document)


def parse_services(services: str | Iterable[str] | None) -> tuple[str, ...]:
    """Service names from 'ec2,ecs' or a list, in canonical order; unknown names are usage errors."""
    if services is None:
        return DEFAULT_SERVICES
    names = services.split(",") if isinstance(services, str) else list(services)
    wanted = {n.strip().lower() for n in names if n.strip()}
    unknown = sorted(wanted - set(DEFAULT_SERVICES))
    if unknown:
        raise InputError(f"unknown service{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}",
                         "--services", f"choose from {','.join(DEFAULT_SERVICES)}")
    if not wanted:
        raise InputError("no service given", "--services", f"choose from {','.join(DEFAULT_SERVICES)}")
    return tuple(s for s in DEFAULT_SERVICES if s in wanted)


def plan_targets(profiles: Iterable[str], role_arns: Iterable[str]) -> tuple[Target, ...]:
    """One target per profile, or one per role assumed from the (single) base profile."""
    profiles, role_arns = list(dict.fromkeys(profiles)), list(dict.fromkeys(role_arns))
    if role_arns:
        if len(profiles) > 1:
            raise InputError("--role-arn takes at most one --profile (the identity that assumes the roles)",
                             None, "run once per base profile, or list every account as a --role-arn")
        for arn in role_arns:
            if not arn.startswith("arn:") or ":role/" not in arn:
                raise InputError(f"'{arn}' is not an IAM role ARN", "--role-arn",
                                 "use arn:aws:iam::ACCOUNT:role/NAME")
        return tuple(Target(profiles[0] if profiles else None, arn) for arn in role_arns)
    return tuple(Target(p) for p in profiles) or (Target(),)


def collect(profiles: Iterable[str] = (), regions: Iterable[str] = (), all_regions: bool = False,
            role_arns: Iterable[str] = (), endpoint_url: str | None = None,
            services: str | Iterable[str] | None = None, max_workers: int = 8,
            progress: ProgressCallback | None = None) -> CollectResult:
    """Snapshot the accounts and regions asked for; failed calls land in the manifest, not in exceptions."""
    started = time.monotonic()
    collected_at = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    chosen_services = parse_services(services)
    if max_workers < 1:
        raise InputError(f"--max-workers must be at least 1, not {max_workers}")
    named_regions = validate_regions(regions)
    if named_regions and all_regions:
        raise InputError("--region and --all-regions exclude each other", None, "pass one or the other")
    targets = plan_targets(profiles, role_arns)
    if not named_regions and not all_regions:
        for target in targets:  # fail before any network call
            if not base_session(target.profile).region_name:
                raise InputError("no region given and none configured", target.label(),
                                 "pass --region REGION (repeatable) or --all-regions, or set AWS_REGION")
    counter = CallCounter()
    errors: list[dict[str, Any]] = []
    accounts = _open_accounts(targets, endpoint_url, counter, named_regions, errors)
    units: list[Unit] = []
    for account_id, account in accounts.items():
        for region in _regions_for(account, named_regions, all_regions, errors):
            units.extend(Unit(account_id, region, s) for s in chosen_services)
    results = run_units(units, accounts, max_workers, counter, progress)
    return _assemble(results, units, accounts, chosen_services, errors, counter, collected_at,
                     time.monotonic() - started)


def _open_accounts(targets: Iterable[Target], endpoint_url: str | None, counter: CallCounter,
                   regions: tuple[str, ...], errors: list[dict[str, Any]]) -> dict[str, AccountSession]:
    accounts: dict[str, AccountSession] = {}
    for target in targets:
        try:
            account = open_account(target, endpoint_url, counter, regions[0] if regions else None)
        except (ClientError, BotoCoreError) as exc:
            fault = classify(exc)
            operation = getattr(exc, "operation_name", None) or ("AssumeRole" if target.role_arn
                                                                 else "GetCallerIdentity")
            errors.append({"account": _account_of(target.role_arn), "region": None, "service": "sts",
                           "operation": operation, "code": fault.code, "message": f"{target.label()}: {fault.message}"})
            continue
        # Two profiles for one account collect it once.
        accounts.setdefault(account.account_id, account)
    if not accounts:
        first = errors[0] if errors else {"code": "?", "message": "no account"}
        raise InputError(f"could not open any account: {first['code']}: {first['message']}", None,
                         "check the credentials, profile or role trust policy")
    return accounts


def _account_of(role_arn: str | None) -> str | None:
    parts = (role_arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


def _regions_for(account: AccountSession, named: tuple[str, ...], all_regions: bool,
                 errors: list[dict[str, Any]]) -> tuple[str, ...]:
    if named:
        return named
    if not all_regions:
        return configured_region(account)
    via = account.default_region or "us-east-1"
    try:
        return enabled_regions(account, via)
    except (ClientError, BotoCoreError) as exc:
        fault = classify(exc)
        errors.append({"account": account.account_id, "region": via, "service": "ec2",
                       "operation": "DescribeRegions", "code": fault.code, "message": fault.message})
        return ()


def _assemble(results: list[UnitResult], units: list[Unit], accounts: dict[str, AccountSession],
              services: tuple[str, ...], errors: list[dict[str, Any]], counter: CallCounter,
              collected_at: str, elapsed: float) -> CollectResult:
    resources: dict[str, dict[str, dict[str, Any]]] = {}
    for unit in units:  # every collected account/region appears, even when empty
        resources.setdefault(unit.account, {}).setdefault(unit.region, {})
    totals: Counter[str] = Counter()
    for result in results:
        resources[result.unit.account][result.unit.region].update(result.resources)
        totals.update({k: len(v) for k, v in result.resources.items()})
        errors.extend(result.errors)
    errors.sort(key=lambda e: tuple(str(e.get(k) or "") for k in
                                    ("account", "region", "service", "operation", "code", "message")))
    callers = {a: s.caller_arn for a, s in sorted(accounts.items())}
    regions = tuple(sorted({u.region for u in units}))
    manifest = {
        "tool_version": __version__,
        "collected_at": collected_at,
        "caller_arn": next(iter(callers.values())),
        "callers": callers,
        "accounts": sorted(accounts),
        "regions": list(regions),
        "services": list(services),
        "api_calls": counter.total,
        "errors": errors,
    }
    stats = CollectStats(
        api_calls=counter.total, attempts=counter.attempts,
        calls_by_operation={f"{svc}:{op}": n for (svc, op), n in sorted(counter.calls.items())},
        resources=dict(sorted(totals.items())), accounts=tuple(sorted(accounts)), regions=regions,
        services=services, elapsed_seconds=elapsed)
    collection_errors = tuple(CollectionError(e["account"], e["region"], e["service"], e["operation"], e["code"],
                                              e["message"]) for e in errors)
    return CollectResult(build_snapshot_document(manifest, resources), stats, collection_errors)
