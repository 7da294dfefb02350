#!/usr/bin/env bash
# Record files across format versions.  Format 2 adds a "program" line
# (the traced executable's path and GNU build ID, for the pprof mapping);
# format 1 records, written before it, must still load:
#   - test/e2e/records/regress-v1.format1.rec, written by the iprofmem of
#     main before format 2 (see test/e2e/records/README): 'iprofmem report'
#     prints its table and JSON as that iprofmem did, and its pprof profile
#     byte for byte (no mapping file or build ID: format 1 has none);
#   - diff of a format-1 record against a format-2 one of the same
#     program: the functions of known pages +0; its pprof form is written;
#   - a new record is format 2, its program line right after the header:
#     the program's absolute path and the build ID readelf finds.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/views_lib.sh"

OLD=$E2E_DIR/records/regress-v1.format1

tc "format 1 (main's iprofmem): report prints the same table, JSON and pprof bytes"
if need_file "$OLD.rec"; then
	[ "$(head -n1 "$OLD.rec")" = "iprofmem-record 1" ] || fail "the fixture is not format 1"
	run_report "$OLD.rec"
	expect_exit 0
	expect_same "$OLD.table" "$ERR" "the table"
	run_report --format=json -o "$WORK/json" "$OLD.rec"
	expect_quiet_ok
	expect_same "$OLD.json" "$WORK/json" "the JSON"
	run_report --format=pprof -o "$WORK/pb.gz" "$OLD.rec"
	expect_quiet_ok
	expect_same "$OLD.pb.gz" "$WORK/pb.gz" "the pprof profile"
fi
tc_end

bin=$TGT/regress.v1
tc "format 2: a new record has the program line: path and build ID"
ok=0
if need_file "$bin"; then
	run_ip --record="$WORK/new.rec" -o /dev/null -- "$bin" "$MARK"
	expect_exit 0
	id=$(readelf -n "$bin" | awk '/Build ID:/ { print $3 }')
	[ -n "$id" ] || fail "readelf finds no build ID in $bin"
	[ "$(sed -n 1p "$WORK/new.rec")" = "iprofmem-record 2" ] ||
		fail "first line '$(sed -n 1p "$WORK/new.rec")', want 'iprofmem-record 2'"
	want=$(printf 'program\t%s\t%s' "$(realpath "$bin")" "$id")
	[ "$(sed -n 2p "$WORK/new.rec")" = "$want" ] ||
		fail "second line '$(sed -n 2p "$WORK/new.rec")', want '$want'"
	grep -c '^program' "$WORK/new.rec" | grep -qx 1 || fail "not one program line"
	[ -s "$WORK/new.rec" ] && ok=1
fi
tc_end

tc "diff format-1 format-2 (the same program): loads both, the exact functions +0"
if [ $ok = 1 ]; then
	run_ip diff --format=csv "$OLD.rec" "$WORK/new.rec"
	expect_exit 0
	# regress.c's functions of known pages (main, setup also count the
	# loader's and libc's pages, which vary)
	rows=$(awk -F, 'NR > 1 && $5 ~ /^(steady|grows|shrinks|old_name|only_v1)$/' "$ERR")
	[ "$(echo "$rows" | grep -c .)" = 5 ] || { fail "not the 5 functions"; note_file "$ERR"; }
	bad=$(echo "$rows" | awk -F, '$10 != 0')
	[ -z "$bad" ] || fail "a change is not 0: $bad"
	run_ip diff --format=pprof -o "$WORK/d.pb.gz" "$WORK/new.rec" "$OLD.rec"
	expect_quiet_ok
fi
tc_end

exit $((N_FAILED > 0))
