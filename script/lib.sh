# script/lib.sh - shell functions shared by script/server, script/test,
# tests/e2e-harness and bench/run. Source it; it defines functions only.

# Debian packages the build, the tests and the local stack need.
TODO_PACKAGES="build-essential autoconf automake pkg-config libpq-dev libfcgi-dev
libsodium-dev libxxhash-dev libsqlite3-dev libcmocka-dev postgresql postgresql-contrib nginx
sqlite3 wrk curl procps openssl"
# systemd-analyze and systemd-socket-activate (tests/test_systemd_units).
TODO_PACKAGES+=" systemd"
# ip and ss (tests/e2e_multihost: app hosts in network namespaces).
TODO_PACKAGES+=" iproute2"
# libcrack and its dictionary (src/password.c: the common-password check).
TODO_PACKAGES+=" libcrack2-dev cracklib-runtime"
# script/test with TODO_TEST_VALGRIND=1 (CI): e2e tests under valgrind.
if [[ ${TODO_TEST_VALGRIND:-0} = 1 ]]; then TODO_PACKAGES+=" valgrind"; fi

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_packages [PACKAGE...]: install what is missing of TODO_PACKAGES and
# the packages named (needs root on a fresh machine).
ensure_packages() {
	local missing=() p
	for p in $TODO_PACKAGES "$@"; do
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
	unconfigure_in_tree "$src" "$dir"
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

# unconfigure_in_tree SRCDIR BUILDDIR: `./configure` run in the source tree
# itself (the README's production recipe, `./configure && make` there)
# leaves SRCDIR/config.status, and from then on every out-of-tree configure
# refuses ("source directory already configured; run "make distclean" there
# first"), while make in an already configured BUILDDIR would pick up the
# tree's objects through VPATH. So the tree is put back as it was before
# `./configure`: `make distclean` there removes only what configure and
# make made in it (objects, binaries, Makefiles, config.status; never a
# file of the repository). Said on stderr; run `./configure && make` there
# again to rebuild in place.
unconfigure_in_tree() {
	local src=$1 dir=$2
	[[ -f $src/config.status ]] || return 0
	[[ $(cd "$src" && pwd -P) != "$(mkdir -p "$dir" && cd "$dir" && pwd -P)" ]] || return 0
	say "$src was configured in place (./configure there left config.status), which stops every build in another directory: running make distclean in $src (it removes only what ./configure and make made there; ./configure && make rebuilds it in place)"
	if [[ -f $src/Makefile ]]; then
		make -C "$src" -s distclean >"$dir/distclean.out" 2>&1
	else
		(cd "$src" && ./config.status && make -s distclean) >"$dir/distclean.out" 2>&1
	fi
	if [[ -f $src/config.status ]]; then
		tail -n 20 "$dir/distclean.out" >&2
		die "make distclean in $src failed; run it yourself (cd $src && ./config.status && make distclean), then again"
	fi
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

# make_local_tls DIR NAME [DAYS]: a throwaway CA (DIR/ca.pem, DIR/ca.key)
# and a certificate for NAME signed by it (DIR/site.pem, DIR/site.key),
# valid for DAYS days (default 2): for the staging/production site on this
# machine (curl --cacert DIR/ca.pem, or import ca.pem in a browser). The CA
# is name-constrained to NAME (and its subdomains) and the loopback
# addresses, so trusting it trusts nothing else even if its key leaks.
# Output of openssl only on failure.
make_local_tls() {
	local d=$1 name=$2 days=${3:-2}
	mkdir -p "$d" || return 1
	: >"$d/openssl.log"
	(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-days "$days" -subj "/CN=todo local CA for $name" -keyout "$d/ca.key" -out "$d/ca.pem" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		-addext "nameConstraints=critical,permitted;DNS:$name,permitted;IP:127.0.0.0/255.0.0.0,permitted;IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF" \
		>>"$d/openssl.log" 2>&1) &&
	chmod 0644 "$d/ca.pem" &&
	local_tls_issue "$d" "$name" site "$days" ||
		{ cat "$d/openssl.log" >&2; return 1; }
}

# local_tls_issue DIR NAME PREFIX [DAYS]: one more server certificate for
# NAME from make_local_tls's CA in DIR: DIR/PREFIX.pem and DIR/PREFIX.key
# (mode 0600), valid for DAYS days (default 2).
local_tls_issue() {
	local d=$1 name=$2 p=$3 days=${4:-2}
	(umask 077 && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=$name" -keyout "$d/$p.key" -out "$d/$p.csr") >>"$d/openssl.log" 2>&1 &&
	printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
		"$name" >"$d/$p.ext" &&
	openssl x509 -req -in "$d/$p.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-CAcreateserial -days "$days" -extfile "$d/$p.ext" -out "$d/$p.pem" >>"$d/openssl.log" 2>&1 &&
	rm -f "$d/$p.csr" "$d/$p.ext" ||
		{ cat "$d/openssl.log" >&2; return 1; }
}

# ensure_local_tls DIR NAME DAYS [PREFIX...]: make_local_tls's files in
# DIR, kept from an earlier run while the CA and every certificate (site
# and each PREFIX, all for NAME) verify and stay valid for another day;
# otherwise all made anew (a new CA: trust it again). Sets
# LOCAL_TLS_RENEWED=1 when it made them.
ensure_local_tls() {
	local d=$1 name=$2 days=$3 p ok=1
	shift 3
	LOCAL_TLS_RENEWED=
	for p in ca site "$@"; do
		[[ -s $d/$p.pem && -s $d/$p.key ]] &&
			openssl x509 -noout -checkend 86400 -in "$d/$p.pem" >/dev/null 2>&1 &&
			{ [[ $p == ca ]] || openssl verify -CAfile "$d/ca.pem" -verify_hostname "$name" \
				-purpose sslserver "$d/$p.pem" >/dev/null 2>&1; } || { ok=; break; }
	done
	[[ -n $ok ]] && return 0
	rm -f "$d"/*.pem "$d"/*.key "$d"/ca.srl
	make_local_tls "$d" "$name" "$days" || return 1
	for p in "$@"; do
		local_tls_issue "$d" "$name" "$p" "$days" || return 1
	done
	LOCAL_TLS_RENEWED=1
}

# start_nginx_site SRCDIR VARDIR ENV HTTP_PORT HTTPS_PORT [KEY=VALUE...]
# The staging or production site (script/render-nginx --main: ENV's HTTPS
# server, the redirecting HTTP port, the Host check) as an nginx of its own
# on 127.0.0.1:HTTP_PORT and 127.0.0.1:HTTPS_PORT, in the background (pid
# in VARDIR/nginx.pid, logs VARDIR/access.log and VARDIR/error.log unless
# KEY=VALUE says otherwise). KEY=VALUE as render-nginx takes them:
# SERVER_NAME, TLS_CERT, TLS_KEY and FASTCGI_SOCKET at least. Waits until
# both ports accept; returns 1 (with nginx's last log lines on stderr) if
# nginx did not start, e.g. a port in use: the caller may try others.
start_nginx_site() {
	local src=$1 var=$2 env=$3 http=$4 https=$5 i pid errlog kv
	shift 5
	errlog=$var/error.log
	for kv in "$@"; do [[ $kv == ERROR_LOG=* ]] && errlog=${kv#ERROR_LOG=}; done
	mkdir -p "$var/nginx-tmp"
	"$src/script/render-nginx" --main "$var" -o "$var/nginx.conf" "$env" \
		ACCESS_LOG="$var/access.log" ERROR_LOG="$var/error.log" \
		HTTP_LISTEN="127.0.0.1:$http" HTTPS_LISTEN="127.0.0.1:$https" \
		STATIC_DIR="$src/static" "$@" || return 1
	rm -f "$var/nginx.pid"
	# stdout closed: callers may run this inside $(...).
	nginx -c "$var/nginx.conf" -p "$var/" -e "$errlog" >/dev/null 2>&1 &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		if [[ -s $var/nginx.pid ]] && (exec 3<>"/dev/tcp/127.0.0.1/$http") 2>/dev/null &&
		    (exec 3<>"/dev/tcp/127.0.0.1/$https") 2>/dev/null; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	tail -n 5 "$errlog" >&2 2>/dev/null
	return 1
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

# pg_local_start DIR [CERT KEY]: create (first time) and start a cluster in
# DIR/data listening only on a unix socket in DIR (port 5432). With CERT and
# KEY (a server certificate for localhost and its key, copied into DIR for
# the cluster's owner) it also listens on localhost over TCP with TLS
# (ssl=on), on port 5432 when that is free there, else on a free port;
# given on the command line, so the cluster's own files stay as
# development has them. Prints nothing; sets PG_LOCAL_STARTED (1: started
# here, so the caller stops it) and PG_LOCAL_PORT (the port of the socket
# and of TCP). A cluster already running is used as it is, except that TLS
# wanted and not on is an error.
pg_local_start() {
	local dir=$1 cert=${2:-} key=${3:-} bin port tries from listen
	bin=$(pg_bindir)
	mkdir -p "$dir"
	[[ $EUID -eq 0 ]] && chown postgres: "$dir"
	if [[ ! -f $dir/data/PG_VERSION ]]; then
		say "creating a PostgreSQL cluster in ${dir}"
		as_pg_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 \
			--locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
	fi
	PG_LOCAL_STARTED=
	PG_LOCAL_PORT=5432
	if [[ -n $cert ]]; then
		# postgres wants its key owned by itself, mode 0600.
		install -m 0644 "$cert" "$dir/server.crt" && install -m 0600 "$key" "$dir/server.key" ||
			die "cannot copy the server certificate into $dir"
		[[ $EUID -eq 0 ]] && chown postgres: "$dir/server.crt" "$dir/server.key"
	fi
	if pg_local_running "$dir"; then
		# postmaster.pid: line 4 the port, line 6 the first TCP address
		# (empty: the unix socket only).
		PG_LOCAL_PORT=$(sed -n 4p "$dir/data/postmaster.pid")
		listen=$(sed -n 6p "$dir/data/postmaster.pid")
		if [[ -n $cert ]]; then
			[[ -n $listen ]] ||
				die "PostgreSQL in $dir already runs without TLS (started for development?): stop it first (script/server --stop, or pg_ctl -D $dir/data stop)"
			# A renewed certificate: postgres re-reads it on reload.
			as_pg_owner "$bin/pg_ctl" -D "$dir/data" reload >/dev/null
		fi
		say "PostgreSQL already running in $dir (port $PG_LOCAL_PORT${listen:+, TLS on $listen})"
		return 0
	fi
	if [[ -z $cert ]]; then
		as_pg_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
			-o "-k $dir -c listen_addresses='' -p 5432" start >/dev/null ||
			{ tail -n 20 "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
		PG_LOCAL_STARTED=1
		return 0
	fi
	for ((tries = 0; tries < 20; tries++)); do
		port=5432
		((tries == 0)) || port=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue   # in use
		from=$(($(stat -c %s "$dir/postgres.log" 2>/dev/null || echo 0) + 1))
		if as_pg_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
		    -o "-k $dir -p $port -c listen_addresses=localhost -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key" \
		    start >/dev/null; then
			PG_LOCAL_STARTED=1
			PG_LOCAL_PORT=$port
			return 0
		fi
		tail -c "+$from" "$dir/postgres.log" 2>/dev/null | grep -q 'Address already in use' ||
			{ tail -n 20 "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
	done
	die "PostgreSQL found no free port on localhost"
}

# pg_local_running DIR: the cluster in DIR/data runs.
pg_local_running() {
	[[ -f $1/data/PG_VERSION ]] &&
		as_pg_owner "$(pg_bindir)/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

pg_local_stop() {
	local dir=$1
	as_pg_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# ---- PgBouncer 1.24 (Neon's pooler), built once and cached ----

# Debian 12 ships 1.18, which cannot keep prepared statements in transaction
# mode; Debian 13 (trixie) ships 1.24. Built from trixie's source package
# (as in the project's Neon notes: a deb-src line only, never a deb line, so
# libc and everything else installed stay as they are).
TODO_PGBOUNCER_VERSION=1.24
pgbouncer_cache_dir() {
	echo "${XDG_CACHE_HOME:-$HOME/.cache}/todo/pgbouncer-$TODO_PGBOUNCER_VERSION"
}

# pgbouncer_is_ok BIN: BIN runs and says it is PgBouncer 1.24.x.
pgbouncer_is_ok() {
	local out
	[[ -x $1 ]] || return 1
	out=$(timeout 10 "$1" --version 2>/dev/null | head -n 1) || return 1
	[[ $out =~ ^PgBouncer\ ${TODO_PGBOUNCER_VERSION//./\\.}(\.[0-9]+)?$ ]]
}

# The URL of the Debian archive this machine installs its release from
# (one-line sources.list and deb822 .sources formats alike).
debian_mirror_url() {
	local codename f
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[[ -n $codename ]] || return 1
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		if [[ $f = *.sources ]]; then
			# One "URI SUITE..." line per deb stanza.
			awk 'BEGIN { RS = ""; FS = "\n" }
			{
				deb = 0; uris = suites = ""
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^Types:.*[ \t]deb([ \t]|$)/) deb = 1
					else if ($i ~ /^URIs:/) uris = substr($i, 6)
					else if ($i ~ /^Suites:/) suites = substr($i, 8)
				}
				if (deb && uris != "") {
					split(uris, u, /[ \t]+/)
					for (j in u) if (u[j] != "") { print u[j], suites; break }
				}
			}' "$f"
		else
			# deb [options] URI SUITE COMPONENTS...
			sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" { print $2, $3 }'
		fi
	done | awk -v c="$codename" '{
		for (i = 2; i <= NF; i++) if ($i == c) { sub(/\/$/, "", $1); print $1; exit }
	}' | grep .
}

# ensure_pgbouncer: prints the path of a PgBouncer 1.24 binary (and exports
# PGBOUNCER), building it into the cache on first use:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/todo/pgbouncer-1.24/bin/pgbouncer
# Needs root (or sudo) for apt the first time; later runs, even from a fresh
# clone, reuse the cache.
ensure_pgbouncer() {
	local cache bin lock
	cache=$(pgbouncer_cache_dir)
	bin=$cache/bin/pgbouncer
	mkdir -p "${cache%/*}" || die "cannot create ${cache%/*}"
	lock=${cache%/*}/pgbouncer.lock
	# One build at a time (tests run in parallel may all ask).
	exec {pgb_lock_fd}>"$lock" || die "cannot open $lock"
	flock -w 900 "$pgb_lock_fd" || die "timed out waiting for $lock (another PgBouncer build?)"
	if ! pgbouncer_is_ok "$bin"; then
		(build_pgbouncer "$cache") || {
			exec {pgb_lock_fd}>&-
			die "could not build PgBouncer $TODO_PGBOUNCER_VERSION (see above)"
		}
		pgbouncer_is_ok "$bin" || {
			exec {pgb_lock_fd}>&-
			die "$bin does not report PgBouncer $TODO_PGBOUNCER_VERSION: $("$bin" --version 2>&1 | head -n 1)"
		}
	fi
	exec {pgb_lock_fd}>&-
	PGBOUNCER=$bin
	export PGBOUNCER
	echo "$bin"
}

# build_pgbouncer DIR (run in a subshell): Debian 13's source package,
# configured and installed into DIR; built in a temporary directory under
# TMPDIR. Quiet: the log is shown only when a step fails.
build_pgbouncer() {
	local cache=$1 mirror src t0 apt_opts
	t0=$SECONDS
	pgb_sudo=()
	[[ $EUID -ne 0 ]] && pgb_sudo=(sudo)
	apt_opts=(-o DPkg::Lock::Timeout=300 -qq)
	mirror=$(debian_mirror_url) ||
		{ echo "error: no Debian mirror found in /etc/apt/sources.list*" >&2; return 1; }
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgbouncer-build.XXXXXX") ||
		{ echo "error: mktemp failed" >&2; return 1; }
	# apt downloads as user _apt: the directory must be reachable.
	chmod 0755 "$tmp"
	list=/etc/apt/sources.list.d/todo-trixie-src.list
	# Whatever happens: trixie's deb-src goes away again, apt forgets it.
	pgb_cleanup() {
		if [[ -f $list ]]; then
			"${pgb_sudo[@]}" rm -f "$list"
			"${pgb_sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get \
				-o DPkg::Lock::Timeout=300 -qq update >/dev/null 2>&1 ||
				echo "warning: apt-get update after removing $list failed" >&2
		fi
		rm -rf "$tmp"
	}
	trap pgb_cleanup EXIT
	step() { printf '\n==== %s\n' "$*" >>"$tmp/build.log"; }
	fail() {
		printf 'error: PgBouncer build: %s failed; last lines of %s:\n' "$1" "$tmp/build.log" >&2
		tail -n 25 "$tmp/build.log" >&2
		return 1
	}
	say "building PgBouncer $TODO_PGBOUNCER_VERSION from Debian 13's source package into $cache (about a minute, once)"
	step "sources: $mirror"
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" |
		"${pgb_sudo[@]}" tee "$list" >/dev/null || fail "writing $list" || return 1
	step "apt-get update"
	"${pgb_sudo[@]}" env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get "${apt_opts[@]}" update \
		>>"$tmp/build.log" 2>&1 || fail "apt-get update (with trixie's deb-src)" || return 1
	step "apt-get install build dependencies"
	"${pgb_sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
		--no-install-recommends libevent-dev libc-ares-dev libssl-dev pkg-config dpkg-dev \
		build-essential >>"$tmp/build.log" 2>&1 || fail "installing the build dependencies" || return 1
	step "apt-get source pgbouncer/trixie"
	(cd "$tmp" && timeout 600 apt-get -q source pgbouncer/trixie) >>"$tmp/build.log" 2>&1 ||
		fail "apt-get source pgbouncer/trixie" || return 1
	src=$(find "$tmp" -maxdepth 1 -type d -name "pgbouncer-$TODO_PGBOUNCER_VERSION*" | head -n 1)
	[[ -n $src ]] || { ls "$tmp" >>"$tmp/build.log"; fail "finding pgbouncer-$TODO_PGBOUNCER_VERSION* in the source package"; return 1; }
	step "configure"
	(cd "$src" && ./configure --prefix="$cache" --with-cares) >>"$tmp/build.log" 2>&1 ||
		fail "configure" || return 1
	step "make"
	make -C "$src" -j2 >>"$tmp/build.log" 2>&1 || fail "make" || return 1
	step "make install"
	make -C "$src" install DESTDIR="$tmp/dest" >>"$tmp/build.log" 2>&1 || fail "make install" || return 1
	pgbouncer_is_ok "$tmp/dest$cache/bin/pgbouncer" ||
		fail "checking the built binary ($("$tmp/dest$cache/bin/pgbouncer" --version 2>&1 | head -n 1))" || return 1
	rm -rf "$cache.new"
	mv "$tmp/dest$cache" "$cache.new" && rm -rf "$cache" && mv "$cache.new" "$cache" ||
		fail "moving the result into $cache" || return 1
	step "done in $((SECONDS - t0)) s"
	printf 'built in %d s\n' $((SECONDS - t0)) >"$cache/BUILD-INFO"
	return 0
}

# ---- the browser tests' tools (tests/e2e_browser) ----

# browser_modules_dir SRCDIR: where the npm packages of SRCDIR's
# tests/browser/package-lock.json are installed, one directory per
# lockfile (keyed by its hash), so a second run and every other tree with
# the same lockfile (a fresh clone, make distcheck) reuse them:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/todo/browser-modules-HASH/node_modules
browser_modules_dir() {
	local sum
	sum=$(sha256sum "$1/tests/browser/package-lock.json" 2>/dev/null | cut -c1-16)
	[[ -n $sum ]] || return 1
	echo "${XDG_CACHE_HOME:-$HOME/.cache}/todo/browser-modules-$sum"
}

# ensure_browser_tools SRCDIR: Debian's chromium (/usr/bin/chromium) and
# Node.js with npm (apt, when missing), then `npm ci` of
# tests/browser/package-lock.json (playwright-core, axe-core: pinned, with
# resolved and integrity) into browser_modules_dir unless it is there.
# Never downloads a browser: playwright-core drives the Debian one.
ensure_browser_tools() {
	local src=$1 dir sudo=() pkgs=() lock
	[[ -x /usr/bin/chromium ]] || pkgs+=(chromium)
	command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm)
	if [[ ${#pkgs[@]} -gt 0 ]]; then
		say "installing Debian packages: ${pkgs[*]}"
		[[ $EUID -ne 0 ]] && sudo=(sudo)
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
			die "apt-get update failed"
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			-o DPkg::Lock::Timeout=300 --no-install-recommends "${pkgs[@]}" >/dev/null ||
			die "apt-get install failed: ${pkgs[*]}"
	fi
	dir=$(browser_modules_dir "$src") || die "no $src/tests/browser/package-lock.json"
	[[ -f $dir/.installed ]] && return 0
	mkdir -p "${dir%/*}" || die "cannot create ${dir%/*}"
	lock=${dir%/*}/browser-modules.lock
	exec {browser_lock_fd}>"$lock" || die "cannot open $lock"
	flock -w 600 "$browser_lock_fd" || die "timed out waiting for $lock"
	if [[ ! -f $dir/.installed ]]; then
		say "npm ci (tests/browser: playwright-core, axe-core) into $dir"
		rm -rf "$dir" && mkdir -p "$dir" &&
			cp "$src/tests/browser/package.json" "$src/tests/browser/package-lock.json" \
				"$src/tests/browser/.npmrc" "$dir/" &&
			(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
				--cache "${dir%/*}/npm-cache" >npm.log 2>&1) ||
			{ tail -n 20 "$dir/npm.log" >&2; exec {browser_lock_fd}>&-; die "npm ci failed"; }
		touch "$dir/.installed"
	fi
	exec {browser_lock_fd}>&-
}
