#!/usr/bin/env bash
# test_sync_basic.sh - two replicas and a server over loopback TLS:
# creates, edits and deletes of customers and contacts travel both ways
# with every field intact; the pending count drains on sync; seeded demo
# data arrives complete on a fresh client; a repeated sync moves nothing.
. "$(dirname "$0")/lib.sh"

# ---- demo data, seeded before the server starts -------------------------------
"$OUTPOSTD" demo --db "$E2E_DIR/server.db" --customers 200 >/dev/null ||
	fail "outpostd demo failed"
start_server "$E2E_DIR/server.db"

n_srv=$(server_sql "select count(*) from customer")
assert_eq 200 "$n_srv" "demo customers on the server"
n_srv_contacts=$(server_sql "select count(*) from contact")
assert_gt "$n_srv_contacts" 0 "demo contacts on the server"

log "demo data on a fresh client"
init_client C
assert_eq 0 "$(pending C)" "pending on a fresh replica"
s=$(sync_ok C)
assert_eq 0 "$(json_get pushed <<<"$s")" "pushed by a fresh replica"
assert_eq $((n_srv + n_srv_contacts)) "$(json_get pulled <<<"$s")" "records pulled by a fresh replica"
assert_eq "$n_srv" "$(count_customers C)" "customers on C against the server"
assert_eq "$n_srv_contacts" "$(count_contacts C)" "contacts on C against the server"
assert_matches_server C customer contact

log "a second sync is idempotent"
s=$(sync_ok C)
assert_eq 0 "$(json_get pushed <<<"$s")" "pushed by a repeated sync"
assert_eq 0 "$(json_get pulled <<<"$s")" "pulled by a repeated sync"
assert_eq "$n_srv" "$(count_customers C)" "customers on C after a repeated sync"

# ---- two clients --------------------------------------------------------------
init_client A
init_client B
sync_ok A >/dev/null
sync_ok B >/dev/null
assert_eq 0 "$(pending A)" "pending on A after its first sync"

log "create on A, visible on B with every field"
NAME='Åcme «Ünïcode» Trading Ltd'
NOTE=$'first line\nsecond line with "quotes", a \\ backslash and a\ttab'
ID=$(op_ok A customer add --name "$NAME" --grade key --region north \
	--industry manufacturing --address '1 High Street, Testville' \
	--phone '+44 20 1234 5678' --email sales@acme.example \
	--website https://acme.example --owner alice --credit 12.5 \
	--satisfaction 4 --note "$NOTE")
assert_match "$ID" '^[0-9a-f]{32}$' "customer add prints the new id"
assert_eq 1 "$(pending A)" "pending on A after one add"

a_show=$(op_ok A customer show "$ID" --json)
expect=$(python3 -c '
import json, sys
print(json.dumps({"id": sys.argv[1], "name": sys.argv[2], "grade": "key", "region": "north",
    "industry": "manufacturing", "address": "1 High Street, Testville",
    "phone": "+44 20 1234 5678", "email": "sales@acme.example",
    "website": "https://acme.example", "owner": "alice", "credit": 12.5,
    "satisfaction": 4, "note": sys.argv[3]}))' "$ID" "$NAME" "$NOTE")
assert_json_eq "$expect" "$a_show" "customer as written on A"

s=$(sync_ok A)
assert_eq 1 "$(json_get pushed <<<"$s")" "pushed by A"
assert_eq 1 "$(json_get acknowledged <<<"$s")" "acknowledged for A"
assert_eq 0 "$(pending A)" "pending on A after sync"
assert_eq "$NAME" "$(server_sql "select name from customer where id = '$ID'")" "name on the server"

run_op B customer show "$ID"
assert_ne 0 "$RC" "show on B before B syncs"
sync_ok B >/dev/null
b_show=$(op_ok B customer show "$ID" --json)
assert_json_eq "$a_show" "$b_show" "customer on B against A"
op_ok B customer list --json >"$E2E_DIR/b_list.json"
n=$(json_eval "len([r for r in d if r['id'] == '$ID'])" <"$E2E_DIR/b_list.json")
assert_eq 1 "$n" "the customer appears once in B's list"

log "contact on A, visible on B under the customer"
CID=$(op_ok A contact add --customer "$ID" --name 'Zoë Tester' --title Buyer \
	--phone '+44 20 7000 0001' --mobile '+44 7700 900001' \
	--email zoe@acme.example --birthday 1990-02-28 --note 'met at the fair')
assert_match "$CID" '^[0-9a-f]{32}$' "contact add prints the new id"
assert_eq 1 "$(pending A)" "pending on A after a contact add"
a_contact=$(op_ok A contact show "$CID" --json)
assert_eq "$ID" "$(json_get customer <<<"$a_contact")" "contact's customer on A"
assert_eq 1990-02-28 "$(json_get birthday <<<"$a_contact")" "contact's birthday on A"
sync_ok A >/dev/null
assert_eq 0 "$(pending A)" "pending on A after syncing the contact"
sync_ok B >/dev/null
b_contacts=$(op_ok B contact list --customer "$ID" --json)
assert_eq 1 "$(json_len <<<"$b_contacts")" "contacts of the customer on B"
assert_json_eq "$a_contact" "$(json_eval 'd[0]' <<<"$b_contacts")" "contact on B against A"
assert_eq 1 "$(server_sql "select count(*) from contact where customer = '$ID'")" \
	"contacts of the customer on the server"

log "edit on B, visible on A"
op_ok B customer edit "$ID" --phone '+44 20 9999 0000' --satisfaction 5 --credit 99.75 >/dev/null
op_ok B contact edit "$CID" --title 'Head of Purchasing' >/dev/null
assert_eq 2 "$(pending B)" "pending on B after two edits"
s=$(sync_ok B)
assert_eq 2 "$(json_get pushed <<<"$s")" "pushed by B"
assert_eq 0 "$(json_get conflicts <<<"$s")" "conflicts from B's edits"
assert_eq 0 "$(pending B)" "pending on B after sync"
sync_ok A >/dev/null
a_show=$(op_ok A customer show "$ID" --json)
assert_eq '+44 20 9999 0000' "$(json_get phone <<<"$a_show")" "edited phone on A"
assert_eq 5 "$(json_get satisfaction <<<"$a_show")" "edited satisfaction on A"
assert_eq 99.75 "$(json_get credit <<<"$a_show")" "edited credit on A"
assert_eq "$NOTE" "$(json_get note <<<"$a_show")" "untouched note on A"
assert_json_eq "$(op_ok B customer show "$ID" --json)" "$a_show" "customer on A against B"
assert_eq 'Head of Purchasing' "$(op_ok A contact show "$CID" --json | json_get title)" \
	"edited contact title on A"
assert_eq '+44 20 9999 0000' "$(server_sql "select phone from customer where id = '$ID'")" \
	"edited phone on the server"

log "pending counts N -> 0"
for i in 1 2 3; do
	op_ok A customer add --name "Pending $i" --region south >/dev/null
done
op_ok A customer edit "$ID" --owner bob >/dev/null
assert_eq 4 "$(pending A)" "pending on A after 3 adds and an edit"
s=$(sync_ok A)
assert_eq 4 "$(json_get pushed <<<"$s")" "pushed by A"
assert_eq 4 "$(json_get acknowledged <<<"$s")" "acknowledged for A"
st=$(op_ok A status --json)
assert_eq 0 "$(json_get pending <<<"$st")" "pending on A after sync"
assert_eq null "$(json_get last_error <<<"$st")" "last error on A"
assert_ne null "$(json_get last_sync <<<"$st")" "last sync on A"

log "delete on A (the customer takes its contact with it), gone from B"
out=$(op_ok A customer delete "$ID")
assert_contains "$out" "with 1 record" "delete reports the contact deleted with the customer"
assert_eq 2 "$(pending A)" "pending on A after deleting a customer with one contact"
run_op A customer show "$ID"
assert_ne 0 "$RC" "show of a deleted customer on A"
sync_ok A >/dev/null
assert_eq 0 "$(pending A)" "pending on A after syncing deletes"
assert_eq 0 "$(server_sql "select count(*) from customer where id = '$ID'")" "deleted customer on the server"
assert_eq 0 "$(server_sql "select count(*) from contact where id = '$CID'")" "deleted contact on the server"
sync_ok B >/dev/null
run_op B customer show "$ID"
assert_ne 0 "$RC" "exit status of show of a deleted customer on B"
assert_eq "" "$OUT" "stdout of show of a deleted customer on B"
assert_one_line "$ERR" "stderr of show of a deleted customer on B"
assert_contains "$ERR" "$ID" "the error names the id"
run_op B contact show "$CID"
assert_ne 0 "$RC" "exit status of show of a deleted contact on B"
assert_one_line "$ERR" "stderr of show of a deleted contact on B"
assert_eq 0 "$(op_ok B customer list --json | json_eval "len([r for r in d if r['id'] == '$ID'])")" \
	"the deleted customer in B's list"
assert_eq 0 "$(op_ok B contact list --json | json_eval "len([r for r in d if r['id'] == '$CID'])")" \
	"the deleted contact in B's list"

log "everything matches the server; repeated syncs move nothing"
n_srv=$(server_sql "select count(*) from customer")
assert_eq 203 "$n_srv" "customers on the server (200 demo + 3)"
for h in A B C; do
	sync_ok $h >/dev/null
	s=$(sync_ok $h)
	assert_eq 0 "$(json_get pushed <<<"$s")" "pushed by a repeated sync on $h"
	assert_eq 0 "$(json_get pulled <<<"$s")" "pulled by a repeated sync on $h"
done
for h in A B C; do
	assert_matches_server $h customer contact
done

stop_server
