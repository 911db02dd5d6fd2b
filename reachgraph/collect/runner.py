"""Fan accounts x regions x services out on a bounded thread pool, reporting progress as units finish."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

from reachgraph.collect import awslambda, ec2, ecs, elasticache, elbv2, rds
from reachgraph.collect.context import Cancelled, Unit, UnitContext
from reachgraph.collect.session import AccountSession, CallCounter

# Order is the order of --services' default and of the manifest.
SERVICE_MODULES: dict[str, ModuleType] = {
    "ec2": ec2, "ecs": ecs, "elasticache": elasticache, "rds": rds, "elbv2": elbv2, "lambda": awslambda,
}
DEFAULT_SERVICES: tuple[str, ...] = tuple(SERVICE_MODULES)


@dataclass(frozen=True)
class UnitResult:
    """What one unit collected and what failed."""

    unit: Unit
    resources: dict[str, list[Any]]
    errors: tuple[dict[str, Any], ...]
    seconds: float


@dataclass(frozen=True)
class ProgressEvent:
    """Sent once with the plan, then once per finished unit, always from the calling thread."""

    kind: Literal["plan", "done"]
    done: int
    total: int
    units: tuple[Unit, ...] = ()
    unit: Unit | None = None
    resources: Mapping[str, int] = field(default_factory=dict)
    errors: tuple[dict[str, Any], ...] = ()
    api_calls: int = 0


ProgressCallback = Callable[[ProgressEvent], None]


def run_unit(unit: Unit, account: AccountSession, cancel: threading.Event) -> UnitResult:
    """Collect one service of one account/region; never raises except on cancellation."""
    start = time.monotonic()
    ctx = UnitContext(unit=unit, make_client=account.client, cancel=cancel)
    try:
        SERVICE_MODULES[unit.service].collect(ctx)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug in one unit must not lose the others' data
        ctx.record_internal(exc)
    return UnitResult(unit, ctx.resources, tuple(ctx.errors), time.monotonic() - start)


def run_units(units: Sequence[Unit], accounts: Mapping[str, AccountSession], max_workers: int,
              counter: CallCounter, progress: ProgressCallback | None = None) -> list[UnitResult]:
    """Run every unit on at most `max_workers` threads; on interrupt, stop them and re-raise."""
    emit = progress or (lambda _event: None)
    total = len(units)
    emit(ProgressEvent("plan", 0, total, units=tuple(units), api_calls=counter.total))
    cancel = threading.Event()
    results: list[UnitResult] = []
    executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="reachgraph-collect")
    try:
        pending: set[Future[UnitResult]] = {
            executor.submit(run_unit, unit, accounts[unit.account], cancel) for unit in units}
        while pending:
            # A timeout keeps the main thread responsive to Ctrl-C while workers wait on the network.
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                result = future.result()
                results.append(result)
                emit(ProgressEvent("done", len(results), total, unit=result.unit,
                                   resources={k: len(v) for k, v in result.resources.items()},
                                   errors=result.errors, api_calls=counter.total))
    except BaseException:
        cancel.set()
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
    return sorted(results, key=lambda r: r.unit)
