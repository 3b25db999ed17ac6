# lib.sh - helpers for the end-to-end scripts in tests/e2e.
#
# Source it first thing in a test script:
#
#   . "$(dirname "$0")/lib.sh"
#
# It turns on `set -euo pipefail`, makes a scratch directory ($E2E_DIR, under
# /tmp/outpost-e2e.XXXXXX) and installs an EXIT trap that kills every server
# and background client started through these helpers and removes the
# directory (set E2E_KEEP=1 to keep it for a post-mortem).
#
# The binaries come from $OUTPOSTD and $OUTPOST (set by ctest); when they are
# unset, the usual build directories of the checkout are tried.
#
# Everything runs over loopback TLS on 127.0.0.1 only.

set -euo pipefail
shopt -s inherit_errexit

E2E_NAME=$(basename "${0:-e2e}" .sh)
E2E_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---- messages and assertions ------------------------------------------------

# Messages go to the script's original stderr (fd $E2E_ERR), even from code
# whose stderr is redirected.
exec {E2E_ERR}>&2

log() { printf '[%s] %s\n' "$E2E_NAME" "$*" >&"$E2E_ERR"; }

# fail MESSAGE...: reports a failure and ends the script with status 1 -
# also from a subshell such as "$(...)", whose status an argument would
# otherwise mask: the subshell signals the main shell, which then exits.
E2E_MAIN_PID=$$
trap 'exit 1' USR1
fail() {
	printf '[%s] FAIL: %s\n' "$E2E_NAME" "$*" >&"$E2E_ERR"
	if [[ "$BASHPID" != "$E2E_MAIN_PID" ]]; then
		kill -USR1 "$E2E_MAIN_PID" 2>/dev/null || true
	fi
	exit 1
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
	[[ "$1" == "$2" ]] ||
		fail "${3:-values differ}: expected [$1], got [$2]"
}

# assert_ne UNEXPECTED ACTUAL [WHAT]
assert_ne() {
	[[ "$1" != "$2" ]] ||
		fail "${3:-values are equal}: did not expect [$1]"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
	[[ "$1" == *"$2"* ]] ||
		fail "${3:-text lacks an expected part}: [$2] not found in [$1]"
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
	[[ "$1" != *"$2"* ]] ||
		fail "${3:-text has an unexpected part}: [$2] found in [$1]"
}

# assert_match TEXT EXTENDED-REGEX [WHAT]
assert_match() {
	[[ "$1" =~ $2 ]] ||
		fail "${3:-text does not match}: [$1] !~ /$2/"
}

# assert_gt A B [WHAT]: integer A > B
assert_gt() {
	(($1 > $2)) || fail "${3:-comparison failed}: expected $1 > $2"
}

# assert_one_line TEXT [WHAT]: TEXT is exactly one non-empty line.
assert_one_line() {
	local n
	n=$(printf '%s' "$1" | grep -c '' || true)
	[[ -n "$1" && "$n" == 1 ]] ||
		fail "${2:-expected exactly one line}: got $n lines: [$1]"
}

# ---- binaries ---------------------------------------------------------------

_find_bin() { # VAR RELPATH
	local var=$1 rel=$2 d
	if [[ -n "${!var:-}" ]]; then
		[[ -x "${!var}" ]] || fail "$var=${!var} is not an executable"
		return
	fi
	for d in build-e2e build; do
		if [[ -x "$E2E_SRC/../../$d/$rel" ]]; then
			printf -v "$var" '%s' "$(cd "$E2E_SRC/../../$d" && pwd)/$rel"
			export "${var?}"
			return
		fi
	done
	fail "set $var to the $rel binary (ctest does this)"
}
_find_bin OUTPOSTD server/outpostd
_find_bin OUTPOST client/outpost

for _tool in python3 sqlite3 openssl timeout; do
	command -v "$_tool" >/dev/null || fail "$_tool is needed by the end-to-end tests"
done
unset _tool

# ---- scratch directory and cleanup -------------------------------------------

E2E_DIR=$(mktemp -d /tmp/outpost-e2e.XXXXXX)
_E2E_PIDS=()   # every process started in the background by these helpers

# _alive PID: true while PID runs (a zombie counts as gone).
_alive() {
	local st
	[[ -r /proc/$1/stat ]] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[[ -n "$st" && "$st" != Z && "$st" != X ]]
}

# _ppid PID: the parent of PID.
_ppid() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2
}

# _forget PID: drops a reaped PID from the list the cleanup kills.
_forget() {
	local p keep=()
	for p in "${_E2E_PIDS[@]}"; do
		[[ "$p" == "$1" ]] || keep+=("$p")
	done
	_E2E_PIDS=("${keep[@]+"${keep[@]}"}")
}

_e2e_cleanup() {
	local rc=$? pid f
	trap - EXIT
	set +e
	for pid in "${_E2E_PIDS[@]}"; do
		# only our own children: a reaped id may belong to someone else now
		if _alive "$pid" && [[ "$(_ppid "$pid")" == "$E2E_MAIN_PID" ]]; then
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	if ((rc != 0)); then
		for f in "$E2E_DIR"/server*.log; do
			[[ -f "$f" ]] || continue
			printf '[%s] ---- last lines of %s ----\n' "$E2E_NAME" "${f##*/}" >&"$E2E_ERR"
			tail -n 20 "$f" >&"$E2E_ERR"
		done
	fi
	if [[ -n "${E2E_KEEP:-}" ]]; then
		log "kept $E2E_DIR"
	else
		rm -rf "$E2E_DIR"
	fi
	if ((rc == 0)); then
		log "PASS"
	else
		log "FAILED (exit $rc)"
	fi
	exit "$rc"
}
trap _e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_until TIMEOUT_S DESCRIPTION COMMAND...: polls COMMAND every 20 ms
# until it succeeds; fails the test after TIMEOUT_S seconds.
wait_until() {
	local timeout=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + timeout))
	until "$@"; do
		((SECONDS < deadline)) || fail "timed out after ${timeout}s waiting for $what"
		sleep 0.02
	done
}

# wait_exit PID TIMEOUT_S: waits for a background PID to end and sets
# WAIT_RC to its exit status; fails the test (after killing it) on timeout.
wait_exit() {
	local pid=$1 timeout=$2 deadline
	deadline=$((SECONDS + timeout))
	while _alive "$pid"; do
		if ((SECONDS >= deadline)); then
			kill -9 "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			_forget "$pid"
			fail "process $pid did not end within ${timeout}s"
		fi
		sleep 0.02
	done 2>/dev/null # no "Killed" job notices from the shell
	WAIT_RC=0
	wait "$pid" 2>/dev/null || WAIT_RC=$?
	_forget "$pid"
}

# ---- server -----------------------------------------------------------------

CERT=$E2E_DIR/cert.pem
KEY=$E2E_DIR/key.pem
SERVER_PID=
SERVER_PORT=
SERVER_URL=
SERVER_DB=
SERVER_LOG=
SERVER_ARGS=()
_SERVER_N=0

make_cert() {
	[[ -s "$CERT" && -s "$KEY" ]] && return
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$KEY" -out "$CERT" -days 30 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1 ||
		fail "openssl could not make a test certificate"
}

# _launch DB PORT ARGS...: one attempt to start outpostd; returns 0 when it
# is listening, 1 when it exited (e.g. the port is still busy).
_launch() {
	local db=$1 port=$2 deadline line
	shift 2
	_SERVER_N=$((_SERVER_N + 1))
	SERVER_LOG=$E2E_DIR/server.$_SERVER_N.log
	: >"$SERVER_LOG"
	"$OUTPOSTD" --db "$db" --listen "127.0.0.1:$port" --cert "$CERT" --key "$KEY" \
		"$@" >"$SERVER_LOG" 2>&1 </dev/null &
	SERVER_PID=$!
	_E2E_PIDS+=("$SERVER_PID")
	deadline=$((SECONDS + 10))
	while :; do
		line=$(grep -m1 '^outpostd: listening on wss://' "$SERVER_LOG" 2>/dev/null || true)
		[[ -n "$line" ]] && break
		if ! _alive "$SERVER_PID"; then
			wait "$SERVER_PID" 2>/dev/null || true
			_forget "$SERVER_PID"
			SERVER_PID=
			return 1
		fi
		if ((SECONDS >= deadline)); then
			cat "$SERVER_LOG" >&"$E2E_ERR"
			fail "outpostd did not report listening within 10s"
		fi
		sleep 0.02
	done
	[[ "$line" =~ wss://127\.0\.0\.1:([0-9]+) ]] ||
		fail "cannot find the port in: $line"
	SERVER_PORT=${BASH_REMATCH[1]}
	SERVER_URL=wss://127.0.0.1:$SERVER_PORT
	SERVER_DB=$db
	SERVER_ARGS=("$@")
	export SERVER_PID SERVER_PORT SERVER_URL SERVER_DB SERVER_LOG
	return 0
}

# start_server DB [OUTPOSTD ARGS...]: starts outpostd on an ephemeral port
# of 127.0.0.1 with DB; sets SERVER_PID, SERVER_PORT, SERVER_URL, SERVER_LOG.
start_server() {
	local db=$1
	shift
	[[ -z "$SERVER_PID" ]] || fail "start_server: a server is already running"
	make_cert
	_launch "$db" 0 "$@" || {
		cat "$SERVER_LOG" >&"$E2E_ERR"
		fail "outpostd exited before listening"
	}
	log "server pid $SERVER_PID on $SERVER_URL (db ${db##*/})"
}

# restart_server: starts outpostd again on the SAME port and db, with the
# same arguments, after stop_server or kill_server. Retries for up to 10 s
# while the port is still held.
restart_server() {
	local port=$SERVER_PORT db=$SERVER_DB deadline
	local args=("${SERVER_ARGS[@]+"${SERVER_ARGS[@]}"}")
	[[ -n "$port" && -z "$SERVER_PID" ]] || fail "restart_server: stop the server first"
	deadline=$((SECONDS + 10))
	until _launch "$db" "$port" "${args[@]+"${args[@]}"}"; do
		((SECONDS < deadline)) || {
			cat "$SERVER_LOG" >&"$E2E_ERR"
			fail "outpostd could not listen on port $port again"
		}
		sleep 0.2
	done
	assert_eq "$port" "$SERVER_PORT" "restarted server port"
	log "server restarted, pid $SERVER_PID on $SERVER_URL"
}

# stop_server: SIGTERM, then waits (10 s at most) for a clean exit 0.
stop_server() {
	[[ -n "$SERVER_PID" ]] || fail "stop_server: no server is running"
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	wait_exit "$SERVER_PID" 10
	SERVER_PID=
	assert_eq 0 "$WAIT_RC" "outpostd exit status after SIGTERM"
}

# kill_server: SIGKILL, no chance to clean up.
kill_server() {
	[[ -n "$SERVER_PID" ]] || fail "kill_server: no server is running"
	kill -9 "$SERVER_PID" 2>/dev/null || true
	wait_exit "$SERVER_PID" 10
	SERVER_PID=
}

# server_sql SQL: runs a query on the server database (fine while it runs:
# the database is in WAL mode).
server_sql() {
	sqlite3 -batch -bail -cmd '.timeout 5000' "$SERVER_DB" "$1" ||
		fail "sqlite3 failed on the server db: $1"
}

# sql DB SQL: runs a query on any database (a replica, for instance).
sql() {
	sqlite3 -batch -bail -cmd '.timeout 5000' "$1" "$2" ||
		fail "sqlite3 failed on $1: $2"
}

# ---- client -----------------------------------------------------------------

OP_TIMEOUT=${OP_TIMEOUT:-90}

# op HOME ARGS...: runs the client on the replica in HOME (a name is taken
# relative to $E2E_DIR). Never hangs for more than $OP_TIMEOUT seconds.
op() {
	local home=$1
	shift
	[[ "$home" == /* ]] || home=$E2E_DIR/$home
	timeout -k 5 "$OP_TIMEOUT" "$OUTPOST" --home "$home" "$@"
}

# run_op HOME ARGS...: like op, but never fails; sets OUT, ERR and RC.
run_op() {
	local f=$E2E_DIR/.run_op.$BASHPID
	RC=0
	op "$@" >"$f.out" 2>"$f.err" || RC=$?
	OUT=$(cat "$f.out")
	ERR=$(cat "$f.err")
	rm -f "$f.out" "$f.err"
}

# op_ok HOME ARGS...: runs the client and fails the test if it fails;
# prints its stdout.
op_ok() {
	run_op "$@"
	((RC == 0)) || fail "outpost ${*:2} (home $1) exited $RC: $ERR"
	printf '%s\n' "$OUT"
}

# op_bg HOME NAME ARGS...: starts the client in the background with stdout
# and stderr in $E2E_DIR/NAME.out and NAME.err; sets BG_PID.
op_bg() {
	local home=$1 name=$2
	shift 2
	[[ "$home" == /* ]] || home=$E2E_DIR/$home
	"$OUTPOST" --home "$home" "$@" >"$E2E_DIR/$name.out" 2>"$E2E_DIR/$name.err" </dev/null &
	BG_PID=$!
	_E2E_PIDS+=("$BG_PID")
}

# add_user NAME ROLE [ADMIN ARGS...]: creates a user in the server database
# ($SERVER_DB, or $USER_DB when set) with the password "pw-NAME"; extra
# arguments go to `outpostd user add` (--supervisor S, --full-name T).
add_user() {
	local name=$1 role=$2 db=${USER_DB:-$SERVER_DB}
	shift 2
	[[ -n "$db" ]] || fail "add_user: no server database yet"
	printf 'pw-%s\n' "$name" | "$OUTPOSTD" user add "$name" --role "$role" "$@" \
		--db "$db" >/dev/null || fail "outpostd user add $name --role $role failed"
}

# has_user NAME: true if the server database knows the user.
has_user() {
	[[ "$(sql "${USER_DB:-$SERVER_DB}" "select count(*) from users where name = '$1'")" == 1 ]]
}

# login HOME USER: logs the replica in HOME in as USER (password pw-USER).
login() {
	printf 'pw-%s\n' "$2" | op "$1" login --user "$2" >/dev/null ||
		fail "outpost login --user $2 (home $1) failed"
}

# init_client HOME [USER]: a new replica for the running server, logged in
# as USER (default: "admin", a system administrator created on first use,
# who may read and write everything).
init_client() {
	local user=${2:-admin}
	op_ok "$1" init --server "$SERVER_URL" --ca "$CERT" >/dev/null
	if [[ "$user" == admin ]] && ! has_user admin; then
		add_user admin admin
	fi
	login "$1" "$user"
}

# sync_ok HOME: syncs and prints the `sync --json` object.
sync_ok() {
	op_ok "$1" sync --json
}

# pending HOME: the number of changes waiting to be pushed.
pending() {
	op_ok "$1" status --json | json_get pending
}

# count_customers HOME / count_contacts HOME
count_customers() { op_ok "$1" customer list --json | json_len; }
count_contacts() { op_ok "$1" contact list --json | json_len; }

# add_customers HOME PREFIX COUNT [FIELD ARGS...]: adds customers named
# PREFIX-1 .. PREFIX-COUNT offline, with loops of `customer add` in 4
# parallel workers (the replica serialises its writers); extra arguments are
# passed to every add.
add_customers() {
	local home=$1 prefix=$2 count=$3 workers=4 w pids=() rc=0
	shift 3
	for ((w = 0; w < workers; w++)); do
		(
			for ((i = w + 1; i <= count; i += workers)); do
				op "$home" customer add --name "$prefix-$i" "$@" >/dev/null ||
					fail "customer add --name $prefix-$i failed"
			done
		) &
		pids+=($!)
		_E2E_PIDS+=($!)
	done
	for w in "${pids[@]}"; do
		wait_exit "$w" 300
		((WAIT_RC == 0)) || rc=$WAIT_RC
	done
	((rc == 0)) || fail "adding $count customers to $home failed"
}

# ---- JSON (python3, standard library only) ----------------------------------

# json_eval EXPR: evaluates a Python expression over the JSON document on
# stdin, bound to `d`; prints strings raw, other values as JSON.
json_eval() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1], {"d": d, "json": json})
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))
' "$1" || fail "json_eval $1: bad input or expression"
}

# json_get KEY: the value of KEY of the object on stdin (null -> "null").
json_get() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
if not isinstance(d, dict) or sys.argv[1] not in d:
    sys.exit("json_get: no key %r in %s" % (sys.argv[1], json.dumps(d)[:300]))
r = d[sys.argv[1]]
print(r if isinstance(r, str) else json.dumps(r))
' "$1" || fail "json_get $1 failed"
}

# json_len: the length of the array (or object) on stdin.
json_len() {
	json_eval 'len(d)'
}

# json_canon: the document on stdin with sorted keys, one line.
json_canon() {
	json_eval 'd'
}

# server_json SQL: the rows of a query on the server database as a JSON
# array of objects (sqlite3 -json), "[]" when there are none.
server_json() {
	local out
	out=$(sqlite3 -batch -bail -cmd '.timeout 5000' -json "$SERVER_DB" "$1") ||
		fail "sqlite3 failed on the server db: $1"
	printf '%s\n' "${out:-[]}"
}

# assert_matches_server HOME TABLE...: each TABLE listed on replica HOME
# holds exactly the server's rows of that table (see assert_rows_eq).
assert_matches_server() {
	local home=$1 t
	shift
	for t in "$@"; do
		op_ok "$home" "$t" list --json >"$E2E_DIR/$home.$t.json"
		server_json "select * from $t" >"$E2E_DIR/server.$t.json"
		assert_rows_eq "$E2E_DIR/$home.$t.json" "$E2E_DIR/server.$t.json" "${t}s on $home vs server"
	done
}

# assert_rows_eq FILE_A FILE_B WHAT: two files holding JSON arrays of
# objects with an "id" hold the same rows (order aside, numbers compared by
# value); on a difference it names the counts and a first differing row.
assert_rows_eq() {
	python3 - "$1" "$2" "$3" <<'PY' || fail "$3: the rows differ (see above)"
import json, sys
fa, fb, what = sys.argv[1:4]
a = {r["id"]: r for r in json.load(open(fa))}
b = {r["id"]: r for r in json.load(open(fb))}
msgs = []
if len(a) != len(b):
    msgs.append("%d rows against %d" % (len(a), len(b)))
for i in sorted(set(a) - set(b))[:3]:
    msgs.append("only in the first: %s" % json.dumps(a[i], sort_keys=True))
for i in sorted(set(b) - set(a))[:3]:
    msgs.append("only in the second: %s" % json.dumps(b[i], sort_keys=True))
diff = [i for i in sorted(set(a) & set(b)) if a[i] != b[i]]
for i in diff[:3]:
    msgs.append("differs:\n    %s\n    %s" % (json.dumps(a[i], sort_keys=True),
                                              json.dumps(b[i], sort_keys=True)))
if msgs:
    sys.stderr.write("%s: %s\n" % (what, "\n  ".join(msgs)))
    sys.exit(1)
PY
}

# assert_json_eq A B [WHAT]: the two JSON documents are equal as data.
assert_json_eq() {
	local a b
	a=$(printf '%s' "$1" | json_canon) || fail "${3:-json}: not JSON: $1"
	b=$(printf '%s' "$2" | json_canon) || fail "${3:-json}: not JSON: $2"
	[[ "$a" == "$b" ]] || fail "${3:-JSON documents differ}:
  expected $a
  got      $b"
}

# ---- users, roles and scope (test_login, test_roles, test_scope) ------------

# run_op_input INPUT HOME ARGS...: like run_op, with the line INPUT on the
# client's stdin (a password, for instance); sets OUT, ERR and RC.
run_op_input() {
	local input=$1 f=$E2E_DIR/.run_op.$BASHPID
	shift
	RC=0
	op "$@" <<<"$input" >"$f.out" 2>"$f.err" || RC=$?
	OUT=$(cat "$f.out")
	ERR=$(cat "$f.err")
	rm -f "$f.out" "$f.err"
}

# login_pw HOME USER PASSWORD: tries `outpost login --user USER` with
# PASSWORD on stdin; never fails; sets OUT, ERR and RC.
login_pw() {
	run_op_input "$3" "$1" login --user "$2"
}

# run_admin ARGS...: `outpostd ARGS... --db $SERVER_DB` (an administration
# command, which may run beside the server); never fails; sets OUT, ERR, RC.
run_admin() {
	local f=$E2E_DIR/.run_admin.$BASHPID
	RC=0
	timeout -k 5 60 "$OUTPOSTD" "$@" --db "$SERVER_DB" >"$f.out" 2>"$f.err" </dev/null || RC=$?
	OUT=$(cat "$f.out")
	ERR=$(cat "$f.err")
	rm -f "$f.out" "$f.err"
}

# admin_ok ARGS...: like run_admin, but fails the test when the command
# fails; prints its stdout.
admin_ok() {
	run_admin "$@"
	((RC == 0)) || fail "outpostd $* exited $RC: $ERR"
	printf '%s\n' "$OUT"
}

# start_plain_server DB [OUTPOSTD ARGS...]: like start_server, but serves
# plain ws:// with --dev-plain-ws (no --cert/--key). Sets the same SERVER_*
# variables (SERVER_URL is ws://...); stop it with stop_server.
start_plain_server() {
	local db=$1 deadline line
	shift
	[[ -z "$SERVER_PID" ]] || fail "start_plain_server: a server is already running"
	_SERVER_N=$((_SERVER_N + 1))
	SERVER_LOG=$E2E_DIR/server.$_SERVER_N.log
	: >"$SERVER_LOG"
	"$OUTPOSTD" --db "$db" --listen 127.0.0.1:0 --dev-plain-ws "$@" \
		>"$SERVER_LOG" 2>&1 </dev/null &
	SERVER_PID=$!
	_E2E_PIDS+=("$SERVER_PID")
	deadline=$((SECONDS + 10))
	until line=$(grep -m1 '^outpostd: listening on ws://' "$SERVER_LOG" 2>/dev/null); do
		if ! _alive "$SERVER_PID" || ((SECONDS >= deadline)); then
			cat "$SERVER_LOG" >&"$E2E_ERR"
			fail "outpostd --dev-plain-ws did not report listening on ws://"
		fi
		sleep 0.02
	done
	[[ "$line" =~ ws://127\.0\.0\.1:([0-9]+) ]] || fail "cannot find the port in: $line"
	SERVER_PORT=${BASH_REMATCH[1]}
	SERVER_URL=ws://127.0.0.1:$SERVER_PORT
	SERVER_DB=$db
	SERVER_ARGS=(--dev-plain-ws "$@")
	export SERVER_PID SERVER_PORT SERVER_URL SERVER_DB SERVER_LOG
	log "plain-ws server pid $SERVER_PID on $SERVER_URL (db ${db##*/})"
}

# replica_id HOME: the replica id of HOME (from status --json).
replica_id() {
	op_ok "$1" status --json | json_get replica
}

# ids_of: the sorted "id" values of the JSON array on stdin, space separated.
ids_of() {
	json_eval '" ".join(sorted(r["id"] for r in d))'
}

# local_ids HOME TABLE: the sorted ids of TABLE's records on replica HOME.
local_ids() {
	op_ok "$1" "$2" list --json | ids_of
}

# server_ids SQL: the sorted ids of the rows of a query on the server db
# (the query must select an "id" column).
server_ids() {
	server_json "$1" | ids_of
}

# assert_scope_matches_server HOME TABLE WHERE: the records of TABLE on
# replica HOME are exactly the server's rows `select * from TABLE where
# WHERE`, field for field (see assert_rows_eq).
assert_scope_matches_server() {
	local home=$1 t=$2 where=$3 f=$E2E_DIR/.scope.$BASHPID
	op_ok "$home" "$t" list --json >"$f.local.json"
	server_json "select * from $t where $where" >"$f.server.json"
	assert_rows_eq "$f.local.json" "$f.server.json" "${t}s on $home vs the server's where $where"
	rm -f "$f.local.json" "$f.server.json"
}

# owned_by USER...: an SQL condition on the customer view: owned by one of
# USERs. contacts_of USER...: the same for the contact view (by customer).
owned_by() {
	local u list=""
	for u in "$@"; do list+="${list:+,}'$u'"; done
	printf "owner in (%s)" "$list"
}
contacts_of() {
	printf "customer in (select id from customer where %s)" "$(owned_by "$@")"
}
