#!/usr/bin/env bash
# test_login.sh - users, logins and device tokens end to end:
#   1. outpostd refuses to serve without --cert/--key (exit 2, one line);
#      with --dev-plain-ws it serves ws://, warns, and a client logs in
#      and syncs over it;
#   2. a token of a --token-ttl 3 server expires: the sync says so and
#      keeps the outbox; a new login fixes it;
#   3. login with the right password stores a token (status); a wrong one
#      fails in one line and stores nothing; there is no --password; a sync
#      without login says "not logged in";
#   4. logout revokes the device on the server; changes made while logged
#      out are pushed after the next login;
#   5. `outpostd device revoke`: the next sync fails clearly, the outbox
#      stays; `user disable/enable`; `user passwd`;
#   6. five wrong passwords lock a user out of logins (even with the right
#      password), not other users, and not a device already logged in;
#   7. logging in as someone else: refused while changes wait, then a fresh
#      replica without the previous user's records;
#   8. no password in argv (ps, while a login waits for it), in the server
#      logs or in the databases;
#   9. (product bugs, checked last) a login refused by the failure limit is
#      audited; a failed login as someone else leaves the replica alone.
. "$(dirname "$0")/lib.sh"

NEW_PW='n3w-Secret-for-ann'
WRONG_PW='wrong-Secret-9271'
# Every password this script types; none may be stored or logged.
PASSWORDS=(pw-ann pw-bob pw-carl "$NEW_PW" "$WRONG_PW")

# login_fails HOME USER PASSWORD EXPECT: the login fails with exit 1 and
# one line on stderr holding EXPECT.
login_fails() {
	login_pw "$1" "$2" "$3"
	assert_eq 1 "$RC" "exit status of a refused login of $2 on $1 (stderr: $ERR)"
	assert_eq "" "$OUT" "stdout of a refused login of $2 on $1"
	assert_one_line "$ERR" "stderr of a refused login of $2 on $1"
	assert_contains "$ERR" "$4" "stderr of a refused login of $2 on $1"
}

# sync_fails HOME EXPECT: the sync fails with one line holding EXPECT.
sync_fails() {
	run_op "$1" sync --json
	assert_eq 1 "$RC" "exit status of a refused sync on $1 (stdout: $OUT)"
	assert_one_line "$ERR" "stderr of a refused sync on $1"
	assert_contains "$ERR" "$2" "stderr of a refused sync on $1"
}

# status_is HOME LOGGED_IN USER ROLE: what status --json says about who.
status_is() {
	local s
	s=$(op_ok "$1" status --json)
	assert_eq "$2|$3|$4" \
		"$(json_eval '"%s|%s|%s" % (json.dumps(d["logged_in"]), d["user"], d["role"])' <<<"$s")" \
		"logged_in|user|role in the status of $1: $s"
}

# token_rows HOME: how many tokens the replica of HOME keeps.
token_rows() {
	sql "$E2E_DIR/$1/replica.db" "select count(*) from meta where key = 'token'"
}

# device_field REPLICA KEY: a field of the device in `outpostd device list --json`.
device_field() {
	admin_ok device list --json | json_eval "[x for x in d if x['replica'] == '$1'][0]['$2']"
}

# ---- 1. TLS is required; --dev-plain-ws -------------------------------------------
log "outpostd without --cert/--key and without --dev-plain-ws refuses to start"
RC=0
timeout 30 "$OUTPOSTD" --db "$E2E_DIR/none.db" --listen 127.0.0.1:0 \
	>"$E2E_DIR/nocert.out" 2>"$E2E_DIR/nocert.err" </dev/null || RC=$?
assert_eq 2 "$RC" "exit status of outpostd without a certificate"
assert_eq "" "$(cat "$E2E_DIR/nocert.out")" "stdout of outpostd without a certificate"
assert_one_line "$(cat "$E2E_DIR/nocert.err")" "stderr of outpostd without a certificate"
assert_contains "$(cat "$E2E_DIR/nocert.err")" "--cert" "stderr of outpostd without a certificate"
[[ ! -e "$E2E_DIR/none.db" ]] || fail "outpostd created its database before refusing to start"

log "--dev-plain-ws serves ws:// with a warning"
start_plain_server "$E2E_DIR/plain.db"
assert_contains "$(cat "$SERVER_LOG")" "WARNING" "the plain-ws server's log"
assert_contains "$(cat "$SERVER_LOG")" "unencrypted" "the plain-ws server's log"
add_user ann manager
run_op P init --server "$SERVER_URL"
assert_eq 0 "$RC" "init with a ws:// server (stderr: $ERR)"
assert_contains "$ERR" "not encrypted" "init's warning about ws://"
login P ann
status_is P true ann manager
ID=$(op_ok P customer add --name 'Plain Ltd')
s=$(sync_ok P)
assert_eq 1 "$(json_get acknowledged <<<"$s")" "changes pushed over ws://"
assert_eq "Plain Ltd|ann" "$(server_sql "select name, owner from customer where id = '$ID'")" \
	"the customer pushed over ws://, on the server"
stop_server

# ---- 2. token expiry ----------------------------------------------------------------
# Nothing here must happen within the token's 3 s: the checks wait for the
# expiry, never race it.
log "a --token-ttl 3 server: the token expires, a new login fixes it"
start_server "$E2E_DIR/ttl.db" --token-ttl 3
add_user ann manager
init_client T ann
exp=$(device_field "$(replica_id T)" expires)
created=$(device_field "$(replica_id T)" created)
assert_eq 3000 "$((exp - created))" "token lifetime (ms) on a --token-ttl 3 server"
ID=$(op_ok T customer add --name 'Late Ltd')
expired() { (($(date +%s%3N) > exp + 200)); }
wait_until 10 "the token to expire" expired
sync_fails T "expired"
assert_eq 1 "$(pending T)" "changes kept on T after the expired sync"
status_is T false ann manager # the token it holds has expired
assert_eq null "$(op_ok T status --json | json_get token_expires)" "token_expires of an expired token"
login T ann
s=$(sync_ok T)
assert_eq 1 "$(json_get acknowledged <<<"$s")" "changes pushed after the new login"
assert_eq 1 "$(server_sql "select count(*) from customer where id = '$ID'")" \
	"the change made with an expired token, on the server"
stop_server

# ---- 3. login -------------------------------------------------------------------------
start_server "$E2E_DIR/server.db"
add_user ann manager
add_user bob manager
op_ok A init --server "$SERVER_URL" --ca "$CERT" >/dev/null

log "sync before any login"
sync_fails A "not logged in"
status_is A false None None

log "a wrong password fails in one line and stores nothing"
login_fails A ann "$WRONG_PW" "wrong user name or password"
status_is A false None None
assert_eq 0 "$(token_rows A)" "tokens stored by a failed login"
assert_eq 0 "$(admin_ok device list --json | json_len)" "devices registered by a failed login"

log "there is no --password option"
run_op A login --user ann --password pw-ann
assert_eq 1 "$RC" "exit status of login --password"
assert_one_line "$ERR" "stderr of login --password"
assert_contains "$ERR" 'unexpected argument "--password"' "stderr of login --password"
status_is A false None None

log "the right password"
login_pw A ann pw-ann
assert_eq 0 "$RC" "exit status of ann's login (stderr: $ERR)"
REP_A=$(replica_id A)
assert_contains "$OUT" "logged in as ann (manager) on replica $REP_A" "login's message"
status_is A true ann manager
assert_eq 1 "$(token_rows A)" "tokens stored by the login"
assert_eq "ann|false" "$(device_field "$REP_A" user)|$(device_field "$REP_A" revoked)" \
	"A's device on the server"
C1=$(op_ok A customer add --name 'Ann One')
assert_eq 1 "$(json_get acknowledged <<<"$(sync_ok A)")" "changes pushed by A"
assert_eq ann "$(server_sql "select owner from customer where id = '$C1'")" \
	"owner of a customer made by ann"

# ---- 4. logout ------------------------------------------------------------------------
log "logout revokes the device on the server"
out=$(op_ok A logout)
assert_contains "$out" "logged out ann" "logout's message"
assert_eq true "$(device_field "$REP_A" revoked)" "A's device revoked on the server after logout"
status_is A false ann manager
assert_eq 0 "$(token_rows A)" "tokens kept after logout"
assert_eq 1 "$(admin_ok audit --json --user ann | json_eval "len([a for a in d if a['action'] == 'logout'])")" \
	"logout rows in ann's audit"

log "changes made while logged out wait for the next login"
C2=$(op_ok A customer add --name 'Ann Offline')
op_ok A customer edit "$C1" --note 'edited while logged out' >/dev/null
assert_eq 2 "$(pending A)" "pending on A while logged out"
sync_fails A "log"
assert_contains "$ERR" "login" "the refused sync asks to log in"
assert_eq 2 "$(pending A)" "pending on A after the refused sync"
login A ann
assert_eq "$REP_A" "$(replica_id A)" "A's replica id after logging in again"
s=$(sync_ok A)
assert_eq 2 "$(json_get acknowledged <<<"$s")" "changes pushed after logging in again"
assert_eq 0 "$(pending A)" "pending on A after the sync"
assert_eq "Ann Offline|ann" "$(server_sql "select name, owner from customer where id = '$C2'")" \
	"the customer made while logged out, on the server"
assert_eq "edited while logged out" "$(server_sql "select note from customer where id = '$C1'")" \
	"the edit made while logged out, on the server"
assert_eq false "$(device_field "$REP_A" revoked)" "A's device after logging in again"

# ---- 5. revoke, disable, passwd --------------------------------------------------------
log "outpostd device revoke: the next sync fails clearly and keeps the outbox"
out=$(admin_ok device revoke "$REP_A")
assert_contains "$out" "revoked device $REP_A" "device revoke's message"
assert_eq true "$(device_field "$REP_A" revoked)" "A's device after device revoke"
C3=$(op_ok A customer add --name 'Ann Revoked')
sync_fails A "revoked"
assert_eq 1 "$(pending A)" "pending on A after the revoked sync"
assert_eq 0 "$(server_sql "select count(*) from customer where id = '$C3'")" \
	"a change of a revoked device, on the server"
assert_contains "$(op_ok A status --json | json_get last_error)" "revoked" "A's last error"
login A ann
assert_eq 1 "$(json_get acknowledged <<<"$(sync_ok A)")" "changes pushed after the revocation"
assert_eq 1 "$(server_sql "select count(*) from customer where id = '$C3'")" \
	"the change kept through the revocation, on the server"

log "outpostd user disable / enable"
admin_ok user disable ann >/dev/null
op_ok A customer edit "$C3" --note 'while disabled' >/dev/null
sync_fails A "disabled"
assert_eq 1 "$(pending A)" "pending on A while ann is disabled"
login_fails A ann pw-ann "disabled"
assert_eq "[]" "$(admin_ok user list --json | json_eval "[u['name'] for u in d if u['name'] == 'ann' and not u['disabled']]")" \
	"ann listed as disabled"
admin_ok user enable ann >/dev/null
assert_eq 1 "$(json_get acknowledged <<<"$(sync_ok A)")" "changes pushed after enable"
assert_eq "while disabled" "$(server_sql "select note from customer where id = '$C3'")" \
	"the change made while disabled, on the server"

log "outpostd user passwd: the old password is refused, the new one accepted"
"$OUTPOSTD" user passwd ann --db "$SERVER_DB" <<<"$NEW_PW" >/dev/null ||
	fail "outpostd user passwd ann failed"
login_fails A ann pw-ann "wrong user name or password"
status_is A true ann manager # the refused login changed nothing here
login_pw A ann "$NEW_PW"
assert_eq 0 "$RC" "login with the new password (stderr: $ERR)"
sync_ok A >/dev/null

log "outpostd user passwd --revoke-devices: every device of ann must log in again"
out=$("$OUTPOSTD" user passwd ann --revoke-devices --db "$SERVER_DB" <<<"$NEW_PW") ||
	fail "outpostd user passwd ann --revoke-devices failed"
assert_match "$out" 'revoked [1-9][0-9]* device' "the message of passwd --revoke-devices"
assert_eq "[]" "$(admin_ok device list --user ann --json | json_eval '[x["replica"] for x in d if not x["revoked"]]')" \
	"ann's devices still usable after passwd --revoke-devices"
run_op A sync
assert_ne 0 "$RC" "a sync with a token revoked by passwd --revoke-devices"
assert_contains "$ERR" "log in again" "the error of that sync"
login_pw A ann "$NEW_PW"
assert_eq 0 "$RC" "login after passwd --revoke-devices (stderr: $ERR)"
sync_ok A >/dev/null

# ---- 6. too many failed logins --------------------------------------------------------
log "five wrong passwords lock ann out of logins, not bob, not A's token"
op_ok B init --server "$SERVER_URL" --ca "$CERT" >/dev/null
for _ in 1 2 3 4 5; do
	login_fails B ann "$WRONG_PW" "wrong user name or password"
done
login_fails B ann "$NEW_PW" "too many failed logins"
status_is B false None None
op_ok C init --server "$SERVER_URL" --ca "$CERT" >/dev/null
log "bob logs in meanwhile; his password is not in the argv of the waiting login (ps)"
mkfifo "$E2E_DIR/pw.fifo"
exec {PWFD}<>"$E2E_DIR/pw.fifo"
"$OUTPOST" --home "$E2E_DIR/C" login --user bob <&"$PWFD" >"$E2E_DIR/c.out" 2>"$E2E_DIR/c.err" &
WPID=$!
_E2E_PIDS+=("$WPID")
exec_done() { grep -q -- '--user' "/proc/$WPID/cmdline" 2>/dev/null; }
wait_until 20 "outpost login to start" exec_done
args=$(tr '\0' ' ' <"/proc/$WPID/cmdline")
assert_contains "$args" "login --user bob" "argv of the waiting login"
all=$(ps -eo args=)
assert_contains "$all" "login --user bob" "ps output while the login waits"
for p in "${PASSWORDS[@]}"; do
	assert_not_contains "$all" "$p" "ps output while the login waits"
done
printf 'pw-bob\n' >&"$PWFD"
wait_exit "$WPID" 60
exec {PWFD}>&-
assert_eq 0 "$WAIT_RC" "the login fed through a pipe (stderr: $(cat "$E2E_DIR/c.err"))"
status_is C true bob manager

C4=$(op_ok A customer add --name 'Ann Locked Out')
s=$(sync_ok A)
assert_eq 1 "$(json_get acknowledged <<<"$s")" "A's sync while ann is locked out of logins"
assert_eq 1 "$(server_sql "select count(*) from customer where id = '$C4'")" \
	"A's change while ann is locked out, on the server"

# ---- 7. another user on the same device -----------------------------------------------
log "logging in as bob on ann's replica: refused while changes wait"
B1=$(op_ok C customer add --name 'Bob One')
sync_ok C >/dev/null
op_ok A customer add --name 'Ann Pending' >/dev/null
login_fails A bob pw-bob "wait in the outbox"
status_is A true ann manager
assert_eq "$REP_A" "$(replica_id A)" "A's replica id after the refused switch"
assert_eq 1 "$(pending A)" "pending on A after the refused switch"

log "after a sync the switch works and starts a fresh replica"
sync_ok A >/dev/null
login_pw A bob pw-bob
assert_eq 0 "$RC" "bob's login on A after the sync (stderr: $ERR)"
status_is A true bob manager
REP_A2=$(replica_id A)
assert_ne "$REP_A" "$REP_A2" "A's replica id after switching to bob"
assert_eq "" "$(local_ids A customer)" "customers on A right after the switch"
sync_ok A >/dev/null
assert_eq "$B1" "$(local_ids A customer)" "customers on A as bob after a sync"
assert_scope_matches_server A customer "$(owned_by bob)"
assert_eq 0 "$(op_ok A status --json | json_eval 'd["pending"] + d["rejected"] + d["conflicts"]')" \
	"pending, rejected and conflicts on A after the switch"
assert_eq "bob|false" "$(device_field "$REP_A2" user)|$(device_field "$REP_A2" revoked)" \
	"A's new device on the server"

# ---- 8. passwords never in argv, logs or databases -------------------------------------
log "no password in the server logs or databases"
for f in "$E2E_DIR"/server.*.log; do
	for p in "${PASSWORDS[@]}"; do
		if grep -qF -- "$p" "$f"; then fail "password $p found in ${f##*/}"; fi
	done
done
for db in plain.db ttl.db server.db; do
	dump=$(sqlite3 -batch "$E2E_DIR/$db" .dump) || fail "cannot dump $db"
	assert_contains "$dump" "INSERT INTO audit" "the audit rows in $db"
	for p in "${PASSWORDS[@]}"; do
		assert_not_contains "$dump" "$p" "the dump of $db"
	done
done
for h in A B C; do
	dump=$(sqlite3 -batch "$E2E_DIR/$h/replica.db" .dump) || fail "cannot dump replica $h"
	for p in "${PASSWORDS[@]}"; do
		assert_not_contains "$dump" "$p" "the dump of replica $h"
	done
done

log "the audit log has ann's logins and refusals"
au=$(admin_ok audit --json --user ann)
assert_gt "$(json_eval "len([a for a in d if a['action'] == 'login'])" <<<"$au")" 3 "ann's login rows"
assert_eq 7 "$(json_eval "len([a for a in d if a['action'] == 'login-failed' and 'wrong' in a['detail']])" <<<"$au")" \
	"ann's failed logins with a wrong password (1 + passwd 1 + flood 5)"
assert_eq 1 "$(json_eval "len([a for a in d if a['action'] == 'login-failed' and 'disabled' in a['detail']])" <<<"$au")" \
	"ann's refused login while disabled"

log "every login attempt is audited, also those refused by the failure limit"
n=$(admin_ok audit --json --user ann | json_eval "len([a for a in d if a['action'] == 'login-refused' and 'too many' in a['detail']])")
assert_gt "$n" 0 "login-refused rows of ann"

log "a failed login as another user leaves the replica alone"
before_ids=$(local_ids A customer)
login_fails A bbo pw-bob "wrong user name or password"
s=$(op_ok A status --json)
after="$(json_eval '"%s %s %s" % (d["replica"], d["user"], json.dumps(d["logged_in"]))' <<<"$s") $(local_ids A customer)"
assert_eq "$REP_A2 bob true $before_ids" "$after" "replica A after a failed login as another user"
