#!/usr/bin/env bash
# Installs the Debian packages Outpost builds, runs and tests with.
# Runs apt-get only when something is missing; needs root (or sudo).
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config
	libwebsockets-dev libsqlite3-dev libmsgpack-dev libssl-dev libcriterion-dev
	sqlite3 openssl python3 procps
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: need root to install: ${missing[*]}" >&2; exit 1; }
	SUDO=sudo
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
