"""Turn a failed boto3 call into the manifest's error record, and tell which failures end a unit."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    UnknownEndpointError,
)

# Codes that mean every later call of the same account/region/service fails the same way:
# region not enabled (opt-in), credentials rejected in that region, no endpoint there.
# Stopping at the first one saves minutes of retries; the skipped calls are still recorded.
UNIT_FATAL_CODES: frozenset[str] = frozenset({
    "OptInRequired", "AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId",
    "ExpiredToken", "ExpiredTokenException", "RequestExpired", "SignatureDoesNotMatch",
    "EndpointConnectionError", "ConnectTimeoutError", "UnknownEndpointError", "NoRegionError",
    "NoCredentialsError",
})
_FATAL_EXCEPTIONS = (EndpointConnectionError, ConnectTimeoutError, UnknownEndpointError, NoRegionError,
                     NoCredentialsError)
_MAX_MESSAGE = 400


@dataclass(frozen=True)
class Fault:
    """What went wrong with one call, as the manifest records it."""

    code: str
    message: str
    fatal: bool


def classify(exc: BaseException) -> Fault:
    """The manifest code and message for a boto3 failure; `fatal` if the whole unit is dead."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(err.get("Code") or "ClientError")
        message = str(err.get("Message") or exc)
        if meta.get("MaxAttemptsReached"):
            # Say so: "Throttling" alone would read like a one-off refusal.
            message = f"retries exhausted after {meta.get('RetryAttempts', '?')} retries: {message}"
        return Fault(code, _one_line(message), code in UNIT_FATAL_CODES)
    if isinstance(exc, BotoCoreError):
        code = type(exc).__name__
        return Fault(code, _one_line(str(exc)), isinstance(exc, _FATAL_EXCEPTIONS))
    return Fault("InternalError", _one_line(f"{type(exc).__name__}: {exc}"), True)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."
