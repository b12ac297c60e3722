#!/usr/bin/env bash
# A longer fuzzing run: every fuzz target of the module (found with
# `go test -list '^Fuzz' ./...`), one at a time, for FUZZTIME each. A target
# that finds a crash fails the run; its input is kept under the package's
# testdata/fuzz/<target>/, where plain `go test` replays it from then on.
# The other targets still run, and a summary is printed at the end.
#
# Environment: GO (go), FUZZTIME (30s; a duration or Nx for N runs),
# FUZZ_MATCH (an extended regexp the target names must match, default all),
# FUZZ_PARALLEL (fuzzing workers per target; default GOMAXPROCS),
# FUZZ_MINIMIZETIME (2s: time to shrink each new input; go's default of 60s
# lets a target spend its whole turn minimizing instead of fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
MATCH=${FUZZ_MATCH:-.}
MINTIME=${FUZZ_MINIMIZETIME:-2s}
par=()
[ -n "${FUZZ_PARALLEL:-}" ] && par=(-parallel "$FUZZ_PARALLEL")

# `go test -list` prints a package's test names, then its "ok <pkg>" line.
listing=$(mktemp "${TMPDIR:-/tmp}/fuzz-list.XXXXXX")
trap 'rm -f "$listing"' EXIT
list_failed=0
$GO test -list '^Fuzz' ./... >"$listing" 2>&1 || list_failed=1

targets=()
names=()
while IFS= read -r line; do
	case "$line" in
	Fuzz*) names+=("$line") ;;
	ok*)
		pkg=$(awk '{print $2}' <<<"$line")
		for n in "${names[@]+"${names[@]}"}"; do
			targets+=("$pkg $n")
		done
		names=()
		;;
	*) names=() ;;
	esac
done <"$listing"
if [ "$list_failed" -ne 0 ]; then
	echo "fuzz: listing the fuzz targets failed in some packages:" >&2
	grep -E '^(FAIL|#|.*\.go:[0-9]+)' "$listing" >&2 || true
fi
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no fuzz target found" >&2
	exit 1
fi

results=()
failed=0
for t in "${targets[@]}"; do
	pkg=${t% *}
	name=${t#* }
	[[ $name =~ $MATCH ]] || continue
	echo "fuzz: $name in $pkg for $FUZZTIME" >&2
	log=$(mktemp "${TMPDIR:-/tmp}/fuzz-run.XXXXXX")
	start=$SECONDS
	if $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$MINTIME" "${par[@]+"${par[@]}"}" "$pkg" >"$log" 2>&1; then
		status=ok
	else
		status=FAILED
		failed=1
		cat "$log" >&2
	fi
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | awk '{print $2}')
	results+=("$(printf '%-7s %-24s %-48s %10s execs %4ds' "$status" "$name" "$pkg" "${execs:-?}" $((SECONDS - start)))")
	rm -f "$log"
done

echo
echo "fuzz: FUZZTIME=$FUZZTIME per target"
printf '%s\n' "${results[@]}"
if [ "$list_failed" -ne 0 ]; then
	echo "fuzz: some packages could not be listed (see above)" >&2
	exit 1
fi
exit "$failed"
