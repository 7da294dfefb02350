#!/usr/bin/env bash
# Every view of the views target (test/targets/views/views.c), whose pages
# per function and per call path are exact: JSON (schema, version 1, exact
# bytes, calls, total_calls, self, peak, per function and per path), CSV
# (parses, same numbers as the JSON), the default table (exact rows, the
# same as the JSON), the call-path tree (inclusive sums, callees indented
# under their caller, siblings biggest first, --min), --columns (self, peak,
# total-calls), --top=N, and the folded stacks.  One traced run per variant
# writes the JSON, the folded stacks and a record; the other views are
# printed from that record by 'iprofmem report' (test_views_record.sh shows
# that a report is the live run's view, byte for byte).  Then: a program
# whose main never returns (exit() from main) keeps, in every view, what
# the calls below main measured; and a source path full of characters to
# escape (& < > " ' , tab, backslash, UTF-8) comes out intact in JSON, CSV,
# the table, the tree and the SVG titles.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/views_lib.sh"

# tree_lines FILE: the node lines of a tree, as "DEPTH<TAB>MB<TAB>CALLS<TAB>NAME<TAB>LOC".
tree_lines() {
	awk 'NR > 2 && !/^-+$/ && !/^Memory \(MB\)/ {
		rest = substr($0, 22); d = 0
		while (substr(rest, 1, 2) == "  ") { d++; rest = substr(rest, 3) }
		name = rest; sub(/  \(.*$/, "", name)
		loc = rest; sub(/^[^ ]*  \(/, "", loc); sub(/\)$/, "", loc)
		printf "%d\t%s\t%d\t%s\t%s\n", d, substr($0, 1, 10) + 0, substr($0, 13, 7) + 0, name, loc
	}' "$1"
}

# tree_node DEPTH PAGES CALLS FUNC: the exact tree line of a views node.
tree_node() {
	printf '%s  %7d  %*s%s  (%s)' "$(mb_field "$2")" "$3" $((2 * $1)) '' "$4" "$(views_loc "$4")"
}

# expect_tree_layout FILE: header, 30 dashes, well-formed node lines (one
# root per process, depth steps of one), siblings biggest first, dashes and
# header at the end.
TREE_HEADER='Memory (MB)   Calls  Call path'
TREE_DASHES='------------------------------'
expect_tree_layout() {
	local bad
	expect_framed "$1" "$TREE_HEADER" "$TREE_DASHES" || return 1
	bad=$(awk '!/^ *[0-9][0-9.e+-]*  +[0-9]+  (  )*[^ ].*  \(.*:[0-9]+\)$/ || length($0) < 22 || substr($0, 11, 2) != "  " || substr($0, 20, 2) != "  " {
		print "malformed node line: " $0; exit }' "$FRAMED_ROWS")
	[ -z "$bad" ] || { fail "$bad"; return 1; }
	bad=$(tree_lines "$1" | awk -F'\t' '
		NR == 1 && $1 != 0 { print "first node not at depth 0"; exit }
		NR > 1 && $1 > prev + 1 { print "depth jumps from " prev " to " $1 " at " $4; exit }
		{
			if (($1 in last) && $2 > last[$1]) { print $4 " (" $2 " MB) after a smaller sibling (" last[$1] " MB)"; exit }
			last[$1] = $2
			for (k in last) if (k + 0 > $1 + 0) delete last[k]
			prev = $1
		}')
	[ -z "$bad" ] || { fail "siblings: $bad"; note_file "$1"; }
}

# expect_block FILE LINES: LINES (newline-separated) appear in FILE as
# consecutive lines, in that order.
expect_block() {
	local want=$WORK/block.want
	printf '%s\n' "$2" >"$want"
	if ! python3 - "$1" "$want" <<'EOF'
import sys
got = open(sys.argv[1]).read().splitlines()
want = open(sys.argv[2]).read().splitlines()
n = len(want)
sys.exit(0 if any(got[i:i + n] == want for i in range(len(got) - n + 1)) else 1)
EOF
	then
		fail "these lines are not in a block, in order: $(head -n1 "$want" | sed 's/^ *//')..."
		note "$(cat "$want")"
		note "--- got:"
		note "$(cat "$1")"
	fi
}

# The target itself, untraced (once, with the normal build's pass): built
# from the current source, and RSS grows by the designed pages around each
# function, so that a wrong number below is iprofmem's.
if [ -z "$TAG" ]; then
	for v in $VIEWS_VARIANTS; do
		tc "targets: views.$v current, selfcheck (untraced RSS deltas as designed)"
		if need_file "$TGT/views.$v"; then
			[ "$VIEWS_SRC" -nt "$TGT/views.$v" ] && fail "older than views.c (make e2e-targets)"
			timeout 30 "$TGT/views.$v" selfcheck >"$WORK/self" 2>&1
			rc=$?
			if [ $rc -ne 0 ] || ! grep -qx 'selfcheck passed' "$WORK/self"; then
				fail "exit $rc; $(grep -m1 MISMATCH "$WORK/self")"
				note_file "$WORK/self"
			fi
		fi
		tc_end
	done
fi

for v in $VIEWS_VARIANTS; do
	bin=$TGT/views.$v
	D=$WORK/$v
	mkdir -p "$D"
	R=$D/rec

	tc "views.$v: --format=json -o, --record, --folded in one run (exit 0, nothing on stdout/stderr)"
	ok=0
	if need_file "$bin" && need_python; then
		run_ip --format=json -o "$D/live.json" --record="$R" --folded="$D/folded" -- "$bin" "$MARK"
		expect_quiet_ok
		[ -s "$D/live.json" ] && [ -s "$R" ] && [ -s "$D/folded" ] && ok=1
		[ $ok = 1 ] || fail "an output file is missing or empty"
	fi
	tc_end
	if [ $ok != 1 ]; then
		tc "views.$v: the other views"; fail "no run to check"; tc_end
		continue
	fi

	tc "views.$v: JSON parses, schema version 1, functions and paths exact"
	views_py json "$D/live.json" --merged --expect
	tc_end

	tc "views.$v: table rows exact, no row for mark, same as the JSON"
	run_report "$R"
	expect_exit 0
	cp "$ERR" "$D/table"
	if expect_only_table "$D/table"; then
		for f in $VIEWS_EXACT; do
			expect_row "$(views_key "$f")" "$(views_expect "$f" pages)" "$(views_expect "$f" calls)"
		done
		expect_no_row "$(views_key mark)"
		expect_rows_only views/views $VIEWS_EXACT $VIEWS_INEXACT
		[ ${#ROWS[@]} -eq 9 ] || fail "${#ROWS[@]} rows, want 9"
		expect_sorted
		views_py table-json "$D/table" "$D/live.json"
	fi
	tc_end

	tc "views.$v: CSV parses, header, same rows and numbers as the JSON"
	run_report --format=csv -o "$D/csv" "$R"
	expect_quiet_ok
	views_py csv "$D/csv" "$D/live.json"
	tc_end

	tc "views.$v: tree: inclusive sums, callees under callers, siblings biggest first"
	run_report --tree "$R"
	expect_exit 0
	cp "$ERR" "$D/tree"
	if expect_tree_layout "$D/tree"; then
		expect_block "$D/tree" "$(tree_node 1 42 1 run)
$(tree_node 2 21 1 alloc_big)
$(tree_node 3 20 1 leaf)
$(tree_node 2 10 1 alloc_small)
$(tree_node 3 8 2 leaf)
$(tree_node 2 5 1 poll_loop)
$(tree_node 3 3 3 sometimes)
$(tree_node 2 4 1 spike)"
		tree_lines "$D/tree" >"$D/tree.tsv"
		[ "$(head -n1 "$D/tree.tsv" | cut -f1,4,5)" = "0	main	$(views_loc main)" ] ||
			fail "first node is not main at depth 0: '$(sed -n 3p "$D/tree")'"
		[ "$(awk -F'\t' '$4 == "setup" && $1 == 1 && $3 == 1' "$D/tree.tsv" | wc -l)" -eq 1 ] ||
			fail "no single setup node under main"
		[ "$(wc -l <"$D/tree.tsv")" -eq 10 ] || fail "$(wc -l <"$D/tree.tsv") nodes, want 10"
		grep -q '  mark  (' "$D/tree" && fail "a node for mark, which grew nothing"
	fi
	tc_end

	tc "views.$v: tree --min=0.02 prunes the subtrees at or below 0.02 MB"
	run_report --tree --min=0.02 "$R"
	expect_exit 0
	cp "$ERR" "$D/tree.min"
	if expect_tree_layout "$D/tree.min"; then
		expect_block "$D/tree.min" "$(tree_node 1 42 1 run)
$(tree_node 2 21 1 alloc_big)
$(tree_node 3 20 1 leaf)
$(tree_node 2 10 1 alloc_small)
$(tree_node 3 8 2 leaf)"
		for f in poll_loop sometimes spike; do
			grep -q "  $f  (" "$D/tree.min" && fail "$f (at most 5 pages) not pruned"
		done
		[ "$(tree_lines "$D/tree.min" | wc -l)" -eq 7 ] || fail "$(tree_lines "$D/tree.min" | wc -l) nodes, want 7"
	fi
	tc_end

	tc "views.$v: --columns=self,peak,total-calls: header, dashes, exact values"
	run_report --columns=self,peak,total-calls "$R"
	expect_exit 0
	cp "$ERR" "$D/cols"
	if expect_framed "$D/cols" "$(col_header self,peak,total)" "$(col_dashes self,peak,total)"; then
		for f in $VIEWS_EXACT; do expect_line "$FRAMED_ROWS" "$(col_row self,peak,total "$f")" row; done
		[ "$(wc -l <"$FRAMED_ROWS")" -eq 9 ] || fail "$(wc -l <"$FRAMED_ROWS") rows, want 9"
		# the same rows, in the same order, as the default table
		cut -c1-19 "$FRAMED_ROWS" >"$D/cols.a"
		grep -v -e '^Memory' -e '^---' "$D/table" | cut -c1-19 >"$D/cols.b"
		cmp -s "$D/cols.a" "$D/cols.b" || fail "Memory and Calls differ from the default table"
		diff <(sed 's/.*  //' "$FRAMED_ROWS") <(grep -v -e '^Memory' -e '^---' "$D/table" | sed 's/.*  //') >/dev/null ||
			fail "keys or their order differ from the default table"
	fi
	tc_end

	tc "views.$v: --columns in any order and subsets: always self, peak, total"
	for spec in "total-calls,self:self,total" "peak:peak" "total-calls:total" "peak,self:self,peak" "total-calls,peak,self:self,peak,total"; do
		run_report --columns="${spec%%:*}" "$R"
		cp "$ERR" "$D/cols.sub"
		if [ $RC -ne 0 ]; then
			fail "--columns=${spec%%:*}: exit status $RC"
		elif expect_framed "$D/cols.sub" "$(col_header "${spec#*:}")" "$(col_dashes "${spec#*:}")"; then
			for f in $VIEWS_EXACT; do expect_line "$FRAMED_ROWS" "$(col_row "${spec#*:}" "$f")" "--columns=${spec%%:*} row"; done
		fi
	done
	tc_end

	tc "views.$v: --top=N keeps the N largest rows, still ascending"
	grep -v -e '^Memory' -e '^---' "$D/table" >"$D/table.rows"
	for n in 1 3 8 9 100; do
		run_report --top=$n "$R"
		cp "$ERR" "$D/top"
		if [ $RC -ne 0 ]; then
			fail "--top=$n: exit status $RC"
		elif expect_framed "$D/top" "$HEADER" "$DASHES"; then
			tail -n "$n" "$D/table.rows" >"$D/top.want"
			cmp -s "$D/top.want" "$FRAMED_ROWS" || { fail "--top=$n: not the $n last rows of the table"; note "$(diff "$D/top.want" "$FRAMED_ROWS")"; }
		fi
	done
	run_report --top=3 "$R"
	parse_table "$ERR"
	expect_row "$(views_key run)" 42 1
	[ ${#ROWS[@]} -eq 3 ] || fail "--top=3: ${#ROWS[@]} rows"
	run_report --top=2 --columns=self,total-calls "$R"
	cp "$ERR" "$D/top.cols"
	run_report --columns=self,total-calls "$R"
	if expect_framed "$ERR" "$(col_header self,total)" "$(col_dashes self,total)"; then
		tail -n 2 "$FRAMED_ROWS" >"$D/top.want"
		expect_framed "$D/top.cols" "$(col_header self,total)" "$(col_dashes self,total)" &&
			{ cmp -s "$D/top.want" "$FRAMED_ROWS" || fail "--top=2 --columns: not the last 2 rows"; }
	fi
	tc_end

	tc "views.$v: folded stacks: exact lines, self bytes, sorted"
	F=$D/folded
	while read -r stack pages rest; do
		self=$(awk -v s="$stack" '$1 == s { print $5 }' <<<"$VIEWS_PATH_TABLE")
		expect_line "$F" "$stack $((self * 4096))" "folded line"
	done <<<"$VIEWS_PATH_TABLE"
	bad=$(grep -v -E '^[A-Za-z_][A-Za-z0-9_]*(;[A-Za-z_][A-Za-z0-9_]*)* [1-9][0-9]*$' "$F" | head -n1)
	[ -z "$bad" ] && [ -n "$(tail -c1 "$F")" ] && bad="no newline at the end"
	[ -z "$bad" ] || fail "malformed folded line: '$bad'"
	LC_ALL=C sort -c "$F" 2>/dev/null || fail "not sorted"
	[ "$(cut -d' ' -f1 "$F" | sort | uniq -d | head -n1)" = "" ] || fail "a stack appears twice"
	others=$(cut -d' ' -f1 "$F" | grep -v -x -F -f <(cut -d' ' -f1 <<<"$VIEWS_PATH_TABLE") | tr '\n' ' ')
	case "$others" in
	"main main;setup " | "main;setup ") ;;
	*) fail "other stacks than main;run's, main;setup and main: '$others'" ;;
	esac
	grep -q -E '^main;setup [1-9][0-9]*$' "$F" || fail "no main;setup line"
	sum=$(awk '$1 ~ /^main;run(;|$)/ { s += $2 } END { print s + 0 }' "$F")
	[ "$sum" -eq $((42 * 4096)) ] || fail "the main;run stacks sum to $sum bytes, not run's $((42 * 4096))"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$F"
	tc_end
done

# main never returns (exit() from main, as many programs end): the calls
# below it completed, so every view still shows them.
bin=$TGT/views.O2-pie
D=$WORK/exit
mkdir -p "$D"
tc "views.O2-pie exit: main calls exit(): table rows exact, main has none"
if need_file "$bin" && need_python; then
	run_ip --format=json -o "$D/json" --record="$D/rec" --folded="$D/folded" -- "$bin" exit "$MARK"
	expect_quiet_ok
	run_report "$D/rec"
	if expect_only_table "$ERR"; then
		for f in $VIEWS_EXACT; do
			expect_row "$(views_key "$f")" "$(views_expect "$f" pages)" "$(views_expect "$f" calls)"
		done
		expect_no_row "$(views_key main)"
	fi
fi
tc_end

tc "views.O2-pie exit: the tree still shows run's subtree, exact"
if [ -s "$D/rec" ]; then
	run_report --tree "$D/rec"
	cp "$ERR" "$D/tree"
	tree_lines "$D/tree" >"$D/tree.tsv"
	depth=$(awk -F'\t' '$4 == "run" { print $1; exit }' "$D/tree.tsv")
	if [ -z "$depth" ]; then
		fail "no node for run (main never returned, but run did)"
		note_file "$D/tree"
	else
		expect_block "$D/tree" "$(tree_node "$depth" 42 1 run)
$(tree_node $((depth + 1)) 21 1 alloc_big)
$(tree_node $((depth + 2)) 20 1 leaf)
$(tree_node $((depth + 1)) 10 1 alloc_small)
$(tree_node $((depth + 2)) 8 2 leaf)
$(tree_node $((depth + 1)) 5 1 poll_loop)
$(tree_node $((depth + 2)) 3 3 sometimes)
$(tree_node $((depth + 1)) 4 1 spike)"
	fi
else
	fail "no record"
fi
tc_end

tc "views.O2-pie exit: JSON schema; its paths still hold run's, exact"
if [ -s "$D/json" ]; then
	views_py json "$D/json" --merged
	python3 - "$D/json" <<'EOF' >"$D/paths" 2>&1
import json, sys
p = json.load(open(sys.argv[1]))["processes"][0]
f, ids = p["functions"], {q["id"]: q for q in p["paths"]}
for q in p["paths"]:
    names, r = [], q
    while r is not None:
        names.append(f[r["function"]]["name"])
        r = ids.get(r["parent"])
    print(";".join(reversed(names)), q["memory_bytes"], q["calls"])
EOF
	while read -r stack pages calls rest; do
		grep -q -E "^(main;)?${stack#main;} $((pages * 4096)) $calls\$" "$D/paths" ||
			fail "no path ${stack#main;} with $((pages * 4096)) bytes in $calls calls"
	done <<<"$VIEWS_PATH_TABLE"
	[ ${#TC_ERRS[@]} -eq 0 ] || note "paths: $(wc -l <"$D/paths") ($(head -c 200 "$D/paths" | tr '\n' '|'))"
else
	fail "no JSON"
fi
tc_end

tc "views.O2-pie exit: folded stacks still hold run's"
if [ -s "$D/folded" ]; then
	while read -r stack _ _ _ self _; do
		grep -q -x -E "(main;)?${stack#main;} $((self * 4096))" "$D/folded" || fail "no line ${stack#main;} $((self * 4096))"
	done <<<"$VIEWS_PATH_TABLE"
else
	fail "no folded file"
fi
tc_end

# A source path with characters each format must escape: & < > " ' , a tab,
# a backslash and UTF-8.  views.c copied there and built at test time.
ODD=$WORK/$'odd &<d> "q",x\'s\ttab\\\xc3\xa9'
D=$WORK/odd
mkdir -p "$D" "$ODD"
tc "views.c under an odd path: JSON, CSV, table, tree, SVG titles carry the path"
if need_python && cp "$VIEWS_SRC" "$ODD/views.c" &&
	(cd "$ODD" && ${CC:-cc} -std=gnu11 -g -O2 -fPIE -pie -fcf-protection=none -Wl,-z,now \
		-o views views.c) >"$D/cc.log" 2>&1; then
	run_ip --format=json -o "$D/json" --record="$D/rec" --flamegraph="$D/flame.svg" \
		--timeline="$D/timeline.svg" -- "$ODD/views" "$MARK"
	expect_quiet_ok
	VIEWS_SRC=$ODD/views.c views_py json "$D/json" --merged --expect
	run_report --format=json "$D/rec"
	expect_same "$D/json" "$ERR" "report --format=json"
	run_report --format=csv -o "$D/csv" "$D/rec"
	views_py csv "$D/csv" "$D/json"
	run_report "$D/rec"
	if expect_only_table "$ERR"; then
		expect_row "$ODD/views.c:$(views_line run):run" 42 1
		expect_row "$ODD/views.c:$(views_line leaf):leaf" 28 3
	fi
	run_report --tree "$D/rec"
	expect_line "$ERR" "$(printf '%s  %7d    run  (%s:%s)' "$(mb_field 42)" 1 "$ODD/views.c" "$(views_line run)")" "tree line"
	for f in flame.svg timeline.svg; do views_py svg "$D/$f"; done
	# a control character may be shown as U+FFFD in SVG text
	python3 "$VIEWS_PY" titles "$D/flame.svg" 2>&1 | sed $'s/\xef\xbf\xbd/\t/g' >"$D/titles"
	expect_line "$D/titles" "run ($ODD/views.c:$(views_line run)) — inclusive self $(mb4 42) MB; memory $(mb4 42) MB in 1 call" "flame graph title"
	python3 "$VIEWS_PY" texts "$D/timeline.svg" 2>&1 | sed $'s/\xef\xbf\xbd/\t/g' >"$D/texts"
	expect_line "$D/texts" "leaf ($ODD/views.c:$(views_line leaf)): memory $(mb4 28) MB in 3 calls" "timeline legend line"
else
	fail "cannot build views.c under an odd path with ${CC:-cc}"
	note_file "$D/cc.log"
fi
tc_end

[ $N_FAILED -eq 0 ]
