#!/usr/bin/env bash
# test_cli_errors.sh - every mistake on the command line gets one clear line
# on stderr, a non-zero exit status and no output, and leaves the replica
# untouched; commands before init say to run init; a sync with the server
# down fails clearly and keeps the local changes pending.
. "$(dirname "$0")/lib.sh"

ZERO_ID=0123456789abcdef0123456789abcdef

# snapshot HOME: a digest of the replica's records, outbox and metadata.
snapshot() {
	sql "$E2E_DIR/$1/replica.db" "
		select tbl, id, seq, alive, hex(state), data from rec order by tbl, id;
		select ctr, tbl, id, hex(change) from outbox order by ctr;
		select key, quote(value) from meta order by key;" | md5sum
}

# bad HOME EXPECT-IN-STDERR ARGS...: the command must fail with exactly one
# line on stderr that contains EXPECT-IN-STDERR, print nothing on stdout and
# change nothing in the replica (when there is one).
bad() {
	local home=$1 expect=$2 before="" after
	shift 2
	[[ -f "$E2E_DIR/$home/replica.db" ]] && before=$(snapshot "$home")
	run_op "$home" "$@"
	assert_ne 0 "$RC" "exit status of: outpost $*"
	assert_ne 124 "$RC" "outpost $* timed out"
	assert_eq "" "$OUT" "stdout of: outpost $*"
	assert_one_line "$ERR" "stderr of: outpost $*"
	assert_match "$ERR" '^outpost: ' "stderr of: outpost $*"
	assert_contains "$ERR" "$expect" "stderr of: outpost $*"
	if [[ -n "$before" ]]; then
		after=$(snapshot "$home")
		assert_eq "$before" "$after" "the replica after: outpost $*"
	fi
}

# ---- before init --------------------------------------------------------------------
log "commands before init"
for args in "status" "status --json" "sync" "customer list" "customer add --name Early" \
	"contact list" "customer show $ZERO_ID" "conflicts"; do
	# shellcheck disable=SC2086
	bad fresh "outpost init" $args
	[[ ! -e "$E2E_DIR/fresh/replica.db" ]] || fail "outpost $args created a replica before init"
done

log "init with a bad server URL"
bad fresh "wss://" init --server http://127.0.0.1:8443
bad fresh "wss://" init --server https://127.0.0.1:8443
bad fresh "port" init --server wss://127.0.0.1:99999
bad fresh "--server" init
bad fresh "init" init --server
bad fresh "ca" init --server wss://127.0.0.1:8443 --ca "$E2E_DIR/no-such-ca.pem"
[[ ! -e "$E2E_DIR/fresh/replica.db" ]] || fail "a failed init created a replica"

# ---- a replica with a little data ---------------------------------------------------
start_server "$E2E_DIR/server.db"
init_client A
CUST=$(op_ok A customer add --name 'Errors Inc' --email info@errors.example --satisfaction 3)
CONT=$(op_ok A contact add --customer "$CUST" --name 'Erin Error' --birthday 1980-01-31)
sync_ok A >/dev/null
op_ok A customer add --name 'Not yet pushed' >/dev/null
assert_eq 1 "$(pending A)" "pending on A"

log "unknown commands and options"
bad A "frobnicate" frobnicate
bad A "frobnicate" customer frobnicate
bad A "--colour" customer add --name X --colour red
bad A "--colour" customer edit "$CUST" --colour red
bad A "--colour" contact add --customer "$CUST" --name Y --colour red
bad A "--colour" customer list --colour
bad A "--colour" status --colour
bad A "--colour" sync --colour
bad A "customer" customer
bad A "--name" customer add --name
bad A "twice" customer add --name X --name Y

log "missing and invalid values"
bad A "--name" customer add --grade key
bad A "--name" contact add --customer "$CUST" --title Boss
bad A "--customer" contact add --name 'No Customer'
bad A "satisfaction" customer add --name X --satisfaction 9
bad A "satisfaction" customer add --name X --satisfaction 0
bad A "satisfaction" customer add --name X --satisfaction three
bad A "satisfaction" customer edit "$CUST" --satisfaction 9
bad A "credit" customer add --name X --credit abc
bad A "credit" customer add --name X --credit -5
bad A "credit" customer edit "$CUST" --credit abc
bad A "birthday" contact add --customer "$CUST" --name Y --birthday 2023-02-30
bad A "birthday" contact add --customer "$CUST" --name Y --birthday 1999-13-01
bad A "birthday" contact add --customer "$CUST" --name Y --birthday 31/01/1980
bad A "birthday" contact edit "$CONT" --birthday 2023-02-30
bad A "email" customer add --name X --email nope
bad A "email" customer edit "$CUST" --email nope
bad A "email" contact add --customer "$CUST" --name Y --email 'no pe@x.example'
bad A "name" customer edit "$CUST" --name ''
bad A "name" customer add --name ''
bad A "name" customer add --name "$(printf 'x%.0s' $(seq 1 300))"
bad A "UTF-8" customer add --name $'bad \xff\xfe bytes'
bad A "credit" customer add --name X --credit nan
bad A "credit" customer add --name X --credit 1e400
bad A "credit" customer add --name X --credit 0x10
bad A "needs a value" customer add --name --phone
bad A "control character" customer add --name "$(printf 'Bell\a')"
bad A "at least 4 digits" customer show abc
bad A "change" customer edit "$CUST"
bad A "extra" customer show "$CUST" extra
bad A "extra" sync extra

log "account commands"
bad A "--user" login
bad A "--user" login --user
bad A "not a user name" login --user 'Ann!'
bad A "not a user name" login --user "$(printf 'a%.0s' {1..33})"
bad A "unexpected" login --user ann --password secret
bad A "dismiss" rejected dismiss
bad A "not the number" rejected dismiss abc
bad A "not the number" rejected dismiss -1
bad A "no refused change" rejected dismiss 99
bad A "not the number" rejected retry x
bad A "no refused change" rejected retry 99
bad A "number" rejected retry
bad A "unknown argument" rejected everything
bad A "unexpected" logout now

log "unknown ids"
bad A "$ZERO_ID" contact add --customer "$ZERO_ID" --name 'Orphan'
bad A "$ZERO_ID" contact edit "$CONT" --customer "$ZERO_ID"
bad A "$ZERO_ID" customer edit "$ZERO_ID" --name Ghost
bad A "$ZERO_ID" customer show "$ZERO_ID"
bad A "$ZERO_ID" customer show "$ZERO_ID" --json
bad A "$ZERO_ID" customer delete "$ZERO_ID"
bad A "$ZERO_ID" contact edit "$ZERO_ID" --name Ghost
bad A "$ZERO_ID" contact show "$ZERO_ID"
bad A "$ZERO_ID" contact delete "$ZERO_ID"
bad A "$ZERO_ID" contact list --customer "$ZERO_ID"
# a contact id is not a customer id, nor the other way round
bad A "$CONT" customer show "$CONT"
bad A "$CUST" contact delete "$CUST"
bad A '""' customer show ''
bad A '%' customer show %
bad A '""' customer delete ''

# --home without a directory
RC=0
"$OUTPOST" --home >"$E2E_DIR/home.out" 2>"$E2E_DIR/home.err" || RC=$?
assert_ne 0 "$RC" "exit status of outpost --home without a directory"
assert_one_line "$(cat "$E2E_DIR/home.err")" "stderr of outpost --home without a directory"
assert_contains "$(cat "$E2E_DIR/home.err")" "--home" "stderr of outpost --home without a directory"

assert_eq 1 "$(pending A)" "pending on A after all the mistakes"
assert_eq 1 "$(count_contacts A)" "contacts on A after all the mistakes"
assert_eq 2 "$(count_customers A)" "customers on A after all the mistakes"

# ---- sync with the server down --------------------------------------------------
log "sync with the server down"
stop_server
op_ok A customer edit "$CUST" --phone '+1 555 0123' >/dev/null
assert_eq 2 "$(pending A)" "pending on A before the failed sync"
records_before=$(sql "$E2E_DIR/A/replica.db" "select count(*), group_concat(ctr) from outbox")
t0=$SECONDS
run_op A sync
assert_ne 0 "$RC" "exit status of a sync with the server down"
(((SECONDS - t0) < 30)) || fail "a sync with the server down took $((SECONDS - t0))s"
assert_eq "" "$OUT" "stdout of a sync with the server down"
assert_one_line "$ERR" "stderr of a sync with the server down"
assert_match "$ERR" '^outpost: sync failed: ' "stderr of a sync with the server down"
assert_contains "$ERR" "127.0.0.1:$SERVER_PORT" "the error names the server"
st=$(op_ok A status --json)
assert_eq 2 "$(json_get pending <<<"$st")" "pending on A after the failed sync"
assert_ne null "$(json_get last_error <<<"$st")" "last error in A's status"
assert_eq "$records_before" "$(sql "$E2E_DIR/A/replica.db" "select count(*), group_concat(ctr) from outbox")" \
	"A's outbox after the failed sync"
run_op A sync --json
assert_ne 0 "$RC" "exit status of sync --json with the server down"
assert_one_line "$ERR" "stderr of sync --json with the server down"

log "a server with a certificate the client does not trust"
other=$E2E_DIR/other
mkdir -p "$other"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$other/key.pem" -out "$other/cert.pem" -days 30 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1
restart_server
op_ok U init --server "$SERVER_URL" --ca "$other/cert.pem" >/dev/null
op_ok U customer add --name 'Untrusting' >/dev/null
has_user admin || add_user admin admin
RC=0
printf 'pw-admin\n' | op U login --user admin >"$E2E_DIR/u.out" 2>"$E2E_DIR/u.err" || RC=$?
assert_ne 0 "$RC" "exit status of a login to a server with an untrusted certificate"
assert_one_line "$(cat "$E2E_DIR/u.err")" "stderr of a login with an untrusted certificate"
assert_match "$(cat "$E2E_DIR/u.err")" '^outpost: login failed: .*(certificate|connect)' \
	"stderr of a login with an untrusted certificate"
assert_eq false "$(op_ok U status --json | json_get logged_in)" "U after the refused login"
run_op U sync
assert_ne 0 "$RC" "exit status of a sync without a login"
assert_one_line "$ERR" "stderr of a sync without a login"
assert_match "$ERR" '^outpost: sync failed: not logged in' "stderr of a sync without a login"
assert_eq 1 "$(pending U)" "pending on U after the failed sync"
assert_eq 0 "$(server_sql "select count(*) from customer where name = 'Untrusting'")" \
	"the untrusted client's customer on the server"

log "the kept changes go through once the server is back"
s=$(sync_ok A)
assert_eq 2 "$(json_get pushed <<<"$s")" "pushed by A once the server is back"
assert_eq 0 "$(pending A)" "pending on A after the good sync"
assert_eq null "$(op_ok A status --json | json_get last_error)" "last error on A after the good sync"
assert_eq '+1 555 0123' "$(server_sql "select phone from customer where id = '$CUST'")" "the edit on the server"
assert_eq 1 "$(server_sql "select count(*) from customer where name = 'Not yet pushed'")" \
	"the kept add on the server"
stop_server
