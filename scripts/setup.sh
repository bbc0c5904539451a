#!/usr/bin/env bash
# Makes sure the system packages the project needs besides Node are here, before `npm test` and
# `npm start` do anything else (both run it first). Usage: bash scripts/setup.sh [test|start]
#
#   nats-server     the message bus: required (for `start`, only when NATS_URL is unset)
#   openssl         certificates for credentials (the API facade's HTTPS) and TLS=1: required
#   docker-compose  only to validate compose.yaml in a test: optional (`test` only)
#
# Installs what is missing with apt-get as root or with passwordless sudo; does nothing for what is
# already installed. Otherwise it stops before anything else runs and prints the exact command.
set -euo pipefail

mode=${1:-test}
case "$mode" in test|start) ;; *) echo "usage: bash scripts/setup.sh [test|start]" >&2; exit 2 ;; esac

have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ] || [ -x "/usr/local/bin/$1" ]
}

required=()
optional=()
if [ "$mode" = test ] || [ -z "${NATS_URL:-}" ]; then
  have nats-server || required+=(nats-server)
fi
have openssl || required+=(openssl)
if [ "$mode" = test ]; then
  have docker-compose || optional+=(docker-compose)
fi

[ "${#required[@]}" -eq 0 ] && [ "${#optional[@]}" -eq 0 ] && exit 0

manual_help() {
  local packages="$*"
  cat >&2 <<HELP
setup: missing ${packages}. Install it, then run the same command again:
  sudo apt-get update && sudo apt-get install -y ${packages}          (Debian/Ubuntu)
Elsewhere take nats-server from a release of the NATS project and put it on your PATH,
or point everything at a running server with NATS_URL=nats://host:4222.
HELP
}

sudo_cmd=()
can_install=true
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
  else
    can_install=false
  fi
fi
command -v apt-get >/dev/null 2>&1 || can_install=false

if [ "$can_install" = false ]; then
  if [ "${#required[@]}" -gt 0 ]; then
    manual_help "${required[@]}"
    exit 1
  fi
  echo "setup: ${optional[*]} is not installed (optional: the compose.yaml test skips without it)" >&2
  exit 0
fi

missing=("${required[@]}" "${optional[@]}")
echo "setup: installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
for package in "${missing[@]}"; do
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$package" >/dev/null || echo "setup: apt-get could not install $package" >&2
done

still=()
for package in "${required[@]}"; do have "$package" || still+=("$package"); done
if [ "${#still[@]}" -gt 0 ]; then
  manual_help "${still[@]}"
  exit 1
fi
echo "setup: done"
