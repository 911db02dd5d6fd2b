"""Read and write snapshots: folders of AWS CLI JSON, or one reachgraph snapshot file.

This is the only module that touches snapshot files. It checks the outer shape (JSON objects,
lists of objects under known keys) and leaves the meaning of each AWS response to the model
builder, which receives every document with the file it came from.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reachgraph.atomic import write_atomic
from reachgraph.errors import InputError
from reachgraph.gc_pause import gc_paused

FORMAT_NAME = "reachgraph-snapshot"
FORMAT_VERSION = 1

# Top-level keys reachgraph understands, as the AWS CLI prints them.
KNOWN_KEYS: frozenset[str] = frozenset(
    {
        "Vpcs", "Subnets", "SecurityGroups", "SecurityGroupRules", "NetworkInterfaces",
        "NetworkAcls", "RouteTables", "VpcPeeringConnections", "PrefixLists", "Reservations",
        "InternetGateways", "NatGateways",
        "services", "tasks", "taskDefinition", "taskDefinitions", "containerInstances",
        "CacheClusters", "ReplicationGroups", "ServerlessCaches",
        "DBInstances", "DBClusters", "LoadBalancers", "Listeners", "Functions",
    }
)
# Keys that AWS responses carry beside the data; never worth a warning.
IGNORED_KEYS: frozenset[str] = frozenset(
    {"failures", "NextToken", "nextToken", "Marker", "NextMarker", "ResponseMetadata", "tags"}
)
# A single object, not a list, under these keys (describe-task-definition).
OBJECT_KEYS: frozenset[str] = frozenset({"taskDefinition"})

_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class RawDocument:
    """One top-level key of one AWS response, with where it came from."""

    key: str
    items: tuple[dict[str, Any], ...]
    source: str
    account: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class CollectionError:
    """A call the collector could not make; answers that need its data are `unknown`."""

    account: str | None
    region: str | None
    service: str
    operation: str
    code: str
    message: str

    def describe(self) -> str:
        """One line naming the call and why it failed."""
        where = "/".join(p for p in (self.account, self.region) if p)
        return f"{self.service}:{self.operation} failed in {where or 'snapshot'}: {self.code} ({self.message})"


@dataclass(frozen=True)
class RawSnapshot:
    """Everything read from disk, not yet interpreted."""

    source: str
    documents: tuple[RawDocument, ...]
    manifest: dict[str, Any] = field(default_factory=dict)
    errors: tuple[CollectionError, ...] = ()
    unknown_keys: tuple[str, ...] = ()


@gc_paused()
def read_snapshot(path: str | os.PathLike[str]) -> RawSnapshot:
    """Read a snapshot folder, a snapshot file (.json/.json.gz) or a single AWS CLI JSON file."""
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", str(p), "pass --snapshot PATH or set REACHGRAPH_SNAPSHOT")
    if p.is_dir():
        return _read_folder(p)
    data = _load_json_file(p)
    if isinstance(data, dict) and isinstance(data.get("manifest"), dict):
        return _from_snapshot_file(p, data)
    docs, unknown = _documents_of(data, str(p), None, None)
    if not docs:
        raise InputError("holds no AWS resources reachgraph understands", str(p),
                         f"expected top-level keys such as {', '.join(sorted(KNOWN_KEYS)[:6])}")
    return RawSnapshot(source=str(p), documents=tuple(docs), unknown_keys=tuple(sorted(unknown)))


def _read_folder(root: Path) -> RawSnapshot:
    files = sorted(f for f in root.rglob("*") if f.is_file() and _is_json_name(f.name))
    if not files:
        raise InputError("folder holds no .json files", str(root),
                         "put AWS CLI JSON output (describe-security-groups etc.) in it")
    documents: list[RawDocument] = []
    unknown: set[str] = set()
    for f in files:
        account, region = _account_region_of(root, f)
        docs, unk = _documents_of(_load_json_file(f), str(f), account, region)
        documents.extend(docs)
        unknown |= unk
    if not documents:
        raise InputError("no file in the folder holds AWS resources reachgraph understands", str(root),
                         f"expected top-level keys such as {', '.join(sorted(KNOWN_KEYS)[:6])}")
    return RawSnapshot(source=str(root), documents=tuple(documents), unknown_keys=tuple(sorted(unknown)))


def _is_json_name(name: str) -> bool:
    return name.endswith(".json") or name.endswith(".json.gz")


def _account_region_of(root: Path, f: Path) -> tuple[str | None, str | None]:
    parts = f.relative_to(root).parts[:-1]
    if not parts:
        return None, None
    if len(parts) == 1:
        if not _REGION_RE.match(parts[0]):
            raise InputError(f"sub-folder '{parts[0]}' is not a region name", str(f.parent),
                             "lay files out as REGION/x.json or ACCOUNT/REGION/x.json")
        return None, parts[0]
    if len(parts) == 2:
        account, region = parts
        if not _ACCOUNT_RE.match(account) or not _REGION_RE.match(region):
            raise InputError(f"sub-folders '{account}/{region}' are not ACCOUNT/REGION", str(f.parent),
                             "use a 12-digit account id and a region name, e.g. 123456789012/us-east-1/")
        return account, region
    raise InputError("file is nested too deep", str(f),
                     "lay files out as x.json, REGION/x.json or ACCOUNT/REGION/x.json")


def _load_json_file(f: Path) -> Any:
    try:
        if f.name.endswith(".gz"):
            with gzip.open(f, "rb") as fh:
                raw = fh.read()
        else:
            raw = f.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise InputError(f"cannot read file ({_short(exc)})", str(f),
                         "the file is truncated or not gzip; collect it again") from None
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", str(f), "expected AWS CLI JSON output") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", str(f),
                         "expected AWS CLI JSON output (--output json)") from None
    except RecursionError:
        raise InputError("is nested too deeply to be AWS CLI output", str(f)) from None


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def _documents_of(data: Any, source: str, account: str | None,
                  region: str | None) -> tuple[list[RawDocument], set[str]]:
    if not isinstance(data, dict):
        raise InputError(f"top level is a JSON {_json_type(data)}, not an object", source,
                         "expected AWS CLI JSON such as {\"SecurityGroups\": [...]}")
    docs: list[RawDocument] = []
    unknown: set[str] = set()
    for key in sorted(data):
        value = data[key]
        if key in IGNORED_KEYS:
            continue
        if key not in KNOWN_KEYS:
            unknown.add(key)
            continue
        if key in OBJECT_KEYS:
            if not isinstance(value, dict):
                raise InputError(f"'{key}' is a JSON {_json_type(value)}, expected an object", source)
            items: tuple[dict[str, Any], ...] = (value,)
        else:
            if not isinstance(value, list):
                raise InputError(f"'{key}' is a JSON {_json_type(value)}, expected a list", source)
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    raise InputError(f"{key}[{i}] is a JSON {_json_type(item)}, expected an object", source)
            items = tuple(value)
        docs.append(RawDocument(key=key, items=items, source=source, account=account, region=region))
    return docs, unknown


def _json_type(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def _from_snapshot_file(path: Path, data: dict[str, Any]) -> RawSnapshot:
    src = str(path)
    manifest = data["manifest"]
    if manifest.get("format") != FORMAT_NAME:
        raise InputError(f"manifest.format is {manifest.get('format')!r}, expected '{FORMAT_NAME}'", src)
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise InputError(f"snapshot format version {version!r} is not supported (this reachgraph reads up to "
                         f"{FORMAT_VERSION})", src, "upgrade reachgraph or collect the snapshot again")
    resources = data.get("resources")
    if not isinstance(resources, dict):
        raise InputError("'resources' is missing or not an object", src)
    documents: list[RawDocument] = []
    unknown: set[str] = set()
    for account in sorted(resources):
        regions = resources[account]
        if not isinstance(regions, dict):
            raise InputError(f"resources.{account} is not an object", src)
        for region in sorted(regions):
            keyed = regions[region]
            docs, unk = _documents_of(keyed, f"{src}#resources.{account}.{region}", account, region)
            documents.extend(docs)
            unknown |= unk
    errors = []
    raw_errors = manifest.get("errors", [])
    if not isinstance(raw_errors, list):
        raise InputError("manifest.errors is not a list", src)
    for i, e in enumerate(raw_errors):
        if not isinstance(e, dict):
            raise InputError(f"manifest.errors[{i}] is not an object", src)
        errors.append(CollectionError(
            account=_opt_str(e.get("account")), region=_opt_str(e.get("region")),
            service=str(e.get("service", "?")), operation=str(e.get("operation", "?")),
            code=str(e.get("code", "?")), message=str(e.get("message", ""))))
    return RawSnapshot(source=src, documents=tuple(documents), manifest=manifest, errors=tuple(errors),
                       unknown_keys=tuple(sorted(unknown)))


def _opt_str(v: Any) -> str | None:
    return None if v is None else str(v)


def build_snapshot_document(manifest: dict[str, Any],
                            resources: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Assemble the on-disk snapshot object from a manifest and raw responses by account/region/key."""
    full = {"format": FORMAT_NAME, "version": FORMAT_VERSION, **manifest}
    full["format"], full["version"] = FORMAT_NAME, FORMAT_VERSION
    return {"manifest": full, "resources": resources}


def write_snapshot_file(path: str | os.PathLike[str], document: dict[str, Any]) -> Path:
    """Write a snapshot atomically (temp file in the same folder, then rename); gzip if it ends in .gz."""
    payload = json.dumps(document, sort_keys=True, indent=1, default=str).encode() + b"\n"
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)  # mtime=0: identical content, identical bytes
    return write_atomic(path, payload)
