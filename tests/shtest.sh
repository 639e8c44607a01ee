# shellcheck shell=bash
# tests/shtest.sh - cmocka-style test cases for shell test scripts. Source
# it, define one function per case, then `sh_run_tests name...`: each case
# runs in a subshell (set -u, no -e: a check that fails says why with
# `fail`, and the case goes on unless it returns), and the output is
# cmocka's, which script/test counts:
#   [ RUN      ] name / [       OK ] name / [  FAILED  ] name / [  SKIPPED ] name
#   [  PASSED  ] N test(s).
#   [  FAILED  ] N test(s), listed below:
# A case skips with `skip "why"` (it counts neither as passed nor failed,
# and says so). Exit status: 1 if a case failed, 77 (automake's SKIP) if
# every case skipped, else 0.

sh_failed=0

# fail MESSAGE...: the current case fails (it goes on; `return` to stop).
fail() {
	printf '    FAIL: %s\n' "$*"
	sh_failed=1
}

# skip MESSAGE: the current case did not run (call it as `skip ...; return`).
skip() {
	printf '    SKIP: %s\n' "$*"
	sh_skipped=1
}

# check DESCRIPTION COMMAND...: run COMMAND; fail with DESCRIPTION unless it
# succeeds.
check() {
	local what=$1
	shift
	"$@" || fail "$what"
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
	[[ $2 == "$3" ]] || fail "$1: expected \"$2\", got \"$3\""
}

# expect_match DESCRIPTION EXTENDED-REGEX TEXT
expect_match() {
	[[ $3 =~ $2 ]] || fail "$1: \"$3\" does not match /$2/"
}

# expect_no_match DESCRIPTION EXTENDED-REGEX TEXT
expect_no_match() {
	[[ ! $3 =~ $2 ]] || fail "$1: \"$3\" matches /$2/"
}

sh_run_tests() {
	local name passed=0 failed=0 skipped=0 rc
	local -a failed_names=() skipped_names=()
	printf '[==========] Running %d test(s).\n' $#
	for name in "$@"; do
		printf '[ RUN      ] %s\n' "$name"
		(
			sh_failed=0 sh_skipped=0
			"$name"
			rc=$?
			[[ $rc -ne 0 && $sh_failed -eq 0 && $sh_skipped -eq 0 ]] &&
				{ printf '    FAIL: %s returned %d\n' "$name" "$rc"; sh_failed=1; }
			if [[ $sh_failed -ne 0 ]]; then exit 1; fi
			if [[ $sh_skipped -ne 0 ]]; then exit 77; fi
			exit 0
		)
		rc=$?
		case $rc in
		0) printf '[       OK ] %s\n' "$name"; passed=$((passed + 1)) ;;
		77) printf '[  SKIPPED ] %s\n' "$name"; skipped=$((skipped + 1)); skipped_names+=("$name") ;;
		*) printf '[  FAILED  ] %s\n' "$name"; failed=$((failed + 1)); failed_names+=("$name") ;;
		esac
	done
	printf '[==========] %d test(s) run.\n' $#
	printf '[  PASSED  ] %d test(s).\n' "$passed"
	if [[ $skipped -gt 0 ]]; then
		printf '[  SKIPPED ] %d test(s), listed below:\n' "$skipped"
		for name in "${skipped_names[@]}"; do printf '[  SKIPPED ] %s\n' "$name"; done
	fi
	if [[ $failed -gt 0 ]]; then
		printf '[  FAILED  ] %d test(s), listed below:\n' "$failed"
		for name in "${failed_names[@]}"; do printf '[  FAILED  ] %s\n' "$name"; done
		printf '\n %d FAILED TEST(S)\n' "$failed"
		return 1
	fi
	[[ $passed -eq 0 && $skipped -gt 0 ]] && return 77
	return 0
}
