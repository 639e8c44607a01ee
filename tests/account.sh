# shellcheck shell=bash
# tests/account.sh - sourced by the shell tests and by bench/ (through
# bench/account.sh): talk to the app as a signed-in person, the way a
# browser does since accounts (issue 8, docs/accounts.md). Needs curl.
#
# The functions run curl as "${account_curl[@]}" (default: curl); a
# script whose requests need more (--cacert, --resolve, its own wrapper
# function) sets account_curl after sourcing this. They return 1 and say
# why on standard error ("error: ...") when the app does not answer as
# docs/accounts.md says; call them in $(...) and check the status.

account_curl=(curl)

# account_error MESSAGE...: says why on standard error; returns 1.
account_error() {
	printf 'error: %s\n' "$*" >&2
	return 1
}

# app_has_accounts BASE: the app at BASE has a sign-up page (an app from
# before accounts answers 404 there).
app_has_accounts() {
	[[ $("${account_curl[@]}" -sS -o /dev/null -w '%{http_code}' "$1/signup") == 200 ]]
}

# set_cookie NAME <HEADERS: NAME=VALUE of the response's Set-Cookie for
# NAME (or __Host-NAME, its staging and production name); empty if none.
set_cookie() {
	tr -d '\r' | sed -n "s/^[Ss]et-[Cc]ookie: *\(\(__Host-\)\{0,1\}$1=[^;]*\).*/\1/p" |
		tail -n 1
}

# form_csrf_token <PAGE: the value of the first csrf_token field.
form_csrf_token() {
	sed -n '/name="csrf_token" value="/{s/.*name="csrf_token" value="\([^"]*\)".*/\1/p;q;}'
}

# signup_and_cookie BASE EMAIL DIR: signs EMAIL up at BASE with a random
# passphrase (GET /signup: the pre-session cookie and the form's
# csrf_token; POST /signup: 303 and the session cookie) and prints the
# session cookie as NAME=VALUE, for a Cookie: header. DIR keeps the
# exchanged headers and pages.
signup_and_cookie() {
	local base=$1 email=$2 dir=$3 code token pre pass cookie
	code=$("${account_curl[@]}" -sS -o "$dir/signup.html" -D "$dir/signup.hdr" \
		-w '%{http_code}' "$base/signup") || { account_error "GET $base/signup failed"; return; }
	[[ $code == 200 ]] || { account_error "GET /signup answered $code, not 200"; return; }
	token=$(form_csrf_token <"$dir/signup.html")
	pre=$(set_cookie presession <"$dir/signup.hdr")
	[[ -n $token ]] || { account_error "GET /signup: no csrf_token field in the form"; return; }
	[[ -n $pre ]] || { account_error "GET /signup: no presession cookie"; return; }
	# 32 random characters: in no dictionary, never the email.
	pass=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
	code=$("${account_curl[@]}" -sS -o "$dir/signup-post.html" -D "$dir/signup-post.hdr" \
		-w '%{http_code}' -H "Cookie: $pre" --data-urlencode "email=$email" \
		--data-urlencode "password=$pass" --data-urlencode "csrf_token=$token" \
		"$base/signup") || { account_error "POST $base/signup failed"; return; }
	[[ $code == 303 ]] ||
		{ account_error "POST /signup answered $code, not 303 ($(head -c 300 "$dir/signup-post.html"))"; return; }
	cookie=$(set_cookie session <"$dir/signup-post.hdr")
	[[ -n $cookie ]] || { account_error "POST /signup set no session cookie"; return; }
	printf '%s\n' "$cookie"
}

# page_csrf_token BASE COOKIE: the csrf_token of the list page's forms, as
# the person of COOKIE sees them (bound to the session, so one for all of
# its posts). Fails unless the page answers 200 with one: the cookie must
# sign in.
page_csrf_token() {
	local page code token
	page=$("${account_curl[@]}" -sS -w '\n%{http_code}' -H "Cookie: $2" "$1/todos") ||
		{ account_error "GET $1/todos failed"; return; }
	code=${page##*$'\n'}
	[[ $code == 200 ]] ||
		{ account_error "GET /todos with the session cookie answered $code, not 200"; return; }
	token=$(form_csrf_token <<<"$page")
	[[ -n $token ]] || { account_error "the list page has no csrf_token field"; return; }
	printf '%s\n' "$token"
}

# sign_up BASE EMAIL DIR: signup_and_cookie, then page_csrf_token; sets
# session_cookie (NAME=VALUE, for "Cookie: $session_cookie") and
# session_csrf (the csrf_token field of every post). Not in $(...).
# shellcheck disable=SC2034 # set for the caller
sign_up() {
	session_cookie='' session_csrf=''
	session_cookie=$(signup_and_cookie "$1" "$2" "$3") &&
		session_csrf=$(page_csrf_token "$1" "$session_cookie")
}
