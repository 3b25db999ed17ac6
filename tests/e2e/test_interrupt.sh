#!/usr/bin/env bash
# test_interrupt.sh - syncs cut off in the middle:
#   1. the client is killed (SIGKILL) after its first push batch reached the
#      server; the next sync completes, nothing is lost or duplicated;
#   2. the server is killed (SIGKILL) in the middle of a client's pushes; the
#      client fails with a clear message, the restarted server (same port,
#      same db) takes the rest, a fresh client pulls everything;
#   3. a fresh client is killed in the middle of a long pull; the next sync
#      leaves it with exactly the server's records; the same when the server
#      is stopped (SIGTERM) during a pull: it exits cleanly, the client fails
#      clearly and completes after a restart.
. "$(dirname "$0")/lib.sh"

N=1500
# A 2 KB note per customer makes each push frame hold a few hundred changes
# and spreads the sync over several batches, so there is time to interrupt it.
NOTE=$(printf 'interrupt-test-%.0s' $(seq 1 128))

# push_lines: the number of push lines in the current server log.
push_lines() { grep -c ': push [0-9]*: ' "$SERVER_LOG" || true; }

start_server "$E2E_DIR/server.db" --log-level debug

# ---- 1. client killed mid-batch ---------------------------------------------------
log "1. client killed after its first push: adding $N customers on A"
init_client A
add_customers A A $N --note "$NOTE"
assert_eq $N "$(pending A)" "pending on A before the sync"

op_bg A sync-a1 sync --json
pid=$BG_PID
deadline=$((SECONDS + 60))
until grep -q ': push 1: ' "$SERVER_LOG"; do
	_alive "$pid" || fail "A's sync ended before any push was logged: $(cat "$E2E_DIR/sync-a1.err")"
	((SECONDS < deadline)) || fail "no push from A was logged within 60s"
	sleep 0.01
done
kill -9 "$pid"
wait_exit "$pid" 10
assert_eq 137 "$WAIT_RC" "A's sync was to be killed mid-way, but it had ended (output: $(cat "$E2E_DIR/sync-a1.out"))"
on_server=$(server_sql "select count(*) from customer where name like 'A-%'")
log "A killed with $on_server of $N customers on the server and $(pending A) pending"
assert_gt "$on_server" 0 "customers of A on the server after the kill"

s=$(sync_ok A)
log "A's second sync: $s"
assert_eq 0 "$(pending A)" "pending on A after the second sync"
assert_eq "$N|$N" "$(server_sql "select count(*), count(distinct name) from customer where name like 'A-%'")" \
	"A's customers on the server (count, distinct names)"
assert_eq "$N" "$(server_sql "select count(*) from customer")" "customers on the server"
assert_eq "$N" "$(count_customers A)" "customers on A"
s=$(sync_ok A)
assert_eq 0 "$(json_get pushed <<<"$s")" "pushed by a repeated sync on A"
assert_eq 0 "$(json_get pulled <<<"$s")" "pulled by a repeated sync on A"

# ---- 2. server killed mid-batch -----------------------------------------------------
log "2. server killed in the middle of B's pushes: adding $N customers on B"
init_client B
add_customers B B $N --note "$NOTE"
assert_eq $N "$(pending B)" "pending on B before the sync"
rep_b=$(op_ok B status --json | json_get replica)

before=$(push_lines)
op_bg B sync-b1 sync
pid=$BG_PID
deadline=$((SECONDS + 60))
until (($(push_lines) > before)); do
	_alive "$pid" || fail "B's sync ended before any push was logged: $(cat "$E2E_DIR/sync-b1.err")"
	((SECONDS < deadline)) || fail "no push from B was logged within 60s"
	sleep 0.01
done
kill_server
grep -q "replica $rep_b .*connected" "$SERVER_LOG" || fail "the server log does not show B's session"
wait_exit "$pid" 60
sync_err=$(cat "$E2E_DIR/sync-b1.err")
assert_ne 0 "$WAIT_RC" "exit status of B's sync when the server was killed (stdout: $(cat "$E2E_DIR/sync-b1.out"))"
assert_ne 137 "$WAIT_RC" "B's sync exit status"
assert_one_line "$sync_err" "stderr of B's failed sync"
assert_match "$sync_err" '^outpost: sync failed: ' "B's sync error message"
assert_eq "" "$(cat "$E2E_DIR/sync-b1.out")" "stdout of B's failed sync"
st=$(op_ok B status --json)
assert_ne null "$(json_get last_error <<<"$st")" "last error in B's status"
on_server=$(server_sql "select count(*) from customer where name like 'B-%'")
log "server killed with $on_server of $N of B's customers stored; B has $(json_get pending <<<"$st") pending; B said: $sync_err"
assert_gt "$on_server" 0 "customers of B on the server after the kill"

restart_server
s=$(sync_ok B)
log "B's second sync: $s"
assert_eq 0 "$(pending B)" "pending on B after the second sync"
assert_eq null "$(op_ok B status --json | json_get last_error)" "last error on B after a good sync"
assert_eq "$((2 * N))|$((2 * N))" "$(server_sql "select count(*), count(distinct name) from customer")" \
	"customers on the server (count, distinct names)"
assert_eq "$N" "$(server_sql "select count(*) from customer where name like 'B-%'")" "B's customers on the server"
assert_eq "$((2 * N))" "$(count_customers B)" "customers on B"

init_client C
sync_ok C >/dev/null
assert_eq "$((2 * N))" "$(count_customers C)" "customers on a fresh client C"
sync_ok A >/dev/null
for h in A B C; do
	assert_matches_server $h customer
done
stop_server

# ---- 3. pull interrupted -------------------------------------------------------------
log "3. a fresh client killed during a long pull"
"$OUTPOSTD" demo --db "$E2E_DIR/demo.db" --customers 3000 >/dev/null || fail "outpostd demo failed"
start_server "$E2E_DIR/demo.db" --log-level debug
n_cust=$(server_sql "select count(*) from customer")
n_cont=$(server_sql "select count(*) from contact")
n_all=$(server_sql "select count(*) from rec")
assert_eq 3000 "$n_cust" "demo customers on the server"

init_client D
op_bg D sync-d1 sync
pid=$BG_PID
cursor() { sql "$E2E_DIR/D/replica.db" "select coalesce((select value from meta where key = 'cursor'), 0)"; }
deadline=$((SECONDS + 60))
until (($(cursor) > 0)); do
	_alive "$pid" || fail "D's sync ended before its cursor moved: $(cat "$E2E_DIR/sync-d1.err")"
	((SECONDS < deadline)) || fail "D's cursor did not move within 60s"
	sleep 0.01
done
kill -9 "$pid"
wait_exit "$pid" 10
assert_eq 137 "$WAIT_RC" "D's sync was to be killed mid-pull, but it had ended"
c=$(cursor)
have=$(sql "$E2E_DIR/D/replica.db" "select count(*) from rec")
log "D killed at cursor $c with $have of $n_all records"
assert_gt "$n_all" "$have" "records on D after the kill (the pull was cut short)"

s=$(sync_ok D)
log "D's second sync: $s"
assert_eq $((n_all - have)) "$(json_get pulled <<<"$s")" "records pulled by D's second sync"
assert_eq "$n_cust" "$(count_customers D)" "customers on D against the server"
assert_eq "$n_cont" "$(count_contacts D)" "contacts on D against the server"
assert_matches_server D customer contact
s=$(sync_ok D)
assert_eq 0 "$(json_get pulled <<<"$s")" "pulled by a repeated sync on D"

log "3b. the server stopped (SIGTERM) during a fresh client's pull"
init_client E
op_bg E sync-e1 sync
pid=$BG_PID
deadline=$((SECONDS + 60))
until (($(sql "$E2E_DIR/E/replica.db" "select coalesce((select value from meta where key = 'cursor'), 0)") > 0)); do
	_alive "$pid" || fail "E's sync ended before its cursor moved: $(cat "$E2E_DIR/sync-e1.err")"
	((SECONDS < deadline)) || fail "E's cursor did not move within 60s"
	sleep 0.01
done
stop_server # asserts a clean exit 0 within 10 s
grep -q 'stopped cleanly' "$SERVER_LOG" || fail "the server did not log a clean stop"
wait_exit "$pid" 60
sync_err=$(cat "$E2E_DIR/sync-e1.err")
assert_ne 0 "$WAIT_RC" "exit status of E's sync when the server stopped (stdout: $(cat "$E2E_DIR/sync-e1.out"))"
assert_one_line "$sync_err" "stderr of E's failed sync"
assert_match "$sync_err" '^outpost: sync failed: ' "E's sync error message"
restart_server
sync_ok E >/dev/null
assert_eq "$n_cust" "$(count_customers E)" "customers on E against the server"
assert_eq "$n_cont" "$(count_contacts E)" "contacts on E against the server"
assert_matches_server E contact
stop_server
