# shellcheck shell=bash
# bench/account.sh - sourced by bench/run and bench/callgrind (after
# script/lib.sh): measure as a signed-in person, the way a browser uses the
# app since accounts (issue 8, docs/accounts.md). The functions
# (app_has_accounts, signup_and_cookie, page_csrf_token, ...) are the
# tests' own, in tests/account.sh.
# shellcheck source=tests/account.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/account.sh"
