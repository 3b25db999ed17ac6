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
# Demo users: the demo customers belong to alice, bob, carol and dan;
# sue supervises alice and bob, tom carol and dan; eve is an executive.
# Random passwords go to demo/passwords (readable by you only).
add_user() { # NAME ROLE [--supervisor S]
	local pw
	pw=$(openssl rand -hex 8)
	printf '%s\n' "$pw" | build/server/outpostd user add "$@" --db "$DEMO/server.db" >/dev/null
	printf '%-6s %-11s %s\n' "$1" "$3" "$pw" >>"$DEMO/passwords"
}
if [ ! -f "$DEMO/server.db" ]; then
	build/server/outpostd demo --db "$DEMO/server.db" --customers 300
	rm -f "$DEMO/passwords"
	(umask 077 && : >"$DEMO/passwords")
	add_user admin --role admin
	add_user sue --role supervisor
	add_user tom --role supervisor
	add_user alice --role manager --supervisor sue
	add_user bob --role manager --supervisor sue
	add_user carol --role manager --supervisor tom
	add_user dan --role manager --supervisor tom
	add_user eve --role executive
fi

cat <<MSG

Outpost demo server: wss://127.0.0.1:$PORT   (database $DEMO/server.db)
Demo users and their passwords are in $DEMO/passwords. From another terminal:

  $ROOT/build/client/outpost --home /tmp/outpost-alice init --server wss://127.0.0.1:$PORT --ca $DEMO/cert.pem
  $ROOT/build/client/outpost --home /tmp/outpost-alice login --user alice    (asks for alice's password)
  $ROOT/build/client/outpost --home /tmp/outpost-alice sync
  $ROOT/build/client/outpost --home /tmp/outpost-alice customer list

alice receives her own customers; sue those of alice and bob; eve reads everything.

MSG
exec build/server/outpostd --db "$DEMO/server.db" --listen "127.0.0.1:$PORT" \
	--cert "$DEMO/cert.pem" --key "$DEMO/key.pem"
