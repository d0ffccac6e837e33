#!/usr/bin/env bash
# `make bench`: makes sure the plain-Python peer can run — Debian's python3 with psycopg2 (Debian serves
# python3-psycopg2; PyPI is not reachable from these machines). It never fails the bench: when psycopg2 cannot be
# installed (not root, no apt-get, another interpreter), the bench skips the peer and prints one line saying how to
# get it.
set -uo pipefail

python="${1:-/usr/bin/python3}"
if "$python" -c 'import psycopg2' 2>/dev/null; then
  exit 0
fi

if [[ "$python" == /usr/bin/python3 && "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "bench: installing python3-psycopg2 (apt-get) for the plain-Python peer"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq python3-psycopg2 >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq python3-psycopg2 >/dev/null 2>&1; } \
    || echo "bench: apt-get could not install python3-psycopg2"
fi
exit 0
