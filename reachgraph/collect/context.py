"""One unit of work (account x region x service): its clients, its results and its errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from reachgraph.collect.calls import jsonable
from reachgraph.collect.faults import Fault, classify

T = TypeVar("T")


class Cancelled(Exception):
    """The run was interrupted; the unit stops at its next call."""


@dataclass(frozen=True, order=True)
class Unit:
    """Where one service is collected."""

    account: str
    region: str
    service: str


@dataclass
class UnitContext:
    """Runs one unit's calls, keeping what succeeded and recording what failed."""

    unit: Unit
    make_client: Callable[[str, str], BaseClient]
    cancel: threading.Event = field(default_factory=threading.Event)
    resources: dict[str, list[Any]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    _fatal: tuple[str, Fault] | None = field(default=None, init=False, repr=False)
    _clients: dict[str, BaseClient] = field(default_factory=dict, init=False, repr=False)

    def client(self, boto_service: str) -> BaseClient:
        """This unit's own client for `boto_service` in its region (never shared with other threads)."""
        if boto_service not in self._clients:
            self._clients[boto_service] = self.make_client(boto_service, self.unit.region)
        return self._clients[boto_service]

    def call(self, operation: str, fn: Callable[[], T], detail: str = "") -> T | None:
        """Run one AWS call; on failure record it (naming `detail`) and return None."""
        if self.cancel.is_set():
            raise Cancelled()
        if self._fatal is not None:
            first_op, fault = self._fatal
            # The region/service is unreachable: record the call we did not make, don't retry it.
            self._record(operation, fault.code, f"not attempted: {first_op} already failed with {fault.code}",
                         detail)
            return None
        try:
            return fn()
        except (ClientError, BotoCoreError) as exc:
            fault = classify(exc)
        if fault.fatal:
            self._fatal = (operation, fault)
        self._record(operation, fault.code, fault.message, detail)
        return None

    def put(self, key: str, items: list[Any]) -> None:
        """Store raw items under a snapshot key, JSON-safe."""
        self.resources[key] = jsonable(items)

    def record_internal(self, exc: BaseException) -> None:
        """A bug or unexpected exception: recorded like a failed call so the rest of the run survives."""
        fault = classify(exc)
        self._record("*", fault.code, fault.message, "")

    def _record(self, operation: str, code: str, message: str, detail: str) -> None:
        if detail:
            message = f"{detail}: {message}"
        self.errors.append({"account": self.unit.account, "region": self.unit.region,
                            "service": self.unit.service, "operation": operation, "code": code,
                            "message": message})
