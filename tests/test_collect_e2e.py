"""End to end with real processes: moto_server, the installed `reachgraph collect`, then `reachgraph query`."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from reachgraph.snapshot import read_snapshot

from collect_helpers import ACCOUNT, INCIDENT, MOTO_SITE, PIN_TASKS, REGION, seed_incident

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    """A child environment that can only reach the moto server: fake keys, no user AWS config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "REACHGRAPH_SNAPSHOT"}
    env.update(FAKE_CREDENTIALS, AWS_CONFIG_FILE=str(tmp / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp / "none"),
               AWS_EC2_METADATA_DISABLED="true", NO_COLOR="1", **extra)
    return env


@pytest.fixture
def moto_server(tmp_path: Path) -> Iterator[str]:
    """moto_server on 127.0.0.1:<free port>, its DescribeServerlessCaches gap filled; stopped by pid."""
    port = _free_port()
    log = (tmp_path / "moto_server.log").open("wb")
    proc = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                            stderr=subprocess.STDOUT, env=_env(tmp_path, PYTHONPATH=str(MOTO_SITE)))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start: {(tmp_path / 'moto_server.log').read_text()}")
                time.sleep(0.2)
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _pin_tasks(url: str) -> Callable[[], None]:
    def pin() -> None:
        body = json.dumps({"model_name": "ecs::task", "transition": PIN_TASKS}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/state-manager/set-transition", data=body,
                                                      method="POST"), timeout=10).close()
    return pin


def _client(url: str) -> Callable[[str], Any]:
    return lambda service: boto3.client(service, region_name=REGION, endpoint_url=url,
                                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "reachgraph"), *args], capture_output=True, text=True, env=_env(tmp),
                          timeout=300, cwd=tmp)


def _query(tmp: Path, snapshot: Path) -> tuple[int, dict[str, Any]]:
    done = _run(tmp, "query", "api", "redis:6379", "--snapshot", str(snapshot), "--json")
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _collect(tmp: Path, url: str, out: Path) -> subprocess.CompletedProcess[str]:
    done = _run(tmp, "collect", "--endpoint-url", url, "-o", str(out), "--region", REGION, "--json")
    assert done.returncode == 0, done.stderr
    assert read_snapshot(out).errors == ()
    return done


def _fix_args(fix: str) -> dict[str, str]:
    words = shlex.split(fix)
    assert words[:3] == ["aws", "ec2", "authorize-security-group-ingress"], fix
    return {words[i].lstrip("-"): words[i + 1] for i in range(3, len(words), 2)}


def test_incident_end_to_end_through_moto_server(moto_server: str, tmp_path: Path) -> None:
    """Seed `before` into moto_server, collect with the installed CLI, query: blocked with the incident's
    fix (in moto's ids); apply that fix through boto3, collect again: reachable, as in `after`."""
    example = INCIDENT / "before" / ACCOUNT / REGION
    ids = seed_incident(_client(moto_server), example, _pin_tasks(moto_server))
    redis_sg, api_sg = ids["sg-0454e74e2924a7754"], ids["sg-0864e6f6aee2a5cf4"]

    before = tmp_path / "before.json"
    summary = json.loads(_collect(tmp_path, moto_server, before).stdout)
    assert summary["complete"] and summary["resources"]["tasks"] == 2
    code, answer = _query(tmp_path, before)
    expected_code, expected = _query(tmp_path, INCIDENT / "before")
    assert (code, answer["verdict"]) == (expected_code, expected["verdict"]) == (1, "blocked")
    assert answer["fixes"] == [f"aws ec2 authorize-security-group-ingress --group-id {redis_sg} --protocol tcp "
                               f"--port 6379 --source-group {api_sg}"]
    # Same answer as the bundled JSON example, once its ids are translated to moto's.
    translated = list(expected["fixes"])
    for old, new in ids.items():
        translated = [fix.replace(old, new) for fix in translated]
    assert answer["fixes"] == translated
    assert [(b["code"], b.get("direction"), b["component"]) for b in answer["blockers"]] == \
        [(b["code"], b.get("direction"), ids.get(b["component"], b["component"])) for b in expected["blockers"]]

    fix = _fix_args(answer["fixes"][0])
    _client(moto_server)("ec2").authorize_security_group_ingress(GroupId=fix["group-id"], IpPermissions=[{
        "IpProtocol": fix["protocol"], "FromPort": int(fix["port"]), "ToPort": int(fix["port"]),
        "UserIdGroupPairs": [{"GroupId": fix["source-group"]}]}])

    after = tmp_path / "after.json"
    _collect(tmp_path, moto_server, after)
    code, answer = _query(tmp_path, after)
    expected_code, expected = _query(tmp_path, INCIDENT / "after")
    assert (code, answer["verdict"]) == (expected_code, expected["verdict"]) == (0, "reachable")
    assert answer["blockers"] == [] and answer["fixes"] == []
