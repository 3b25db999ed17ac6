#!/usr/bin/env bash
# test_conflicts.sh - concurrent offline edits on two replicas:
#   1. different fields of one record: both edits are kept everywhere, no
#      conflict is recorded;
#   2. the same field: A, B and the server agree on one winner (the later
#      write) and a conflict record keeps the losing value;
#   3. edit on B against delete on A: the edit keeps the record alive
#      everywhere and a conflict of kind "delete" is listed;
#   4. the same with the pushes in the other order.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_DIR/server.db"
init_client A
init_client B

# server_conflicts: `outpostd conflicts --json` on the running server's db.
server_conflicts() {
	timeout 30 "$OUTPOSTD" conflicts --db "$SERVER_DB" --json
}

# conflicts_for JSON_ARRAY REC: the conflicts of record REC, one JSON line.
conflicts_for() {
	json_eval "sorted([c for c in d if c['rec'] == '$2'], key=lambda c: (c['kind'], c['field'] or ''))" <<<"$1"
}

# sync_all: A, then B, then A again, so that everyone has everything.
sync_all() {
	sync_ok A >/dev/null
	SYNC_B=$(sync_ok B)
	sync_ok A >/dev/null
	assert_eq 0 "$(pending A)" "pending on A after sync_all"
	assert_eq 0 "$(pending B)" "pending on B after sync_all"
}

ID=$(op_ok A customer add --name 'Conflict Corp' --phone '+1 555 0100' \
	--email office@conflict.example --note 'original note' --owner carol)
sync_ok A >/dev/null
sync_ok B >/dev/null
op_ok B customer show "$ID" >/dev/null

# ---- 1. different fields --------------------------------------------------------
log "different fields edited offline on A and B"
op_ok A customer edit "$ID" --phone '+1 555 0111' >/dev/null
op_ok B customer edit "$ID" --email buyer@conflict.example --satisfaction 2 >/dev/null
sync_all
assert_eq 0 "$(json_get conflicts <<<"$SYNC_B")" "conflicts reported by B's sync"
for h in A B; do
	s=$(op_ok $h customer show "$ID" --json)
	assert_eq '+1 555 0111' "$(json_get phone <<<"$s")" "A's phone on $h"
	assert_eq buyer@conflict.example "$(json_get email <<<"$s")" "B's email on $h"
	assert_eq 2 "$(json_get satisfaction <<<"$s")" "B's satisfaction on $h"
	assert_eq 'original note' "$(json_get note <<<"$s")" "untouched note on $h"
	assert_eq '[]' "$(op_ok $h conflicts --json)" "conflicts on $h"
done
assert_eq '+1 555 0111|buyer@conflict.example|2|original note' \
	"$(server_sql "select phone, email, satisfaction, note from customer where id = '$ID'")" \
	"the record on the server"
assert_eq '[]' "$(server_conflicts | json_canon)" "conflicts on the server"
assert_json_eq "$(op_ok A customer show "$ID" --json)" "$(op_ok B customer show "$ID" --json)" \
	"the record on A against B"

# ---- 2. same field ----------------------------------------------------------------
log "the same field edited offline on A and B"
op_ok A customer edit "$ID" --note 'note from A' >/dev/null
sleep 0.05 # B's write is the later one
op_ok B customer edit "$ID" --note 'note from B' >/dev/null
sync_all
assert_eq 1 "$(json_get conflicts <<<"$SYNC_B")" "conflicts reported by B's sync"
WIN='note from B'
LOSE='note from A'
for h in A B; do
	assert_eq "$WIN" "$(op_ok $h customer show "$ID" --json | json_get note)" "the winning note on $h"
done
assert_eq "$WIN" "$(server_sql "select note from customer where id = '$ID'")" "the note on the server"
assert_json_eq "$(op_ok A customer show "$ID" --json)" "$(op_ok B customer show "$ID" --json)" \
	"the record on A against B"

ca=$(conflicts_for "$(op_ok A conflicts --json)" "$ID")
cb=$(conflicts_for "$(op_ok B conflicts --json)" "$ID")
cs=$(conflicts_for "$(server_conflicts)" "$ID")
assert_eq 1 "$(json_len <<<"$cs")" "conflict records on the server: $cs"
c=$(json_eval 'd[0]' <<<"$cs")
assert_eq customer "$(json_get tbl <<<"$c")" "conflict table"
assert_eq note "$(json_get field <<<"$c")" "conflict field"
assert_eq field "$(json_get kind <<<"$c")" "conflict kind"
assert_eq "$WIN" "$(json_get winner <<<"$c")" "conflict winner"
assert_eq "$LOSE" "$(json_get loser <<<"$c")" "conflict loser"
rep_a=$(op_ok A status --json | json_get replica)
rep_b=$(op_ok B status --json | json_get replica)
assert_eq "$rep_b" "$(json_get winner_rep <<<"$c")" "replica of the winner"
assert_eq "$rep_a" "$(json_get loser_rep <<<"$c")" "replica of the loser"
assert_json_eq "$cs" "$ca" "conflicts on A against the server"
assert_json_eq "$cs" "$cb" "conflicts on B against the server"
assert_eq "note|$WIN|$LOSE" \
	"$(server_sql "select field, winner, loser from conflict where rec = '$ID' and kind = 'field'")" \
	"the conflict view on the server"
assert_eq 1 "$(op_ok A status --json | json_get conflicts)" "conflicts in A's status"
conflicts_text=$(op_ok B conflicts)
assert_contains "$conflicts_text" "$LOSE" "B's conflicts table shows the losing value"

# ---- 3. edit against delete -------------------------------------------------------
log "edit on B against delete on A"
op_ok A customer delete "$ID" >/dev/null
op_ok B customer edit "$ID" --phone '+1 555 0199' >/dev/null
run_op A customer show "$ID"
assert_ne 0 "$RC" "show on A right after the delete"
sync_all
for h in A B; do
	run_op $h customer show "$ID" --json
	assert_eq 0 "$RC" "show on $h of the record kept by B's edit (stderr: $ERR)"
	assert_eq '+1 555 0199' "$(json_get phone <<<"$OUT")" "B's phone on $h"
	assert_eq "$WIN" "$(json_get note <<<"$OUT")" "the note on $h"
	assert_eq 1 "$(op_ok $h customer list --json | json_eval "len([r for r in d if r['id'] == '$ID'])")" \
		"the record in $h's list"
done
assert_eq "+1 555 0199|$WIN" "$(server_sql "select phone, note from customer where id = '$ID'")" \
	"the record on the server"
assert_json_eq "$(op_ok A customer show "$ID" --json)" "$(op_ok B customer show "$ID" --json)" \
	"the record on A against B"

ca=$(conflicts_for "$(op_ok A conflicts --json)" "$ID")
cb=$(conflicts_for "$(op_ok B conflicts --json)" "$ID")
cs=$(conflicts_for "$(server_conflicts)" "$ID")
n_del=$(json_eval "len([c for c in d if c['kind'] == 'delete'])" <<<"$cs")
assert_eq 1 "$n_del" "delete conflicts on the server: $cs"
c=$(json_eval "[c for c in d if c['kind'] == 'delete'][0]" <<<"$cs")
assert_eq customer "$(json_get tbl <<<"$c")" "delete conflict table"
assert_eq "$rep_a" "$(json_get loser_rep <<<"$c")" "the losing delete's replica"
assert_eq "$rep_b" "$(json_get winner_rep <<<"$c")" "the surviving edit's replica"
assert_json_eq "$cs" "$ca" "conflicts on A against the server"
assert_json_eq "$cs" "$cb" "conflicts on B against the server"
assert_eq 1 "$(server_sql "select count(*) from conflict where rec = '$ID' and kind = 'delete'")" \
	"delete conflicts in the server's conflict view"

# ---- 4. the same again, the other way round --------------------------------------
log "reversed order: later write pushed first; delete pushed after the edit"
ID2=$(op_ok B customer add --name 'Reverse Ltd' --note 'original')
sync_all
op_ok B customer edit "$ID2" --note 'early note from B' >/dev/null
sleep 0.05
op_ok A customer edit "$ID2" --note 'late note from A' >/dev/null
sync_ok B >/dev/null # the earlier write reaches the server first
s=$(sync_ok A)
assert_eq 1 "$(json_get conflicts <<<"$s")" "conflicts reported by A's sync"
sync_ok B >/dev/null
for h in A B; do
	assert_eq 'late note from A' "$(op_ok $h customer show "$ID2" --json | json_get note)" \
		"the later note on $h"
done
assert_eq 'late note from A' "$(server_sql "select note from customer where id = '$ID2'")" \
	"the later note on the server"
c=$(conflicts_for "$(server_conflicts)" "$ID2")
assert_eq 1 "$(json_len <<<"$c")" "conflicts of the second record: $c"
assert_eq 'note|late note from A|early note from B' \
	"$(json_eval "'|'.join([d[0]['field'], d[0]['winner'], d[0]['loser']])" <<<"$c")" \
	"the conflict of the second record"

op_ok B customer delete "$ID2" >/dev/null
op_ok A customer edit "$ID2" --owner dave >/dev/null
sync_ok A >/dev/null # the edit reaches the server before the delete
sync_ok B >/dev/null
sync_ok A >/dev/null
for h in A B; do
	run_op $h customer show "$ID2" --json
	assert_eq 0 "$RC" "show on $h of the record kept by A's edit (stderr: $ERR)"
	assert_eq dave "$(json_get owner <<<"$OUT")" "A's owner on $h"
done
assert_eq dave "$(server_sql "select owner from customer where id = '$ID2'")" "the owner on the server"
c=$(conflicts_for "$(server_conflicts)" "$ID2")
assert_eq 1 "$(json_eval "len([x for x in d if x['kind'] == 'delete'])" <<<"$c")" \
	"delete conflicts of the second record: $c"
assert_json_eq "$c" "$(conflicts_for "$(op_ok A conflicts --json)" "$ID2")" "second record's conflicts on A"
assert_json_eq "$c" "$(conflicts_for "$(op_ok B conflicts --json)" "$ID2")" "second record's conflicts on B"

log "a person reverses conflicts: the losing note comes back, the losing delete is redone"
kf=$(json_eval "[x['id'] for x in d if x['kind'] == 'field'][0]" <<<"$c")
kd=$(json_eval "[x['id'] for x in d if x['kind'] == 'delete'][0]" <<<"$c")
out=$(op_ok B conflicts reverse "${kf:0:8}")
assert_contains "$out" "note set back to" "reverse of the field conflict"
sync_ok B >/dev/null
sync_ok A >/dev/null
for h in A B; do
	assert_eq 'early note from B' "$(op_ok $h customer show "$ID2" --json | json_get note)" \
		"the reversed note on $h"
done
out=$(op_ok A conflicts reverse "$kd")
assert_contains "$out" "deleted again" "reverse of the delete conflict"
sync_ok A >/dev/null
sync_ok B >/dev/null
run_op B customer show "$ID2"
assert_ne 0 "$RC" "the record deleted again by the reversal, on B"
assert_eq 0 "$(server_sql "select count(*) from customer where id = '$ID2'")" \
	"the record deleted again, on the server"
run_op A conflicts reverse 0000
assert_ne 0 "$RC" "reversing an unknown conflict"
assert_one_line "$ERR" "the error of reversing an unknown conflict"

# The server's conflict list reads the same after a clean stop.
stop_server
assert_json_eq "$cs" "$(conflicts_for "$(server_conflicts)" "$ID")" "server conflicts after a stop"
