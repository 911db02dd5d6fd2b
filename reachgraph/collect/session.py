"""boto3 sessions per target account (profile or assumed role) and the clients made from them."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import NoCredentialsError, PartialCredentialsError, ProfileNotFound

from reachgraph import __version__
from reachgraph.errors import InputError

ROLE_SESSION_NAME = "reachgraph"
# adaptive: client-side rate limiting on throttles; 10 attempts rides out bursts on big accounts.
CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10},
                       user_agent_extra=f"reachgraph/{__version__}")
_NO_CREDENTIALS_HINT = ("set AWS_PROFILE or pass --profile, run 'aws configure' or 'aws sso login', "
                        "or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")


@dataclass(frozen=True)
class Target:
    """One account to collect: a profile (None = default chain), optionally a role to assume from it."""

    profile: str | None = None
    role_arn: str | None = None

    def label(self) -> str:
        """How the user named it, for messages."""
        return self.role_arn or (f"profile {self.profile}" if self.profile else "default credentials")


class CallCounter:
    """Counts API calls (one per operation invoked) and HTTP attempts (retries included), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()
        self.attempts = 0

    def attach(self, client: BaseClient) -> None:
        """Hook a client's events: before-call fires once per call, before-send once per attempt."""
        client.meta.events.register("before-call", self._on_call)
        client.meta.events.register("before-send", self._on_send)

    @property
    def total(self) -> int:
        """API calls made so far."""
        with self._lock:
            return sum(self.calls.values())

    def _on_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[(model.service_model.service_name, model.name)] += 1

    def _on_send(self, **_: Any) -> None:
        with self._lock:
            self.attempts += 1


class AccountSession:
    """A boto3 session for one account; hands out a fresh client per unit of work."""

    def __init__(self, target: Target, session: boto3.Session, account_id: str, caller_arn: str,
                 endpoint_url: str | None, counter: CallCounter) -> None:
        self.target = target
        self.account_id = account_id
        self.caller_arn = caller_arn
        self.default_region: str | None = session.region_name
        self._session = session
        self._endpoint_url = endpoint_url
        self._counter = counter
        # boto3 sessions are not thread-safe; clients are. Serialise creation, never share clients.
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> BaseClient:
        """A new client for `service` in `region`, counted and retrying adaptively."""
        with self._lock:
            client = self._session.client(service, region_name=region, endpoint_url=self._endpoint_url,
                                          config=CLIENT_CONFIG)
        self._counter.attach(client)
        return client


def base_session(profile: str | None) -> boto3.Session:
    """The session for a profile (or the default chain); an unknown profile is a usage error."""
    try:
        return boto3.Session(profile_name=profile)
    except ProfileNotFound:
        raise InputError(f"AWS profile '{profile}' not found", None,
                         "check ~/.aws/config or 'aws configure list-profiles'") from None


def open_account(target: Target, endpoint_url: str | None, counter: CallCounter,
                 fallback_region: str | None) -> AccountSession:
    """Resolve credentials (assuming the role if any) and ask STS who we are."""
    session = base_session(target.profile)
    sts_region = session.region_name or fallback_region or "us-east-1"
    try:
        if target.role_arn:
            sts = session.client("sts", region_name=sts_region, endpoint_url=endpoint_url, config=CLIENT_CONFIG)
            counter.attach(sts)
            creds = sts.assume_role(RoleArn=target.role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
            session = boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                                    aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"], region_name=session.region_name)
        sts = session.client("sts", region_name=sts_region, endpoint_url=endpoint_url, config=CLIENT_CONFIG)
        counter.attach(sts)
        identity = sts.get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError):
        raise InputError("no AWS credentials found", target.label(), _NO_CREDENTIALS_HINT) from None
    return AccountSession(target, session, identity["Account"], identity["Arn"], endpoint_url, counter)
