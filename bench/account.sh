# shellcheck shell=bash
# bench/account.sh - sourced by bench/run and bench/callgrind (after
# script/lib.sh): measure as a signed-in person, the way a browser uses the
# app since accounts (issue 8, docs/accounts.md). Needs curl.

# app_has_accounts BASE: the app at BASE has a sign-up page (an app from
# before accounts answers 404 there, and is measured signed out).
app_has_accounts() {
	[[ $(curl -sS -o /dev/null -w '%{http_code}' "$1/signup") == 200 ]]
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
# exchanged headers and pages. Dies when the app does not answer as
# docs/accounts.md says.
signup_and_cookie() {
	local base=$1 email=$2 dir=$3 code token pre pass cookie
	code=$(curl -sS -o "$dir/signup.html" -D "$dir/signup.hdr" -w '%{http_code}' \
		"$base/signup") || die "GET $base/signup failed"
	[[ $code == 200 ]] || die "GET /signup answered $code, not 200"
	token=$(form_csrf_token <"$dir/signup.html")
	pre=$(set_cookie presession <"$dir/signup.hdr")
	[[ -n $token ]] || die "GET /signup: no csrf_token field in the form"
	[[ -n $pre ]] || die "GET /signup: no presession cookie"
	# 32 random characters: in no dictionary, never the email.
	pass=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
	code=$(curl -sS -o "$dir/signup-post.html" -D "$dir/signup-post.hdr" \
		-w '%{http_code}' -H "Cookie: $pre" --data-urlencode "email=$email" \
		--data-urlencode "password=$pass" --data-urlencode "csrf_token=$token" \
		"$base/signup") || die "POST $base/signup failed"
	[[ $code == 303 ]] || die "POST /signup answered $code, not 303 (see $dir/signup-post.html)"
	cookie=$(set_cookie session <"$dir/signup-post.hdr")
	[[ -n $cookie ]] || die "POST /signup set no session cookie"
	printf '%s\n' "$cookie"
}

# page_csrf_token BASE COOKIE: the csrf_token of the list page's forms, as
# the person of COOKIE sees them (bound to the session, so one for all of
# its posts). Dies unless the page answers 200: the cookie must sign in.
page_csrf_token() {
	local page code
	page=$(curl -sS -w '\n%{http_code}' -H "Cookie: $2" "$1/todos") ||
		die "GET $1/todos failed"
	code=${page##*$'\n'}
	[[ $code == 200 ]] || die "GET /todos with the session cookie answered $code, not 200"
	form_csrf_token <<<"$page"
}
