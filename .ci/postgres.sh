#!/usr/bin/env bash
# Debian's PostgreSQL server binaries for the `team` tests (tests/team/). Only the binaries: each test session
# starts its own cluster in a temporary directory, as the unprivileged `postgres` user, on a loopback port.
# Called by .ci/run before `uv run pytest`; safe to run again (does nothing when initdb is present).
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
ls /usr/lib/postgresql/*/bin/initdb >/dev/null
