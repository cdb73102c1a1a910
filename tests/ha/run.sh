#!/usr/bin/env bash
# `make ha-test`: the service through PostgreSQL failovers under Patroni behind HAProxy (tests/ha/ha_test.py).
# Installs what it needs when absent: Debian's etcd-server, patroni and haproxy; nats-py in a virtualenv.
set -euo pipefail
cd "$(dirname "$0")/../.."

target=${CARGO_TARGET_DIR:-target}
venv=${PBX_HA_VENV:-$target/ha-venv}
if ! command -v etcd > /dev/null || ! command -v patroni > /dev/null || ! command -v haproxy > /dev/null; then
  echo "== installing etcd-server, patroni, haproxy"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server patroni haproxy > /dev/null
fi
if ! "$venv/bin/python" -c "import nats" 2> /dev/null; then
  echo "== installing nats-py in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "nats-py==2.9.0"
fi
cargo build -q -p pbx-server
"$venv/bin/python" tests/ha/ha_test.py
