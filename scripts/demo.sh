#!/usr/bin/env bash
# Quick start: installs dependencies, builds, and runs outpostd on
# 127.0.0.1 with a demo database and a development TLS certificate.
#   PORT=8443 scripts/demo.sh        (Ctrl-C stops the server)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${PORT:-8443}
DEMO=$ROOT/demo

bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target outpostd outpost

mkdir -p "$DEMO"
if [ ! -f "$DEMO/cert.pem" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$DEMO/key.pem" -out "$DEMO/cert.pem" -days 365 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
	chmod 600 "$DEMO/key.pem"
fi
if [ ! -f "$DEMO/server.db" ]; then
	build/server/outpostd demo --db "$DEMO/server.db" --customers 300
fi

cat <<MSG

Outpost demo server: wss://127.0.0.1:$PORT   (database $DEMO/server.db)
Point a client at it from another terminal:

  $ROOT/build/client/outpost --home /tmp/outpost-a init --server wss://127.0.0.1:$PORT --ca $DEMO/cert.pem
  $ROOT/build/client/outpost --home /tmp/outpost-a sync
  $ROOT/build/client/outpost --home /tmp/outpost-a customer list

MSG
exec build/server/outpostd --db "$DEMO/server.db" --listen "127.0.0.1:$PORT" \
	--cert "$DEMO/cert.pem" --key "$DEMO/key.pem"
