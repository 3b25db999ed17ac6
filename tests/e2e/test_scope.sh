#!/usr/bin/env bash
# test_scope.sh - records moving in and out of devices' scopes, end to end.
# Users: admin, sue (supervisor), ann and bob (managers in sue's team),
# carl (manager, no team).
#   1. sue transfers A1 (with contacts and a conflict record) from ann to
#      bob: ann's device drops all of it, bob's gains it, field for field;
#      sue keeps it (it stays in her team);
#   2. the admin transfers A2 from ann to carl: sue and ann drop it, carl
#      gains it; and back to ann: ann and sue regain it, carl drops it;
#   3. `outpostd user set-team carl sue`: sue's next sync re-pulls her whole
#      scope, carl's records included; `set-team carl --none` drops them;
#   4. ann's offline edit of A3, transferred away meanwhile: the push is
#      refused (code 12), the edit kept in her rejected list, A3 leaves;
#   5. a re-pull after a scope change, killed half way: the next sync
#      finishes it and drops what left the scope.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_DIR/server.db"
log "users and devices"
add_user admin admin
add_user sue supervisor
add_user ann manager --supervisor sue
add_user bob manager --supervisor sue
add_user carl manager
for u in admin sue ann bob carl; do
	init_client "$u" "$u"
done
SUE=sue # sue's device

# assert_scope HOME USER...: HOME holds exactly the customers of USERs,
# their contacts and the conflict records of those customers, field for
# field as on the server.
assert_scope() {
	local home=$1 f=$E2E_DIR/.conflicts
	shift
	assert_scope_matches_server "$home" customer "$(owned_by "$@")"
	assert_scope_matches_server "$home" contact "$(contacts_of "$@")"
	op_ok "$home" conflicts --json >"$f.local.json"
	server_json "select * from conflict where rec in (select id from customer where $(owned_by "$@"))" >"$f.server.json"
	assert_rows_eq "$f.local.json" "$f.server.json" "conflicts on $home vs the server's of $*"
}

# sync_stat HOME KEY...: syncs HOME; prints the values of KEYs of its
# `sync --json`, '|'-separated.
sync_stat() {
	local home=$1 s
	shift
	s=$(sync_ok "$home")
	json_eval "'|'.join(str(d[k]) for k in [$(printf "'%s'," "$@")])" <<<"$s"
}

# has HOME TABLE ID: 0 if replica HOME holds the record.
has() {
	[[ " $(local_ids "$1" "$2") " == *" $3 "* ]]
}

# ---- seed -----------------------------------------------------------------------------
log "ann adds A1..A3 with contacts, carl adds K1"
A1=$(op_ok ann customer add --name 'A1 Alpha' --region north)
A1C1=$(op_ok ann contact add --customer "$A1" --name 'Alma One')
A1C2=$(op_ok ann contact add --customer "$A1" --name 'Alex One')
A2=$(op_ok ann customer add --name 'A2 Beta' --phone '+1 555 0202')
A2C1=$(op_ok ann contact add --customer "$A2" --name 'Bea Two')
A2C2=$(op_ok ann contact add --customer "$A2" --name 'Ben Two' --title Buyer)
A3=$(op_ok ann customer add --name 'A3 Gamma')
A3C1=$(op_ok ann contact add --customer "$A3" --name 'Gil Three')
K1=$(op_ok carl customer add --name 'K1 Kappa')
op_ok carl contact add --customer "$K1" --name 'Kim Kappa' >/dev/null
op_ok carl contact add --customer "$K1" --name 'Kai Kappa' >/dev/null
op_ok bob customer add --name 'B1 Delta' >/dev/null
for u in ann carl bob sue admin; do
	sync_ok "$u" >/dev/null
done

log "a conflict on A1 between ann and sue"
op_ok ann customer edit "$A1" --note 'note by ann' >/dev/null
sleep 0.05 # sue's write is the later one
op_ok sue customer edit "$A1" --note 'note by sue' >/dev/null
sync_ok ann >/dev/null
assert_eq 1 "$(sync_stat sue conflicts)" "conflicts of sue's sync"
sync_ok ann >/dev/null
assert_eq 1 "$(op_ok ann conflicts --json | json_eval "len([c for c in d if c['rec'] == '$A1'])")" \
	"conflict records of A1 on ann's device"
assert_eq ann "$(server_sql "select owner from rec where tbl = 'conflict' and parent = '$A1'")" \
	"the scope owner of A1's conflict record on the server"
for u in ann bob carl; do
	assert_scope "$u" "$u"
done
assert_scope sue sue ann bob

# ---- 1. transfer within the team --------------------------------------------------------
log "sue transfers A1 from ann to bob"
op_ok sue customer edit "$A1" --owner bob >/dev/null
assert_eq "1|0" "$(sync_stat sue acknowledged rejected)" "acknowledged|rejected of sue's transfer"
assert_eq "bob bob bob bob" \
	"$(server_sql "select group_concat(owner, ' ') from (select owner from rec where id = '$A1' or parent = '$A1' order by id)")" \
	"scope owners of A1, its contacts and its conflict on the server"

log "ann's device drops A1, its contacts and its conflict record"
assert_eq "4|0" "$(sync_stat ann dropped pulled)" "dropped|pulled by ann's sync after the transfer"
for r in "customer $A1" "contact $A1C1" "contact $A1C2"; do
	# shellcheck disable=SC2086
	! has ann $r || fail "ann's device still holds $r after the transfer"
done
assert_eq 0 "$(op_ok ann conflicts --json | json_eval "len([c for c in d if c['rec'] == '$A1'])")" \
	"conflict records of A1 on ann's device after the transfer"
assert_scope ann ann
assert_eq 0 "$(pending ann)" "pending on ann after the transfer"

log "bob's device gains A1 with its contacts and conflict, field for field"
s=$(sync_stat bob pulled dropped)
assert_eq "4|0" "$s" "pulled|dropped by bob's sync after the transfer"
assert_scope bob bob
has bob contact "$A1C2" || fail "A1's contact $A1C2 missing on bob's device"
assert_eq "note by sue" "$(op_ok bob customer show "$A1" --json | json_get note)" "A1's note on bob's device"

log "sue keeps A1: it stayed in her team"
assert_eq 0 "$(sync_stat sue dropped)" "dropped by sue's sync after her transfer"
assert_scope sue sue ann bob
has sue customer "$A1" || fail "sue's device lost A1"

# ---- 2. transfers out of the team and back ------------------------------------------------
log "the admin transfers A2 from ann to carl"
sync_ok admin >/dev/null
op_ok admin customer edit "$A2" --owner carl >/dev/null
assert_eq "1|0" "$(sync_stat admin acknowledged rejected)" "acknowledged|rejected of the admin's transfer"
assert_eq 3 "$(sync_stat sue dropped)" "dropped by sue's sync (A2 and two contacts)"
! has sue customer "$A2" || fail "sue's device still holds A2"
! has sue contact "$A2C1" || fail "sue's device still holds A2's contact $A2C1"
assert_scope sue sue ann bob
assert_eq 3 "$(sync_stat carl pulled)" "pulled by carl's sync (A2 and two contacts)"
assert_scope carl carl
assert_eq 3 "$(sync_stat ann dropped)" "dropped by ann's sync (A2 and two contacts)"
assert_scope ann ann

log "the admin transfers A2 back from carl to ann"
op_ok admin customer edit "$A2" --owner ann >/dev/null
assert_eq "1|0" "$(sync_stat admin acknowledged rejected)" "acknowledged|rejected of the admin's transfer back"
assert_eq "3|0" "$(sync_stat ann pulled dropped)" "pulled|dropped by ann's sync (A2 back)"
assert_scope ann ann
has ann contact "$A2C2" || fail "A2's contact $A2C2 missing on ann's device"
assert_eq "Buyer" "$(op_ok ann contact show "$A2C2" --json | json_get title)" "A2C2's title on ann's device"
assert_eq 3 "$(sync_stat carl dropped)" "dropped by carl's sync (A2 back to ann)"
assert_scope carl carl
assert_eq "3|0" "$(sync_stat sue pulled dropped)" "pulled|dropped by sue's sync (A2 back)"
assert_scope sue sue ann bob

# ---- 3. team changes ------------------------------------------------------------------------
log "set-team carl sue: sue's next sync re-pulls her whole scope"
admin_ok user set-team carl sue >/dev/null
in_scope=$(server_sql "select count(*) from rec where owner in ('sue', 'ann', 'bob', 'carl')")
assert_eq "$in_scope|0" "$(sync_stat sue pulled dropped)" "pulled|dropped by sue's sync after carl joined her team"
assert_scope sue sue ann bob carl
has sue customer "$K1" || fail "carl's K1 missing on sue's device"
assert_eq "0|0" "$(sync_stat carl pulled dropped)" "pulled|dropped by carl's sync after joining sue's team"
assert_scope carl carl

log "set-team carl --none: sue's next sync drops carl's records"
admin_ok user set-team carl --none >/dev/null
n_carl=$(server_sql "select count(*) from rec where owner = 'carl' and alive = 1")
assert_gt "$n_carl" 2 "carl's records on the server"
# Two re-pulls in a row, with no local write between them.
assert_eq "$n_carl" "$(sync_stat sue dropped)" "dropped by sue's sync after carl left her team"
! has sue customer "$K1" || fail "carl's K1 is still on sue's device"
assert_scope sue sue ann bob
assert_eq 0 "$(pending sue)" "pending on sue"

# ---- 4. an offline edit of a record transferred away -------------------------------------
log "ann edits A3 offline while the admin transfers it to carl"
op_ok ann customer edit "$A3" --note 'offline edit by ann' >/dev/null
op_ok ann contact edit "$A3C1" --title 'Offline title' >/dev/null
sync_ok admin >/dev/null
op_ok admin customer edit "$A3" --owner carl >/dev/null
sync_ok admin >/dev/null
s=$(sync_ok ann)
assert_eq "0|2|2" "$(json_eval '"%d|%d|%d" % (d["acknowledged"], d["rejected"], d["dropped"])' <<<"$s")" \
	"acknowledged|rejected|dropped of ann's sync: $s"
rj=$(op_ok ann rejected --json)
assert_eq 2 "$(json_len <<<"$rj")" "ann's rejected list: $rj"
assert_eq "[12]" "$(json_eval 'sorted(set(r["code"] for r in d))' <<<"$rj")" "codes of ann's refused edits"
assert_eq "offline edit by ann" "$(json_eval "[r for r in d if r['id'] == '$A3'][0]['fields']['note']" <<<"$rj")" \
	"ann's refused edit of A3, kept in her rejected list"
assert_eq "Offline title" "$(json_eval "[r for r in d if r['id'] == '$A3C1'][0]['fields']['title']" <<<"$rj")" \
	"ann's refused edit of A3's contact, kept in her rejected list"
assert_contains "$(json_eval "[r for r in d if r['id'] == '$A3'][0]['reason']" <<<"$rj")" "scope" \
	"the reason of the refusal"
assert_eq 2 "$(op_ok ann status --json | json_get rejected)" "rejected in ann's status"
! has ann customer "$A3" || fail "ann's device still holds A3"
! has ann contact "$A3C1" || fail "ann's device still holds A3's contact"
assert_scope ann ann
assert_eq "carl|" "$(server_sql "select owner, coalesce(note, '') from customer where id = '$A3'")" \
	"A3 on the server"
assert_eq 0 "$(server_sql "select count(*) from contact where title = 'Offline title'")" \
	"ann's refused contact edit on the server"
sync_ok carl >/dev/null
assert_scope carl carl
assert_eq 2 "$(sync_stat "$SUE" dropped)" "dropped by sue's sync (A3 and its contact)"
assert_scope "$SUE" sue ann bob

# ---- 5. an interrupted re-pull ---------------------------------------------------------------
log "many records for bob and dan (a manager joining sue's team)"
add_user dan manager --supervisor sue
admin_ok demo --customers 1600 --seed 7 >/dev/null # owners alice, bob, carol, dan
n_bob=$(server_sql "select count(*) from rec where owner = 'bob'")
n_dan=$(server_sql "select count(*) from rec where owner = 'dan'")
assert_gt "$n_bob" 1000 "bob's records on the server (several pull batches)"
assert_gt "$n_dan" 0 "dan's records on the server"
sync_ok "$SUE" >/dev/null # pulls the demo records
# The server's welcome tells the change log's end as it is now, written
# by another process or not.
s=$(sync_ok "$SUE")
assert_eq 0 "$(json_get pulled <<<"$s")" "pulled by sue's second sync after the demo data"
assert_scope "$SUE" sue ann bob dan

# rescope_state HOME: "rescope cursor" from the replica's metadata.
rescope_state() {
	sql "$E2E_DIR/$1/replica.db" \
		"select (select count(*) from meta where key = 'rescope') || ' ' ||
		        coalesce((select value from meta where key = 'cursor'), 0)"
}

log "dan leaves sue's team; sue's re-pull is killed half way"
caught=
for attempt in 1 2 3 4 5; do
	op_ok "$SUE" customer add --name "Sue Own $attempt" >/dev/null
	sync_ok "$SUE" >/dev/null
	admin_ok user set-team dan --none >/dev/null
	op_bg "$SUE" rescope-$attempt sync --json
	pid=$BG_PID
	while _alive "$pid"; do
		read -r marked cursor <<<"$(rescope_state "$SUE")"
		if [[ "$marked" == 1 ]] && ((cursor > 0)); then
			kill -9 "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.005
	done
	wait_exit "$pid" 60
	read -r marked cursor <<<"$(rescope_state "$SUE")"
	if ((WAIT_RC == 137)) && [[ "$marked" == 1 ]]; then
		caught=$attempt
		break
	fi
	# too late: the re-pull ended before the kill (or the kill came just after its end)
	((WAIT_RC == 0 || WAIT_RC == 137)) ||
		fail "sue's sync (attempt $attempt) exited $WAIT_RC: $(cat "$E2E_DIR/rescope-$attempt.err")"
	log "attempt $attempt: the re-pull ended before it could be killed; again"
	assert_scope "$SUE" sue ann bob
	admin_ok user set-team dan sue >/dev/null
	op_ok "$SUE" customer add --name "Sue Again $attempt" >/dev/null
	sync_ok "$SUE" >/dev/null
	assert_scope "$SUE" sue ann bob dan
done
[[ -n "$caught" ]] || fail "could not kill sue's re-pull half way in 5 attempts"
log "killed at cursor $cursor (attempt $caught)"
n_dan_local=$(op_ok "$SUE" customer list --json | json_eval 'len([r for r in d if r["owner"] == "dan"])')
assert_gt "$n_dan_local" 0 "dan's customers on sue's device before the re-pull is finished"

log "the next sync finishes the re-pull and drops dan's records"
s=$(sync_ok "$SUE")
assert_gt "$(json_get dropped <<<"$s")" "$((n_dan - 1))" "records dropped by the sync after the kill: $s"
assert_eq "0 " "$(rescope_state "$SUE" | sed 's/[0-9]*$//')" "the re-pull mark after the finishing sync"
assert_scope "$SUE" sue ann bob
assert_eq 0 "$(pending "$SUE")" "pending on sue at the end"
