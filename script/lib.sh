# script/lib.sh - shell functions shared by script/server, script/test,
# tests/e2e-harness and bench/run. Source it; it defines functions only.

# Debian packages the build, the tests and the local stack need.
TODO_PACKAGES="build-essential autoconf automake pkg-config libpq-dev libfcgi-dev
libsodium-dev libsqlite3-dev libcmocka-dev postgresql postgresql-contrib nginx
sqlite3 wrk curl procps"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install what is missing (needs root on a fresh machine).
ensure_packages() {
	local missing=() p
	for p in $TODO_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0
	say "installing Debian packages: ${missing[*]}"
	local sudo=()
	[[ $EUID -ne 0 ]] && sudo=(sudo)
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
		die "apt-get update failed"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install failed: ${missing[*]}"
	# The Debian postgresql package starts a system cluster; we never use it.
}

# build SRCDIR BUILDDIR [configure args...]: out-of-tree autotools build.
build() {
	local src=$1 dir=$2
	shift 2
	if [[ ! -x $src/configure || $src/configure.ac -nt $src/configure ||
	      $src/Makefile.am -nt $src/Makefile.in ]]; then
		say "autoreconf"
		(cd "$src" && autoreconf -fi >/dev/null 2>&1) || (cd "$src" && autoreconf -fi) ||
			die "autoreconf failed"
	fi
	mkdir -p "$dir"
	if [[ ! -f $dir/Makefile || $src/configure -nt $dir/Makefile ]]; then
		say "configure $* (in ${dir#$src/})"
		(cd "$dir" && "$src/configure" --enable-werror "$@" >configure.out 2>&1) ||
			{ tail -n 30 "$dir/config.log" >&2; die "configure failed"; }
	fi
	say "make (in ${dir#$src/})"
	make -C "$dir" -j2 -s >/dev/null || make -C "$dir" || die "build failed"
}

wait_for_file() {
	local f=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		[[ -s $f ]] && return 0
		sleep 0.05
	done
	die "timed out waiting for $f"
}

wait_for_socket() {
	local s=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		[[ -S $s ]] && return 0
		sleep 0.05
	done
	die "timed out waiting for socket $s"
}

# render_nginx SRCDIR VARDIR PORT FASTCGI_ADDR ACCESS_LOG > conf
render_nginx() {
	local src=$1 var=$2 port=$3 fcgi=$4 access=$5 user=
	# As root nginx's workers would become "nobody" and could not reach
	# the app's socket under var/: keep them as the invoking user.
	[[ $EUID -eq 0 ]] && user="user root root;"
	sed -e "s|@VARDIR@|$var|g" -e "s|@PORT@|$port|g" \
	    -e "s|@FASTCGI_ADDR@|$fcgi|g" -e "s|@ACCESS_LOG@|$access|g" \
	    -e "s|@STATIC_DIR@|$src/static|g" -e "s|@CONF_DIR@|$src/nginx|g" \
	    -e "s|@NGINX_CONF_DIR@|/etc/nginx|g" -e "s|@USER_DIRECTIVE@|$user|g" \
	    "$src/nginx/todo.conf.in"
}

# start_nginx VARDIR FASTCGI_ADDR SRCDIR ACCESS_LOG ERROR_LOG [PORT]
# Starts nginx in the background (pid in VARDIR/nginx.pid) on PORT, or on a
# free port when PORT is empty; prints the port.
start_nginx() {
	local var=$1 fcgi=$2 src=$3 access=$4 errlog=$5 want=${6:-} port tries i pid
	mkdir -p "$var/nginx-tmp"
	for ((tries = 0; tries < 20; tries++)); do
		port=${want:-$((20000 + (RANDOM * 32768 + RANDOM) % 40001))}
		render_nginx "$src" "$var" "$port" "$fcgi" "$access" >"$var/nginx.conf"
		rm -f "$var/nginx.pid"
		nginx -t -q -c "$var/nginx.conf" -p "$var" 2>>"$errlog" ||
			die "nginx -t failed on $var/nginx.conf (see $errlog)"
		# stdout closed: callers run this inside $(...), which waits for it.
		nginx -c "$var/nginx.conf" -p "$var" >/dev/null 2>>"$errlog" &
		pid=$!
		for ((i = 0; i < 100; i++)); do
			if [[ -s $var/nginx.pid ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				echo "$port"
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		[[ -n $want ]] && die "nginx could not listen on 127.0.0.1:$want (see $errlog)"
	done
	die "nginx found no free port"
}

# ---- the local PostgreSQL cluster of script/server (persistent, var/pg) ----

pg_bindir() {
	local d
	d=$(pg_config --bindir 2>/dev/null || true)
	if [[ -z $d || ! -x $d/postgres ]]; then
		for d in /usr/lib/postgresql/*/bin; do [[ -x $d/postgres ]] && break; done
	fi
	[[ -x $d/postgres ]] || die "no PostgreSQL server binaries found"
	echo "$d"
}

# Run a command as the cluster's owner (initdb/postgres refuse root).
as_pg_owner() {
	if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_local_start DIR: create (first time) and start a cluster in DIR/data
# listening only on a unix socket in DIR. Prints nothing; sets PG_LOCAL_STARTED.
pg_local_start() {
	local dir=$1 bin
	bin=$(pg_bindir)
	mkdir -p "$dir"
	[[ $EUID -eq 0 ]] && chown postgres: "$dir"
	if [[ ! -f $dir/data/PG_VERSION ]]; then
		say "creating a PostgreSQL cluster in ${dir}"
		as_pg_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 \
			--locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
	fi
	PG_LOCAL_STARTED=
	if as_pg_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		say "PostgreSQL already running in $dir"
		return 0
	fi
	as_pg_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
		-o "-k $dir -c listen_addresses='' -p 5432" start >/dev/null ||
		{ tail -n 20 "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
	PG_LOCAL_STARTED=1
}

pg_local_stop() {
	local dir=$1
	as_pg_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}
