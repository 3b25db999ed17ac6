#!/usr/bin/env bash
# test_admin.sh - outpostd's administration commands on a server database,
# with no server running: users of every role are added with passwords on
# stdin (and once on a terminal, with echo off); the users table keeps only
# PBKDF2 hashes, which Python's hashlib confirms; user list in text and
# JSON; teams, roles, disabling, new passwords; rights granted and
# withdrawn show in role list; devices listed and revoked by id prefix;
# every change is in the audit log, newest first, with working filters;
# and every bad invocation prints one line on stderr, exits non-zero and
# changes nothing.
. "$(dirname "$0")/lib.sh"

DB=$E2E_DIR/server.db
REC_1=11111111111111111111111111111111
REC_2=22222222222222222222222222222222
DEV_A=abcd0000000000000000000000000001
DEV_B=abcd0000000000000000000000000002
DEV_C=cafe0000000000000000000000000003

# adm [ARGS...]: runs outpostd with stdin from $IN (nothing when unset);
# sets OUT, ERR and RC, never fails.
adm() {
	local f=$E2E_DIR/.adm
	RC=0
	printf '%s' "${IN-}" | timeout -k 5 120 "$OUTPOSTD" "$@" >"$f.out" 2>"$f.err" || RC=$?
	OUT=$(cat "$f.out")
	ERR=$(cat "$f.err")
}

# adm_ok ARGS...: runs outpostd, fails the test unless it exits 0 with
# nothing on stderr; prints its stdout.
adm_ok() {
	adm "$@"
	((RC == 0)) || fail "outpostd $* exited $RC: $ERR"
	assert_eq "" "$ERR" "stderr of: outpostd $*"
	printf '%s\n' "$OUT"
}

# add_user NAME ROLE [ARGS...]: adds a user with password pw-NAME.
add_user() {
	local name=$1 role=$2 out
	shift 2
	out=$(IN="pw-$name"$'\n' adm_ok user add "$name" --role "$role" "$@" --db "$DB")
	assert_eq "outpostd: added user $name ($role)" "$out" "user add $name"
	ACTIONS+=(user-add)
}

users_json() { adm_ok user list --json --db "$DB"; }

# snapshot: everything the admin commands may change, as one digest.
snapshot() {
	sql "$DB" "
		select * from users order by name;
		select * from role_rights order by role, name;
		select replica, user, hex(token), revoked from devices order by replica;
		select * from audit order by seq;" | md5sum
}

# bad CODE EXPECT-IN-STDERR ARGS...: outpostd ARGS (stdin $IN) must exit
# CODE ("any" for any non-zero) with exactly one line on stderr starting
# "outpostd " and containing EXPECT, print nothing on stdout, and leave
# the database and the user list as they were.
bad() {
	local code=$1 expect=$2 before list_before
	shift 2
	before=$(snapshot)
	list_before=$(users_json)
	adm "$@"
	if [[ "$code" == any ]]; then
		assert_ne 0 "$RC" "exit status of: outpostd $*"
	else
		assert_eq "$code" "$RC" "exit status of: outpostd $*"
	fi
	assert_ne 124 "$RC" "outpostd $* timed out"
	assert_eq "" "$OUT" "stdout of: outpostd $*"
	assert_one_line "$ERR" "stderr of: outpostd $*"
	assert_match "$ERR" '^outpostd ' "stderr of: outpostd $*"
	assert_contains "$ERR" "$expect" "stderr of: outpostd $*"
	assert_eq "$before" "$(snapshot)" "the database after: outpostd $*"
	assert_eq "$list_before" "$(users_json)" "user list after: outpostd $*"
}

# actions N: the actions of the newest N audit rows, newest first.
actions() {
	adm_ok audit --json --limit "$1" --db "$DB" | json_eval '" ".join(a["action"] for a in d)'
}

# expected_actions N: the last N entries of ACTIONS, newest first.
expected_actions() {
	local i out=() n=${#ACTIONS[@]}
	for ((i = n - 1; i >= n - $1; i--)); do
		out+=("${ACTIONS[i]}")
	done
	printf '%s\n' "${out[*]}"
}

ACTIONS=()

# ---- users of every role ----------------------------------------------------------
log "adding users"
add_user root admin --full-name 'Root Admin'
add_user sue supervisor --full-name 'Sue Supervisor'
add_user tom supervisor
add_user ann manager --supervisor sue --full-name 'Ann "Annie" Ångström'
add_user bob manager --supervisor sue
add_user eve executive
# options in any order, --db first
out=$(IN=$'pw-cat\n' adm_ok user add --db "$DB" --supervisor tom cat --role manager)
assert_eq "outpostd: added user cat (manager)" "$out"
ACTIONS+=(user-add)

log "only PBKDF2 hashes are stored"
while IFS='|' read -r name pw; do
	assert_match "$pw" '^pbkdf2-sha256\$600000\$[0-9a-f]{32}\$[0-9a-f]{64}$' "pw of $name"
	assert_not_contains "$pw" "pw-$name" "pw of $name"
done < <(sql "$DB" "select name, pw from users")
assert_eq 7 "$(sql "$DB" "select count(distinct pw) from users")" "distinct hashes"
# hashlib agrees with the stored hash of ann's password
check_pw() { # NAME PASSWORD
	sql "$DB" "select pw from users where name = '$1'" | python3 -c '
import hashlib, sys
_, it, salt, want = sys.stdin.read().strip().split("$")
got = hashlib.pbkdf2_hmac("sha256", sys.argv[1].encode(), bytes.fromhex(salt), int(it))
sys.exit(0 if got.hex() == want else 1)' "$2"
}
check_pw ann pw-ann || fail "ann's hash does not check with hashlib"
if check_pw ann wrong; then fail "a wrong password checks"; fi

# ---- user list --------------------------------------------------------------------
log "user list"
list=$(users_json)
assert_eq "ann bob cat eve root sue tom" "$(json_eval '" ".join(u["name"] for u in d)' <<<"$list")"
assert_eq '["created", "disabled", "full_name", "name", "role", "supervisor"]' \
	"$(json_eval 'sorted(set(k for u in d for k in u))' <<<"$list")" "user keys"
assert_eq 'Ann "Annie" Ångström' "$(json_eval 'd[0]["full_name"]' <<<"$list")"
assert_eq sue "$(json_eval 'd[0]["supervisor"]' <<<"$list")"
assert_eq null "$(json_eval 'd[3]["supervisor"]' <<<"$list")"
assert_eq false "$(json_eval 'd[0]["disabled"]' <<<"$list")"
assert_eq true "$(json_eval 'all(isinstance(u["created"], int) and u["created"] > 1600000000000 for u in d)' <<<"$list")"
assert_not_contains "$list" "pbkdf2" "user list --json"
text=$(adm_ok user list --db "$DB")
assert_match "$(head -n1 <<<"$text")" '^NAME +ROLE +SUPERVISOR +DISABLED +FULL NAME$' "text header"
assert_match "$text" $'\n''ann +manager +sue +no +Ann "Annie" Ångström'$'\n' "ann's row"
assert_match "$text" $'\n''tom +supervisor +- +no$' "tom's row"
assert_eq 8 "$(wc -l <<<"$text")" "text lines"
assert_not_contains "$text" "pbkdf2" "user list"

# ---- teams, roles, disabling, passwords ----------------------------------------------
log "set-team, set-role, disable, enable, passwd"
sup_of() { users_json | json_eval "[u['supervisor'] for u in d if u['name'] == '$1'][0]"; }
adm_ok user set-team bob tom --db "$DB" >/dev/null
ACTIONS+=(user-set-team)
assert_eq tom "$(sup_of bob)"
assert_eq "outpostd: bob is no longer in the team of tom" "$(adm_ok user set-team --none bob --db "$DB")"
ACTIONS+=(user-set-team)
assert_eq null "$(sup_of bob)"
assert_eq "outpostd: bob is in no team" "$(adm_ok user set-team bob --none --db "$DB")"
assert_eq "outpostd: bob is now in the team of sue" "$(adm_ok user set-team bob sue --db "$DB")"
ACTIONS+=(user-set-team)
assert_eq "outpostd: bob is already in the team of sue" "$(adm_ok user set-team bob sue --db "$DB")"
# a supervisor in another supervisor's team: tom under sue is fine
adm_ok user set-team tom sue --db "$DB" >/dev/null
ACTIONS+=(user-set-team)

role_of() { users_json | json_eval "[u['role'] for u in d if u['name'] == '$1'][0]"; }
assert_eq "outpostd: ann now has role supervisor" "$(adm_ok user set-role ann supervisor --db "$DB")"
ACTIONS+=(user-set-role)
assert_eq supervisor "$(role_of ann)"
adm_ok user set-role ann manager --db "$DB" >/dev/null
ACTIONS+=(user-set-role)
assert_eq manager "$(role_of ann)"
assert_eq "outpostd: ann already has role manager" "$(adm_ok user set-role ann manager --db "$DB")"

disabled_of() { users_json | json_eval "[u['disabled'] for u in d if u['name'] == '$1'][0]"; }
assert_eq "outpostd: disabled user bob" "$(adm_ok user disable bob --db "$DB")"
ACTIONS+=(user-disable)
assert_eq true "$(disabled_of bob)"
assert_eq "outpostd: bob is already disabled" "$(adm_ok user disable bob --db "$DB")"
assert_match "$(adm_ok user list --db "$DB")" $'\n''bob +manager +sue +yes' "bob disabled in text"
assert_eq "outpostd: enabled user bob" "$(adm_ok user enable bob --db "$DB")"
ACTIONS+=(user-enable)
assert_eq false "$(disabled_of bob)"

old=$(sql "$DB" "select pw from users where name = 'ann'")
out=$(IN=$'new ann pw\r\n' adm_ok user passwd ann --db "$DB")
ACTIONS+=(user-passwd)
assert_eq "outpostd: changed the password of ann" "$out"
assert_ne "$old" "$(sql "$DB" "select pw from users where name = 'ann'")" "ann's hash"
check_pw ann 'new ann pw' || fail "the new password (CRLF stripped) does not check"

# stdin beyond the first line is left for the next reader
out=$( (printf 'pw-dan\nleft over\n' | {
	"$OUTPOSTD" user add dan --role manager --db "$DB" >/dev/null && cat
}) )
assert_eq "left over" "$out" "what follows the password on stdin"
ACTIONS+=(user-add)

# ---- roles and rights -----------------------------------------------------------------
log "role list, grant, withdraw"
rights_of() {
	adm_ok role list --json --db "$DB" |
		json_eval "' '.join([r['rights'] for r in d['roles'] if r['name'] == '$1'][0])"
}
roles=$(adm_ok role list --json --db "$DB")
assert_eq "admin executive manager supervisor" "$(json_eval '" ".join(r["name"] for r in d["roles"])' <<<"$roles")"
assert_eq 8 "$(json_eval 'len(d["rights"])' <<<"$roles")" "number of rights"
assert_eq "account manager" "$(json_eval '[r["title"] for r in d["roles"] if r["name"] == "manager"][0]' <<<"$roles")"
assert_eq "receive every record" "$(json_eval '[r["help"] for r in d["rights"] if r["name"] == "read.all"][0]' <<<"$roles")"
assert_eq "delete read.own write.own" "$(rights_of manager)"
assert_eq "outpostd: granted read.team to manager" "$(adm_ok role grant manager read.team --db "$DB")"
ACTIONS+=(role-grant)
assert_eq "delete read.own read.team write.own" "$(rights_of manager)"
assert_eq "outpostd: manager already has read.team" "$(adm_ok role grant manager read.team --db "$DB")"
assert_eq "outpostd: withdrew delete from manager" "$(adm_ok role withdraw manager delete --db "$DB")"
ACTIONS+=(role-withdraw)
assert_eq "outpostd: withdrew read.team from manager" "$(adm_ok role revoke manager read.team --db "$DB")"
ACTIONS+=(role-withdraw)
assert_eq "read.own write.own" "$(rights_of manager)"
assert_eq "outpostd: manager does not have delete" "$(adm_ok role withdraw manager delete --db "$DB")"
text=$(adm_ok role list --db "$DB")
assert_match "$text" $'\n''manager +account manager +read.own, write.own'$'\n' "manager in text"
assert_match "$text" $'\n''read.all +receive every record'$'\n' "rights in text"

# ---- devices --------------------------------------------------------------------------
log "device list and revoke"
sql "$DB" "
	insert into devices(replica, user, token, agent, created, expires, last_seen, last_addr)
	values ('$DEV_A', 'ann', randomblob(32), 'outpost/0.1 linux', 1700000000000,
	        1702592000000, 1700000600000, '10.0.0.5'),
	       ('$DEV_B', 'bob', randomblob(32), 'outpost/0.1', 1700000100000, 1702592100000, 0, ''),
	       ('$DEV_C', 'ann', randomblob(32), 'outpost/0.1', 1700000200000, 1702592200000, 0, '');"
devs=$(adm_ok device list --json --db "$DB")
assert_eq "$DEV_C $DEV_B $DEV_A" "$(json_eval '" ".join(x["replica"] for x in d)' <<<"$devs")" "newest first"
assert_eq '["agent", "created", "expires", "last_addr", "last_seen", "replica", "revoked", "user"]' \
	"$(json_eval 'sorted(d[2])' <<<"$devs")" "device keys"
assert_eq '[1700000000000, 1702592000000, 1700000600000, false, "10.0.0.5"]' \
	"$(json_eval '[d[2][k] for k in ("created", "expires", "last_seen", "revoked", "last_addr")]' <<<"$devs")"
assert_eq "$DEV_C $DEV_A" "$(adm_ok device list --user ann --json --db "$DB" | json_eval '" ".join(x["replica"] for x in d)')"
text=$(adm_ok device list --db "$DB")
assert_match "$text" "$DEV_A +ann +2023-11-14 22:13 +2023-12-14 22:13 +2023-11-14 22:23 +no +10.0.0.5 +outpost/0.1 linux" "device row"
assert_eq "no devices" "$(adm_ok device list --user eve --db "$DB")"

bad 1 "matches 2 devices" device revoke abcd --db "$DB"
bad 1 "no device" device revoke beef --db "$DB"
bad 1 "no device" device revoke abcd0000000000000000000000000009 --db "$DB"
assert_eq "outpostd: revoked device $DEV_B (user bob)" "$(adm_ok device revoke abcd0000000000000000000000000002 --db "$DB")"
ACTIONS+=(device-revoke)
assert_eq "outpostd: revoked device $DEV_C (user ann)" "$(adm_ok device revoke cafe --db "$DB")"
ACTIONS+=(device-revoke)
assert_eq "outpostd: device $DEV_C (user ann) is already revoked" "$(adm_ok device revoke cafe --db "$DB")"
assert_eq "1 0 0" "$(sql "$DB" "select group_concat(t, ' ') from
	(select token is not null as t from devices order by replica)")" "tokens dropped"
assert_eq "false true true" "$(adm_ok device list --json --db "$DB" | json_eval '" ".join(json.dumps(x["revoked"]) for x in sorted(d, key=lambda x: x["replica"]))')"

# ---- a password typed on a terminal --------------------------------------------------
log "password on a terminal"
tty_passwd() { # NAME FIRST SECOND: runs user passwd NAME on a pty; prints "RC|transcript"
	python3 - "$OUTPOSTD" "$DB" "$@" <<'PY'
import os, pty, sys, time
exe, db, name, first, second = sys.argv[1:6]
pid, fd = pty.fork()
if pid == 0:
    os.execv(exe, [exe, "user", "passwd", name, "--db", db])
out = b""
def read_until(token, limit=60):
    global out
    end = time.time() + limit
    while token not in out and time.time() < end:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return token in out
if read_until(b"New password for " + name.encode() + b": "):
    time.sleep(0.2)
    os.write(fd, first.encode() + b"\n")
    if read_until(b"Again, to confirm: "):
        time.sleep(0.2)
        os.write(fd, second.encode() + b"\n")
read_until(b"\0", 60)  # to the end
_, status = os.waitpid(pid, 0)
sys.stdout.write("%d|%s" % (os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")))
PY
}
res=$(tty_passwd eve 'typed secret' 'typed secret')
assert_eq 0 "${res%%|*}" "exit status on a terminal: ${res#*|}"
ACTIONS+=(user-passwd)
assert_contains "$res" "Again, to confirm: " "confirmation prompt"
assert_contains "$res" "outpostd: changed the password of eve"
assert_not_contains "$res" "typed secret" "the terminal echoed the password"
check_pw eve 'typed secret' || fail "the password typed on the terminal does not check"
before=$(snapshot)
res=$(tty_passwd eve 'one thing' 'another')
assert_eq 1 "${res%%|*}" "exit status after a mismatch: ${res#*|}"
assert_contains "$res" "outpostd user passwd: the two passwords differ"
assert_not_contains "$res" "one thing" "the terminal echoed the password"
assert_eq "$before" "$(snapshot)" "the database after a mismatch"

# ---- the audit log ----------------------------------------------------------------------
log "audit"
n=${#ACTIONS[@]}
assert_eq "$n" "$(sql "$DB" "select count(*) from audit")" "audit rows"
assert_eq "$(expected_actions "$n")" "$(actions "$n")" "audit actions, newest first"
assert_eq "$(expected_actions 3)" "$(actions 3)" "audit --limit 3"
log_json=$(adm_ok audit --json --db "$DB")
assert_eq '["action", "addr", "at", "detail", "device", "rec", "seq", "tbl", "user"]' \
	"$(json_eval 'sorted(d[0])' <<<"$log_json")" "audit keys"
assert_eq true "$(json_eval 'all(a["user"] == "" and a["device"] == "" and a["addr"] == "local" and a["rec"] == "" for a in d)' <<<"$log_json")" "admin rows"
assert_eq true "$(json_eval '[a["seq"] for a in d] == sorted((a["seq"] for a in d), reverse=True)' <<<"$log_json")" "seq order"
assert_eq "ann: role manager, supervisor sue" \
	"$(json_eval '[a["detail"] for a in d if a["action"] == "user-add"][-4]' <<<"$log_json")"
assert_eq "user role device" "$(json_eval '" ".join(dict.fromkeys(a["tbl"] for a in reversed(d)))' <<<"$log_json")" "tables"
# rows as the server writes them, to check the filters
sql "$DB" "
	insert into audit(at, user, device, addr, action, tbl, rec, detail) values
	(1700000000000, 'ann', '$DEV_A', '10.0.0.5', 'create', 'customer', '$REC_1', 'new'),
	(1700000001000, 'bob', '$DEV_B', '10.0.0.6', 'edit', 'customer', '$REC_1', 'name'),
	(1700000002000, 'ann', '$DEV_A', '10.0.0.5', 'edit', 'customer', '$REC_2', 'phone');"
assert_eq "edit create" "$(adm_ok audit --user ann --json --db "$DB" | json_eval '" ".join(a["action"] for a in d)')"
assert_eq "bob ann" "$(adm_ok audit --record "$REC_1" --json --db "$DB" | json_eval '" ".join(a["user"] for a in d)')"
assert_eq "phone" "$(adm_ok audit --json --user ann --record "$REC_2" --db "$DB" | json_eval '" ".join(a["detail"] for a in d)')"
assert_eq 1 "$(adm_ok audit --json --user ann --limit 1 --db "$DB" | json_len)"
assert_eq "[]" "$(adm_ok audit --json --user nobody --db "$DB")"
text=$(adm_ok audit --db "$DB" --limit 2)
assert_match "$(head -n1 <<<"$text")" '^SEQ +TIME \(UTC\) +USER +DEVICE +ADDR +ACTION +TABLE +RECORD +DETAIL$'
assert_match "$text" $'\n''[0-9]+ +2023-11-14 22:13 +ann +abcd0000 +10.0.0.5 +edit +customer +'"$REC_2"' +phone'
assert_eq 3 "$(wc -l <<<"$text")" "audit text lines"
assert_eq "no audit entries" "$(adm_ok audit --user nobody --db "$DB")"

# ---- bad invocations ----------------------------------------------------------------------
log "bad invocations"
IN=$'pw\n'
bad 2 "unknown option --password" user add x --role manager --password y --db "$DB"
bad 2 "--db is required" user add x --role manager
bad 2 "--db is required" user list
bad 2 "--db needs a value" user list --db
bad 2 "--role is required" user add x --db "$DB"
bad 2 "invalid user name \"Ann!\"" user add 'Ann!' --role manager --db "$DB"
bad 2 "invalid user name" user add ann.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q --role manager --db "$DB"
bad 2 "invalid supervisor name" user add x --role manager --supervisor 'Sue' --db "$DB"
bad 2 "invalid role name" user add x --role 'Man ager' --db "$DB"
bad 2 "--full-name" user add x --role manager --full-name $'two\nlines' --db "$DB"
bad 2 "--full-name" user add x --role manager --full-name $'\xff\xfe' --db "$DB"
bad 2 "--full-name" user add x --role manager --full-name "$(printf 'x%.0s' {1..201})" --db "$DB"
bad 2 "unknown subcommand \"frob\"" user frob --db "$DB"
bad 2 "missing subcommand" role --db "$DB"
bad 2 "missing argument" user disable --db "$DB"
bad 2 "unexpected argument" user disable ann bob --db "$DB"
bad 2 "unknown option --json" user add x --role manager --json --db "$DB"
bad 2 "--role is given twice" user add x --role manager --role admin --db "$DB"
bad 2 "missing argument" user set-team ann --db "$DB"
bad 2 "unexpected argument" user set-team ann sue --none --db "$DB"
bad 2 "--limit" audit --limit 0 --db "$DB"
bad 2 "--limit" audit --limit 100001 --db "$DB"
bad 2 "--limit" audit --limit 12x --db "$DB"
bad 2 "invalid record id" audit --record 1234 --db "$DB"
bad 2 "invalid device" device revoke abc --db "$DB"
bad 2 "invalid device" device revoke ABCD --db "$DB"
bad 1 "no role named king" user add x --role king --db "$DB"
bad 1 "no user named nobody" user add x --role manager --supervisor nobody --db "$DB"
bad 1 "a user named ann already exists" user add ann --role manager --db "$DB"
bad 1 "no user named nobody" user disable nobody --db "$DB"
bad 1 "no user named nobody" user passwd nobody --db "$DB"
bad 1 "no user named nobody" user set-team ann nobody --db "$DB"
bad 1 "their own team" user set-team ann ann --db "$DB"
bad 1 "teams cannot loop" user set-team sue ann --db "$DB"
bad 1 "teams cannot loop" user set-team sue tom --db "$DB"
bad 1 "no role named king" user set-role ann king --db "$DB"
bad 1 "no right named fly" role grant manager fly --db "$DB"
bad 1 "no role named king" role withdraw king delete --db "$DB"
bad 1 "no user named nobody" device list --user nobody --db "$DB"
bad 1 "no device" device revoke 0000 --db "$DB"
bad 1 "cannot open database" user list --db "$E2E_DIR/no/such/dir.db"
IN=
bad 1 "no password on standard input" user add x --role manager --db "$DB"
IN=$'\n'
bad 1 "the password is empty" user add x --role manager --db "$DB"
bad 1 "the password is empty" user passwd ann --db "$DB"
IN=$(printf 'p%.0s' {1..257})$'\n'
bad 1 "longer than 256 bytes" user add x --role manager --db "$DB"
IN=

# the longest password accepted
out=$(IN="$(printf 'p%.0s' {1..256})"$'\n' adm_ok user add long --role manager --db "$DB")
assert_eq "outpostd: added user long (manager)" "$out"
check_pw long "$(printf 'p%.0s' {1..256})" || fail "the 256-byte password does not check"

log "help"
out=$(adm_ok user --help)
assert_contains "$out" "outpostd user add NAME --role ROLE"
assert_contains "$out" "outpostd audit --db PATH"
