#!/usr/bin/env bash
# The SVG views of the views target: the flame graph and the timeline parse
# as XML, are self-contained (no script, no event handler, no reference to
# anything outside the file), carry the exact titles and legend lines the
# numbers of views.c give, and render in headless Chromium (its DOM dump is
# the SVG, not a parser error page).  Chromium is a test dependency (make
# deps); without it the rendering case fails.  It runs once per 'make
# check' (for the normal build; the ASan build's SVGs are compared, byte
# for byte, with the normal build's from the same record instead), two
# Chromium invocations in all.
. "$(dirname "$0")/lib.sh"
. "$E2E_DIR/views_lib.sh"

bin=$TGT/views.O2-pie
D=$WORK/svg
mkdir -p "$D"
FG=$D/flame.svg
TL=$D/timeline.svg
# The normal build, which the ASan run compares its SVGs with.
NORMAL=$TOP/iprofmem

tc "views.O2-pie: --flamegraph and --timeline written (exit 0, table on stderr)"
ok=0
if need_file "$bin" && need_python; then
	run_ip --flamegraph="$FG" --timeline="$TL" --record="$D/rec" -- "$bin" "$MARK"
	expect_exit 0
	expect_only_table "$ERR"
	[ -s "$FG" ] && [ -s "$TL" ] && ok=1
	[ $ok = 1 ] || fail "an SVG is missing or empty"
fi
tc_end

for f in "$FG" "$TL"; do
	tc "views.O2-pie: ${f##*/} parses as XML, an <svg>, self-contained"
	if [ $ok = 1 ]; then
		views_py svg "$f"
		if command -v xmllint >/dev/null 2>&1 && ! xmllint --noout "$f" 2>"$D/xmllint"; then
			fail "xmllint: $(head -n1 "$D/xmllint")"
		fi
		grep -q -i '<script' "$f" && fail "a <script"
		grep -q -i -E '(xlink:)?href="[^#]' "$f" && fail "an external href"
		grep -q -E '^<\?xml version="1.0" encoding="UTF-8"' "$f" || fail "no <?xml version=\"1.0\" encoding=\"UTF-8\"...?> declaration"
	else
		fail "no SVG"
	fi
	tc_end
done

# The flame graph: a frame per call path, titled "name (file:line) —
# inclusive self X MB; memory Y MB in N call(s)" with the path's inclusive
# self memory (its width), its memory and calls: in this tree no caller
# frees what its callees touched, so X and Y are the same.
flame_title() {
	local s=s
	[ "$3" -eq 1 ] && s=
	printf '%s (%s) \xe2\x80\x94 inclusive self %s MB; memory %s MB in %d call%s' \
		"$1" "$(views_loc "$1")" "$(mb4 "$2")" "$(mb4 "$2")" "$3" "$s"
}

tc "views.O2-pie: flame graph: a <title> per frame, exact for every known path"
if [ $ok = 1 ]; then
	python3 "$VIEWS_PY" titles "$FG" >"$D/titles" 2>&1 || fail "cannot read the titles"
	while read -r stack pages calls rest; do
		expect_line "$D/titles" "$(flame_title "${stack##*;}" "$pages" "$calls")" "title"
	done <<<"$VIEWS_PATH_TABLE"
	for f in main setup; do
		n=$(grep -F "$f ($(views_loc $f)) — " "$D/titles" | grep -c -E ' — inclusive self [0-9.e+-]+ MB; memory [0-9.e+-]+ MB in 1 call$')
		[ "$n" -eq 1 ] || fail "$n titles for $f with 1 call, want 1"
	done
	n=$(grep -c -E '^[A-Za-z_]+ \(/.*:[0-9]+\) — inclusive self [0-9.e+-]+ MB; memory [0-9.e+-]+ MB in [0-9]+ calls?$' "$D/titles")
	[ "$n" -eq 10 ] || fail "$n frame titles, want 10 (8 known paths, main, setup)"
	others=$(grep -v -E '^[A-Za-z_]+ \(/.*:[0-9]+\) — ' "$D/titles" | grep -v -E '^all — inclusive self [0-9.e+-]+ MB$')
	[ -z "$others" ] || fail "other titles: '$(head -n1 <<<"$others")'"
	grep -q '^mark ' "$D/titles" && fail "a frame for mark, which grew nothing"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$D/titles"
else
	fail "no SVG"
fi
tc_end

# The timeline: the RSS polyline, a legend line "name (file:line): memory X
# MB in N call(s)" for each of the top functions (5, or --top), biggest
# first, and spans titled "name: memory +X MB, ..." for their biggest calls.
legend_line() {
	local s=s
	[ "$3" -eq 1 ] && s=
	printf '%s (%s): memory %s MB in %d call%s' "$1" "$(views_loc "$1")" "$(mb4 "$2")" "$3" "$s"
}
LEGEND_RE='^[A-Za-z_]+ \(/.*:[0-9]+\): memory [0-9.e+-]+ MB in [0-9]+ calls?$'

tc "views.O2-pie: timeline: RSS polyline, 5 legend lines exact and biggest first, spans"
if [ $ok = 1 ]; then
	npts=$(python3 "$VIEWS_PY" polylines "$TL" 2>/dev/null | sort -n | tail -n1)
	[ "${npts:-0}" -ge 2 ] || fail "no RSS polyline with 2 points or more"
	python3 "$VIEWS_PY" texts "$TL" >"$D/texts" 2>&1
	grep -E "$LEGEND_RE" "$D/texts" >"$D/legend"
	[ "$(wc -l <"$D/legend")" -eq 5 ] || fail "$(wc -l <"$D/legend") legend lines, want 5"
	sed -E 's/ \(.*//' "$D/legend" | tr '\n' ' ' >"$D/legend.names"
	[ "$(cat "$D/legend.names")" = "main setup run leaf alloc_big " ] ||
		fail "legend: '$(cat "$D/legend.names")', want 'main setup run leaf alloc_big'"
	for f in run leaf alloc_big; do
		expect_line "$D/legend" "$(legend_line $f "$(views_expect $f pages)" "$(views_expect $f calls)")" "legend line"
	done
	python3 "$VIEWS_PY" titles "$TL" >"$D/spans" 2>&1
	for want in "run: memory +$(mb4 42) MB, " "alloc_big: memory +$(mb4 21) MB, " "leaf: memory +$(mb4 20) MB, "; do
		grep -q -F -- "$want" "$D/spans" || fail "no span '$want...'"
	done
	bad=$(sed -E 's/:.*//' "$D/spans" | grep -v -x -E 'main|setup|run|leaf|alloc_big' | head -n1)
	[ -z "$bad" ] || fail "a span for $bad, not one of the top 5"
	[ ${#TC_ERRS[@]} -eq 0 ] || note_file "$D/texts"
else
	fail "no SVG"
fi
tc_end

tc "views.O2-pie: report --top=3 --timeline R: 3 legend lines, the 3 biggest"
if [ $ok = 1 ]; then
	run_report --top=3 --timeline="$D/tl3.svg" "$D/rec"
	expect_exit 0
	views_py svg "$D/tl3.svg"
	python3 "$VIEWS_PY" texts "$D/tl3.svg" 2>/dev/null | grep -E "$LEGEND_RE" | sed -E 's/ \(.*//' | tr '\n' ' ' >"$D/legend3"
	[ "$(cat "$D/legend3")" = "main setup run " ] || fail "legend: '$(cat "$D/legend3")', want 'main setup run'"
else
	fail "no record"
fi
tc_end

# ------------------------------------------------------------------ Chromium

# chromium_dom FILE OUT: the DOM Chromium builds from FILE, in OUT.
chromium_dom() {
	local prof
	prof=$(mktemp -d "$WORK/chromium.XXXXXX")
	{ timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$prof" --dump-dom "file://$1" \
		</dev/null >"$2" 2>"$2.err"; } 2>/dev/null
	local rc=$?
	rm -rf "$prof"
	return $rc
}

if [ -z "$TAG" ]; then
	tc "views.O2-pie: the flame graph and the timeline render in headless Chromium"
	if ! command -v chromium >/dev/null 2>&1; then
		fail "chromium is missing: run 'make deps' (as root) to install it"
	elif [ $ok != 1 ]; then
		fail "no SVG"
	else
		for f in "$FG" "$TL"; do
			if ! chromium_dom "$f" "$D/dom"; then
				fail "chromium on ${f##*/}: exit status $?"
				note_file "$D/dom.err"
				continue
			fi
			if grep -q -i -e 'parsererror' -e 'This page contains the following errors' "$D/dom"; then
				fail "${f##*/}: Chromium reports an XML error: $(grep -o -m1 'error on line[^<]*' "$D/dom")"
			elif ! head -c 200 "$D/dom" | grep -q '^<svg'; then
				fail "${f##*/}: the DOM is not an <svg>: '$(head -c 80 "$D/dom")'"
			fi
			case $f in
			"$FG") for t in "$(flame_title run 42 1)" "$(flame_title sometimes 3 3)" "$(flame_title leaf 8 2)"; do
					grep -q -F "<title>$t</title>" "$D/dom" || fail "flame graph DOM: no title '$t'"
				done ;;
			"$TL") grep -q -F "$(legend_line leaf 28 3)" "$D/dom" || fail "timeline DOM: no legend line for leaf"
				grep -q '<polyline' "$D/dom" || fail "timeline DOM: no polyline" ;;
			esac
		done
	fi
	tc_end
else
	# The ASan build: its SVGs are the normal build's, from the same record.
	tc "views.O2-pie: report --flamegraph/--timeline R: the same bytes as the normal build's"
	if [ $ok != 1 ]; then
		fail "no record"
	elif [ ! -x "$NORMAL" ]; then
		fail "no normal build $NORMAL to compare with (make all)"
	else
		{ timeout -k 5 "$E2E_TIMEOUT" "$NORMAL" report --flamegraph="$D/fg.n.svg" \
			--timeline="$D/tl.n.svg" "$D/rec" </dev/null >/dev/null 2>&1; } 2>/dev/null ||
			fail "the normal build's report failed"
		expect_same "$D/fg.n.svg" "$FG" "flame graph"
		expect_same "$D/tl.n.svg" "$TL" "timeline"
	fi
	tc_end
fi

[ $N_FAILED -eq 0 ]
