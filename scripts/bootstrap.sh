#!/usr/bin/env bash
# Set up reachgraph on a fresh Debian machine: system packages, a virtual environment in .venv, the package.
#   bash scripts/bootstrap.sh          # runtime only
#   bash scripts/bootstrap.sh --test   # plus the test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "bootstrap: installing ${need_apt[*]} with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "bootstrap: please install ${need_apt[*]} (sudo apt-get install ${need_apt[*]}), then run this again" >&2
    exit 2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
echo "bootstrap: ready ($(.venv/bin/reachgraph --version 2>/dev/null || echo reachgraph installed))" >&2
