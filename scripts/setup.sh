#!/usr/bin/env bash
# Installs what the project needs besides Node and npm: nats-server (the message bus; required)
# and docker-compose (only to validate compose.yaml in a test; optional). Uses apt-get as root or
# with passwordless sudo; does nothing for what is already installed; otherwise says how to get it.
set -euo pipefail

have() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ] || [ -x "/usr/local/bin/$1" ]
}

missing=()
have nats-server || missing+=(nats-server)
have docker-compose || missing+=(docker-compose)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: nats-server and docker-compose are already installed"
  exit 0
fi

manual_help() {
  cat >&2 <<'HELP'
setup: could not install with apt-get. Get nats-server in one of these ways:
  sudo apt-get install nats-server          (Debian/Ubuntu)
  download a release archive from the NATS releases (github.com/nats-io/nats-server/releases)
  and put the nats-server binary on your PATH
or point the project at a running server with NATS_URL=nats://host:4222.
docker-compose is optional (a test validates compose.yaml with it): sudo apt-get install docker-compose
HELP
}

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
  else
    echo "setup: missing ${missing[*]}, and not root (no passwordless sudo)" >&2
    manual_help
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: missing ${missing[*]}, and there is no apt-get here" >&2
  manual_help
  exit 1
fi

echo "setup: installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
for package in "${missing[@]}"; do
  if ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$package"; then
    echo "setup: apt-get could not install $package" >&2
    if [ "$package" = nats-server ]; then
      manual_help
      exit 1
    fi
  fi
done

have nats-server || { manual_help; exit 1; }
echo "setup: done ($(nats-server --version 2>/dev/null || /usr/sbin/nats-server --version))"
