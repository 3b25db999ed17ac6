#!/usr/bin/env bash
# test_roles.sh - what each role may read and write, through the real CLI.
# Users: admin (admin), sue (supervisor), ann and bob (managers in sue's
# team), carl (manager, no team), eve (executive).
#   1. each device receives exactly its user's scope: managers their own
#      customers and contacts, sue her team's, eve and admin everything;
#   2. eve's edits, creates and deletes are all refused (code 12, with a
#      reason), her copy is put back, the server is untouched; `rejected
#      dismiss`;
#   3. a manager edits and deletes her own customers, may not give one to
#      someone else (her copy is put back); the supervisor may transfer
#      within her team, may not write for carl; the admin writes anything;
#   4. `outpostd role grant manager read.all`: ann's next sync pulls
#      everything; `role withdraw`: the next one drops the others' records,
#      keeps hers, and an edit she made to one of theirs is refused, not
#      lost;
#   5. `outpostd audit --user ann` and `audit --record ID`.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_DIR/server.db"
log "users and devices"
add_user admin admin
add_user sue supervisor
add_user ann manager --supervisor sue
add_user bob manager --supervisor sue
add_user carl manager
add_user eve executive
for u in admin sue ann bob carl eve; do
	init_client "$u" "$u"
	assert_eq "$u" "$(op_ok "$u" status --json | json_get user)" "the user of device $u"
done

# sync_all: every device syncs, the writers first, so all have everything.
sync_all() {
	local u
	for u in ann bob carl admin sue eve; do
		sync_ok "$u" >/dev/null
	done
}

# assert_scope HOME USER...: HOME holds exactly the customers of USERs and
# their contacts, field for field as on the server.
assert_scope() {
	local home=$1
	shift
	assert_scope_matches_server "$home" customer "$(owned_by "$@")"
	assert_scope_matches_server "$home" contact "$(contacts_of "$@")"
}

# server_state: the server's customers and contacts, to compare later.
server_state() {
	server_json "select * from customer order by id"
	server_json "select * from contact order by id"
	server_sql "select count(*) from rec"
}

# ---- seed -----------------------------------------------------------------------------
log "ann, bob and carl add customers with contacts from their own devices"
A1=$(op_ok ann customer add --name 'Ann Alpha' --phone '+1 555 0101')
A1C1=$(op_ok ann contact add --customer "$A1" --name 'Alma Alpha')
A1C2=$(op_ok ann contact add --customer "$A1" --name 'Alex Alpha')
A2=$(op_ok ann customer add --name 'Ann Beta' --note 'to be transferred')
A2C1=$(op_ok ann contact add --customer "$A2" --name 'Bea Beta')
A3=$(op_ok ann customer add --name 'Ann Gamma')
B1=$(op_ok bob customer add --name 'Bob Delta')
B1C1=$(op_ok bob contact add --customer "$B1" --name 'Dora Delta')
B1C2=$(op_ok bob contact add --customer "$B1" --name 'Dan Delta')
K1=$(op_ok carl customer add --name 'Carl Kappa')
K1C1=$(op_ok carl contact add --customer "$K1" --name 'Kim Kappa')
sync_all
for u in ann bob carl; do
	assert_eq 0 "$(pending "$u")" "pending on $u after the seed"
done
assert_eq "ann ann ann bob carl" \
	"$(server_sql "select group_concat(owner, ' ') from (select owner from customer order by owner)")" \
	"owners of the server's customers"
assert_eq 6 "$(server_sql "select count(*) from rec where tbl = 'contact' and owner = (select owner from customer where id = rec.parent)")" \
	"contacts whose scope owner is their customer's owner, on the server"

# ---- 1. what each device receives ------------------------------------------------------
log "managers receive only their own customers and contacts"
assert_eq "$(printf '%s\n' "$A1" "$A2" "$A3" | sort | xargs)" "$(local_ids ann customer)" "customer ids on ann's device"
assert_eq "$(printf '%s\n' "$A1C1" "$A1C2" "$A2C1" | sort | xargs)" "$(local_ids ann contact)" "contact ids on ann's device"
assert_eq "$B1" "$(local_ids bob customer)" "customer ids on bob's device"
assert_eq "$K1" "$(local_ids carl customer)" "customer ids on carl's device"
assert_eq "$K1C1" "$(local_ids carl contact)" "contact ids on carl's device"
assert_scope ann ann
assert_scope bob bob
assert_scope carl carl

log "the supervisor receives her team's customers, not carl's"
assert_scope sue sue ann bob
run_op sue customer show "$K1"
assert_ne 0 "$RC" "carl's customer on sue's device"

log "the executive and the admin receive everything"
for u in eve admin; do
	assert_matches_server "$u" customer contact
	assert_eq 5 "$(count_customers "$u")" "customers on $u's device"
done

# ---- 2. the executive may not write ------------------------------------------------------
log "eve's edit, create, delete and contact add are all refused"
before=$(server_state)
op_ok eve customer edit "$A1" --name 'Eve was here' --phone '+1 555 0666' >/dev/null
E1=$(op_ok eve customer add --name 'Eve Corp')
op_ok eve customer delete "$B1" >/dev/null
EC=$(op_ok eve contact add --customer "$K1" --name 'Eve Contact')
op_ok eve contact edit "$A2C1" --title 'Spy' >/dev/null
n=$(pending eve)
assert_gt "$n" 4 "changes waiting on eve's device"
s=$(sync_ok eve)
assert_eq "$n" "$(json_get rejected <<<"$s")" "changes refused by eve's sync: $s"
assert_eq 0 "$(pending eve)" "pending on eve after the refused sync"
assert_eq "$before" "$(server_state)" "the server's records after eve's sync"

rj=$(op_ok eve rejected --json)
assert_eq "$n" "$(json_len <<<"$rj")" "entries in eve's rejected list: $rj"
assert_eq "[12]" "$(json_eval 'sorted(set(r["code"] for r in d))' <<<"$rj")" "codes of eve's refused changes"
assert_eq "[]" "$(json_eval '[r for r in d if "change" not in r["reason"]]' <<<"$rj")" \
	"reasons of eve's refused changes (each says she may not change)"
for id in "$A1" "$E1" "$B1" "$B1C1" "$B1C2" "$EC" "$A2C1"; do
	assert_gt "$(json_eval "len([r for r in d if r['id'] == '$id'])" <<<"$rj")" 0 \
		"a rejected entry for $id on eve's device: $rj"
done
assert_eq "Eve was here" "$(json_eval "[r for r in d if r['id'] == '$A1'][0]['fields']['name']" <<<"$rj")" \
	"the refused edit's values, kept in the rejected list"
assert_eq "$n" "$(op_ok eve status --json | json_get rejected)" "rejected in eve's status"
assert_contains "$(op_ok eve rejected)" "refused:" "the text form of eve's rejected list"

log "eve's copy is put back to the server's records"
assert_matches_server eve customer contact
assert_eq "Ann Alpha" "$(op_ok eve customer show "$A1" --json | json_get name)" "A1's name on eve's device"
run_op eve customer show "$E1"
assert_ne 0 "$RC" "eve's refused new customer, still on her device"
assert_eq "$n" "$(admin_ok audit --json --user eve | json_eval "len([a for a in d if a['action'] == 'refused'])")" \
	"refused rows in eve's audit"

log "rejected retry: once the executive may write, her refused change goes through"
nr=$(json_eval "[r for r in d if r['id'] == '$A2C1'][0]['n']" <<<"$rj")
run_op eve rejected retry "$nr"
assert_eq 0 "$RC" "rejected retry before any right: it is written locally again ($ERR)"
s=$(sync_ok eve)
assert_eq 1 "$(json_get rejected <<<"$s")" "the retried change is refused again without the right"
rj=$(op_ok eve rejected --json)
assert_eq "$n" "$(json_len <<<"$rj")" "eve's rejected list after a refused retry"
nr=$(json_eval "[r for r in d if r['id'] == '$A2C1'][0]['n']" <<<"$rj")
admin_ok role grant executive write.all >/dev/null
out=$(op_ok eve rejected retry "$nr")
assert_contains "$out" "again" "rejected retry's message"
s=$(sync_ok eve)
assert_eq "0|1" "$(json_eval '"%d|%d" % (d["rejected"], d["acknowledged"])' <<<"$s")" \
	"rejected|acknowledged of the sync after the retry: $s"
assert_eq "Spy" "$(server_sql "select title from contact where id = '$A2C1'")" "the retried edit on the server"
admin_ok role withdraw executive write.all >/dev/null
rj=$(op_ok eve rejected --json)
n=$((n - 1))
assert_eq "$n" "$(json_len <<<"$rj")" "eve's rejected list after the retry went through"

log "rejected dismiss"
first=$(json_eval 'd[0]["n"]' <<<"$rj")
out=$(op_ok eve rejected dismiss "$first")
assert_contains "$out" "dismissed $first" "rejected dismiss's message"
assert_eq "$((n - 1))" "$(op_ok eve rejected --json | json_len)" "eve's rejected list after one dismiss"
run_op eve rejected dismiss "$first"
assert_eq 1 "$RC" "dismissing the same refused change again"
assert_one_line "$ERR" "stderr of dismissing the same refused change again"
op_ok eve rejected dismiss --all >/dev/null
assert_eq "[]" "$(op_ok eve rejected --json)" "eve's rejected list after dismiss --all"
assert_eq 0 "$(op_ok eve status --json | json_get rejected)" "rejected in eve's status after dismiss --all"

# ---- 3. managers, supervisor, admin --------------------------------------------------------
log "a manager edits and deletes her own customers"
op_ok ann customer edit "$A1" --phone '+1 555 0102' >/dev/null
op_ok ann contact edit "$A1C1" --title 'Buyer' >/dev/null
op_ok ann customer delete "$A3" >/dev/null
s=$(sync_ok ann)
assert_eq "3|0" "$(json_eval '"%d|%d" % (d["acknowledged"], d["rejected"])' <<<"$s")" \
	"acknowledged|rejected of ann's own edits: $s"
assert_eq "+1 555 0102" "$(server_sql "select phone from customer where id = '$A1'")" "A1's phone on the server"
assert_eq "Buyer" "$(server_sql "select title from contact where id = '$A1C1'")" "A1C1's title on the server"
assert_eq 0 "$(server_sql "select count(*) from customer where id = '$A3'")" "A3 on the server after ann's delete"

log "a manager may not give her customer to someone else"
op_ok ann customer edit "$A2" --owner bob --note 'ann tries to give it away' >/dev/null
s=$(sync_ok ann)
assert_eq "1|0" "$(json_eval '"%d|%d" % (d["rejected"], d["acknowledged"])' <<<"$s")" \
	"rejected|acknowledged of ann's transfer: $s"
rj=$(op_ok ann rejected --json)
assert_eq 1 "$(json_len <<<"$rj")" "ann's rejected list: $rj"
assert_eq "$A2|12" "$(json_eval '"%s|%d" % (d[0]["id"], d[0]["code"])' <<<"$rj")" "ann's refused transfer"
assert_match "$(json_get reason <<<"$(json_eval 'd[0]' <<<"$rj")")" 'bob|transfer' "the reason of ann's refused transfer"
assert_eq "ann|to be transferred" "$(op_ok ann customer show "$A2" --json | json_eval '"%s|%s" % (d["owner"], d["note"])')" \
	"A2 on ann's device after the refusal"
assert_eq "ann|to be transferred" "$(server_sql "select owner, note from customer where id = '$A2'")" "A2 on the server"
assert_scope ann ann
op_ok ann rejected dismiss --all >/dev/null

log "the supervisor transfers a customer from ann to bob"
op_ok sue customer edit "$A2" --owner bob >/dev/null
s=$(sync_ok sue)
assert_eq "1|0" "$(json_eval '"%d|%d" % (d["acknowledged"], d["rejected"])' <<<"$s")" \
	"acknowledged|rejected of sue's transfer: $s"
assert_eq bob "$(server_sql "select owner from customer where id = '$A2'")" "A2's owner on the server"
assert_eq bob "$(server_sql "select owner from rec where tbl = 'contact' and id = '$A2C1'")" \
	"the scope owner of A2's contact on the server"
s=$(sync_ok ann)
assert_gt "$(json_get dropped <<<"$s")" 0 "records dropped by ann's sync after the transfer: $s"
sync_ok bob >/dev/null
assert_scope ann ann
assert_scope bob bob
assert_scope sue sue ann bob

log "the supervisor may not write for carl, whom she cannot even see"
run_op sue customer edit "$K1" --note 'sue was here'
assert_ne 0 "$RC" "sue editing carl's customer she does not have"
S1=$(op_ok sue customer add --name 'Sue for Carl' --owner carl)
s=$(sync_ok sue)
assert_eq 1 "$(json_get rejected <<<"$s")" "sue's refused customer for carl: $s"
rj=$(op_ok sue rejected --json)
assert_eq "$S1|12" "$(json_eval '"%s|%d" % (d[0]["id"], d[0]["code"])' <<<"$rj")" "sue's refused customer for carl"
assert_contains "$(json_eval 'd[0]["reason"]' <<<"$rj")" "carl" "the reason of sue's refused customer"
assert_eq 0 "$(server_sql "select count(*) from rec where id = '$S1'")" "sue's customer for carl on the server"
run_op sue customer show "$S1"
assert_ne 0 "$RC" "sue's refused customer for carl, on her device"
assert_scope sue sue ann bob

log "the admin writes anyone's customer"
op_ok admin customer edit "$K1" --note 'admin was here' >/dev/null
assert_eq 0 "$(json_get rejected <<<"$(sync_ok admin)")" "refusals of the admin's edit"
assert_eq "admin was here" "$(server_sql "select note from customer where id = '$K1'")" "K1's note on the server"
sync_ok carl >/dev/null
assert_scope carl carl

# ---- 4. rights change at once -----------------------------------------------------------
log "role grant manager read.all: ann's next sync pulls everything"
admin_ok role grant manager read.all >/dev/null
assert_contains "$(admin_ok role list --json)" "read.all" "role list after the grant"
s=$(sync_ok ann)
assert_eq 0 "$(json_get dropped <<<"$s")" "records dropped by ann's sync after the grant"
total=$(server_sql "select count(*) from rec")
assert_eq "$total" "$(json_get pulled <<<"$s")" "records pulled by ann's full re-pull (every record on the server): $s"
assert_matches_server ann customer contact

log "ann may read bob's customers now, still not write them"
op_ok ann customer edit "$B1" --note 'ann reads all' >/dev/null
s=$(sync_ok ann)
assert_eq 1 "$(json_get rejected <<<"$s")" "ann's edit of bob's customer with read.all: $s"
assert_contains "$(op_ok ann rejected --json | json_eval 'd[0]["reason"]')" "not change" \
	"the reason of ann's refused edit of bob's customer"
assert_matches_server ann customer contact
op_ok ann rejected dismiss --all >/dev/null

log "role withdraw manager read.all: ann's next sync drops the others' records"
op_ok ann customer edit "$B1" --note 'edited before the withdrawal' >/dev/null
op_ok ann customer edit "$A1" --note 'ann keeps this one' >/dev/null
admin_ok role withdraw manager read.all >/dev/null
s=$(sync_ok ann)
assert_eq "1|1" "$(json_eval '"%d|%d" % (d["acknowledged"], d["rejected"])' <<<"$s")" \
	"acknowledged|rejected of ann's sync after the withdrawal: $s"
# B1 itself left with the refusal of her edit; the re-pull drops the rest.
others=$(server_sql "select count(*) from rec where coalesce(owner, '') <> 'ann'")
assert_eq "$((others - 1))" "$(json_get dropped <<<"$s")" "records dropped by ann's sync after the withdrawal: $s"
assert_scope ann ann
assert_eq "ann keeps this one" "$(server_sql "select note from customer where id = '$A1'")" "A1's note on the server"
assert_eq "admin was here" "$(server_sql "select note from customer where id = '$K1'")" "K1's note unchanged on the server"
assert_ne "edited before the withdrawal" "$(server_sql "select note from customer where id = '$B1'")" "B1's note on the server"
rj=$(op_ok ann rejected --json)
assert_eq "$B1|12|edited before the withdrawal" \
	"$(json_eval '"%s|%d|%s" % (d[0]["id"], d[0]["code"], d[0]["fields"]["note"])' <<<"$rj")" \
	"ann's edit of bob's customer, kept in her rejected list: $rj"
assert_contains "$(json_eval 'd[0]["reason"]' <<<"$rj")" "scope" "the reason of the refusal after the withdrawal"

# ---- 5. audit ----------------------------------------------------------------------------
log "outpostd audit --user ann"
au=$(admin_ok audit --json --user ann)
assert_eq "[]" "$(json_eval '[a for a in d if a["user"] != "ann"]' <<<"$au")" "rows of others in audit --user ann"
for want in "create customer $A1" "create contact $A1C1" "edit customer $A1" "edit contact $A1C1" \
	"delete customer $A3" "refused customer $A2" "refused customer $B1"; do
	read -r act tbl rec <<<"$want"
	assert_gt "$(json_eval "len([a for a in d if (a['action'], a['tbl'], a['rec']) == ('$act', '$tbl', '$rec')])" <<<"$au")" 0 \
		"a row '$want' in ann's audit"
done
assert_eq 1 "$(json_eval "len([a for a in d if a['action'] == 'login'])" <<<"$au")" "login rows in ann's audit"
assert_eq "[]" "$(json_eval '[a for a in d if a["device"] != d[0]["device"]]' <<<"$au")" \
	"ann's audit rows from another device than hers"

log "outpostd audit --record A2: the history of one record"
au=$(admin_ok audit --json --record "$A2")
assert_eq "[]" "$(json_eval "[a for a in d if a['rec'] != '$A2']" <<<"$au")" "rows of other records in audit --record"
assert_eq "create:ann refused:ann transfer:sue" \
	"$(json_eval '" ".join("%s:%s" % (a["action"], a["user"]) for a in sorted(d, key=lambda a: a["seq"]))' <<<"$au")" \
	"the history of A2 (oldest first)"
assert_contains "$(json_eval '[a for a in d if a["action"] == "transfer"][0]["detail"]' <<<"$au")" "ann -> bob" \
	"the transfer's detail"
txt=$(admin_ok audit --record "$A2")
assert_eq 4 "$(grep -c '' <<<"$txt")" "lines of the text audit of A2 (a header and 3 rows): $txt"
assert_contains "$txt" "transfer" "the text audit of A2"
