# shellcheck shell=bash
# bench/stack.sh - sourced by bench/callgrind and bench/syscalls (after
# script/lib.sh and bench/account.sh): a private stack for looking at one
# worker. A PostgreSQL cluster of its own (tests/pg-harness) with a
# migrated database, the pool with one worker behind nginx, the worker
# talking to PostgreSQL over TCP with TLS as in production, and a
# signed-up person (an app from before accounts: signed out) with 50
# todos.
#
# stack_start TMP DBNAME [PREFIX...]: the pool runs under PREFIX (e.g.
# valgrind and its options; none: as it is). Sets base (the URL), worker
# (the worker's pid), pool_pid, nginx_pid, cookie, cookie_hdr (curl's -H
# arguments), csrf, owner. stack_stop: for the caller's EXIT trap.

stack_start() {
	local tmp=$1 dbname=$2 db i port
	shift 2
	stack_tmp=$tmp
	eval "$("$srcdir/tests/pg-harness" --start "$tmp/pg")"
	db="host=localhost port=$TODO_TEST_PGPORT user=postgres dbname=$dbname sslmode=verify-full sslrootcert=$TODO_TEST_CA"
	psql -X -q -h "$TODO_TEST_PGHOST" -p "$TODO_TEST_PGPORT" -U postgres -d postgres \
		-c "CREATE DATABASE $dbname"
	DATABASE_URL=$db "$builddir/todoctl" --sql-dir "$srcdir/sql" migrate up >"$tmp/migrate.log" 2>&1 ||
		{ cat "$tmp/migrate.log" >&2; die "migration failed"; }

	TODO_LISTEN="unix:$tmp/fcgi.sock" TODO_WORKERS=1 TODO_MAX_REQUESTS=0 \
	TODO_REQUEST_TIMEOUT=0 DATABASE_URL=$db TODO_TEMPLATE_DIR="$srcdir/templates" \
		"$@" "$builddir/todo-fcgi" 2>"$tmp/app.log" &
	pool_pid=$!
	wait_for_socket "$tmp/fcgi.sock" 60
	port=$(start_nginx "$tmp" "unix:$tmp/fcgi.sock" "$srcdir" "$tmp/access.log" "$tmp/nginx.log")
	nginx_pid=$(cat "$tmp/nginx.pid")
	base=http://127.0.0.1:$port

	# The worker: the one child of the master.
	worker=
	for ((i = 0; i < 100; i++)); do
		worker=$(pgrep -P "$pool_pid" | head -n 1) || true
		[[ -n $worker ]] && break
		sleep 0.1
	done
	[[ -n $worker ]] || die "no worker found"

	cookie= csrf= owner=
	cookie_hdr=()
	if app_has_accounts "$base"; then
		cookie=$(signup_and_cookie "$base" bench@example.com "$tmp")
		cookie_hdr=(-H "Cookie: $cookie")
		owner=$(psql -X -q -A -t -h "$TODO_TEST_PGHOST" -p "$TODO_TEST_PGPORT" -U postgres -d "$dbname" \
			-c "SELECT id FROM users WHERE email = 'bench@example.com'")
		[[ $owner =~ ^[0-9]+$ ]] || die "no user bench@example.com after the sign-up"
		csrf=$(page_csrf_token "$base" "$cookie")
		[[ -n $csrf ]] || die "the list page has no csrf_token field"
	fi
	# 50 todos of $owner (or of nobody, before accounts).
	psql -X -q -h "$TODO_TEST_PGHOST" -p "$TODO_TEST_PGPORT" -U postgres -d "$dbname" -c "INSERT INTO todos
	    (${owner:+user_id, }title, description, completed, created_at, updated_at)
	    SELECT ${owner:+$owner, }'Todo number ' || g || ': buy milk, call Bob, write the report',
	        CASE WHEN g % 3 = 0 THEN 'Details for todo ' || g || ', a line of text.' END,
	        g % 5 = 0, now() - ((50 - g) || ' minutes')::interval, now() - ((50 - g) || ' minutes')::interval
	    FROM generate_series(1, 50) AS g"
}

stack_stop() {
	local i
	[[ -n ${pool_pid:-} ]] && kill -TERM "$pool_pid" 2>/dev/null && wait "$pool_pid"
	if [[ -n ${nginx_pid:-} ]]; then
		kill -QUIT "$nginx_pid" 2>/dev/null
		for ((i = 0; i < 100; i++)); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.05; done
	fi
	[[ -n ${stack_tmp:-} ]] && "$srcdir/tests/pg-harness" --stop "$stack_tmp/pg" >/dev/null 2>&1
	return 0
}
