#!/usr/bin/env bash
# Makes sure what the tests need is there: the PostgreSQL server (started before the
# session on this kind of machine; started here if it is down) and, for the browser tests,
# Debian's chromium. A missing service makes the tests fail loudly, never skip.
set -euo pipefail

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it" >&2
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break; sleep 1; done
fi

if [ -d tests/browser ] && [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing and this user cannot install it (run as root, or apt-get install chromium)" >&2
    exit 1
  fi
fi
