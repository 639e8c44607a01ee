/* pool.c - master process: forks, supervises and replaces the workers. */
#include "pool.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

#define TICK_MS		100	/* watchdog, respawn and demand resolution */
#define MAX_GENS	4	/* the serving generation + ones draining */
#define MAX_WORKERS	1024
#define MAX_CRASH_LIMIT	1000
#define MAX_WINDOW	86400
#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	32000
#define RETRY_MS	1000	/* fork failed: try again this much later */
#define GROW_STEP_MAX	32	/* most workers started in one tick */
#define SHRINK_MS	1000	/* at most one worker stopped this often */
/* A change of size by demand is on trial: kept if the pool then finishes
 * requests faster (a start) or as fast (a stop), undone if not. Past the
 * knee more workers only share the same cores: each request gets slower,
 * none gets done sooner. The rate of one tick differs from the next by a
 * fifth on a shared 2-core VM: a trial is decided early only when the
 * difference clears TRIAL_Z standard errors of the per-tick rates (a
 * doubling does in half a second), else on two seconds of them. */
#define TRIAL_SETTLE_MS	200	/* after a stop, before the rate counts */
#define TRIAL_READY_MS	3000	/* after a start: until each new worker has
				 * served TRIAL_WARM requests, at most */
#define TRIAL_WARM	5	/* a new worker's first requests warm its
				 * backend (catalog caches, plpgsql compiled,
				 * plans): not the pool's pace */
#define TRIAL_MIN_MS	500	/* a trial is judged after this long ... */
#define TRIAL_MAX_MS	2000	/* ... and decided by this long at the most */
#define BEFORE_MS	2000	/* the rate before a change: this long at most */
#define BEFORE_MIN_MS	500	/* ... and this long at least, unless a rush */
#define UNTRIED_MS	1000	/* no rate to judge by this long: grow untried */
#define TRIAL_MIN	50	/* fewer finished before: no trial (slow requests) */
#define TRIAL_GAIN_MIN	4	/* percent faster needed at the least */
#define TRIAL_LOSS_MAX	3	/* percent slower that undoes a stop */
#define TRIAL_Z		2.0	/* standard errors a difference must clear */
#define TICK_SD_MIN	0.05	/* per-tick rates vary at least this much */
#define TRIAL_HOLD_MS	5000	/* no change after one undone, doubled for */
#define TRIAL_HOLD_MAX_MS 40000	/* each undone in a row up to this */
#define CALM_MS		1000	/* not saturated this long: holds end */
#define RATE_SAMPLES	32	/* > max(BEFORE_MS, TRIAL_MAX_MS) / TICK_MS + 2 */

/* Requests finished a second over a window of ticks. */
struct rate {
	double		 per_s;
	double		 se;		/* standard error of per_s, relative */
	uint64_t	 n;		/* requests finished in the window */
};

/* The master's own view of a slot; the shared one is writable by workers. */
struct wstate {
	pid_t		 pid;		/* 0: no process */
	int		 wanted;	/* keep a process here (respawn it) */
	int64_t		 respawn_at;	/* 0: no respawn pending */
	int		 timed_out;	/* SIGKILLed by the watchdog */
	int64_t		 abandon_at;	/* watchdog sent SIGUSR2 then; 0: not */
	pid_t		 seen_pid;	/* the process whose requests ... */
	uint64_t	 seen;		/* ... the master has counted */
};

/* A generation's shared mapping: what came before it, then its slots. */
struct board {
	struct counters	 base;		/* earlier generations' counts */
	uint64_t	 generation;
	struct pool_slot slots[];
};

/* One scoreboard mapping per generation so a reload never moves the
 * slots of workers still draining. */
struct gen {
	struct board	*board;
	struct pool_slot *slots;	/* board->slots; NULL: entry unused */
	struct wstate	*ws;
	int		 n;
	int		 alive;
	int		 retiring;
	int64_t		 kill_at;
	int		 killed;
	int		 carried;	/* its counts are in a newer base */
	struct counters	 carried_at;	/* as they were then */
};

struct pool {
	const struct pool_opts *o;
	struct pool_stats *stats;	/* shared, written here only */
	struct gen	 gens[MAX_GENS];
	int		 cur;		/* serving generation, -1 when none */
	int		 sfd;
	pid_t		 master;
	int		 stopping;
	sigset_t	 oldmask;
	int64_t		*crashes;	/* ring of the last crash times */
	int		 ncrash;
	int		 crash_idx;
	int64_t		 window_ms;
	int64_t		 backoff;	/* ms; 0 when not braking */
	int64_t		 brake_until;
	/* Sizing by demand (workers_max > workers). */
	int		 grow_step;	/* workers to start at the next tick */
	int		 peak;		/* most busy at once lately ... */
	int64_t		 peak_at;	/* ... as of then */
	int64_t		 grown_at;	/* last start by demand */
	int64_t		 shrunk_at;	/* last stop by demand */
	int64_t		 max_warned_at;
	uint64_t	 finished;	/* requests of the serving generation */
	struct {
		int64_t	 at;
		uint64_t finished;
	}		 rate[RATE_SAMPLES];	/* a ring, one per tick */
	int		 rate_next;
	/* The last change of size by demand, on trial (trial_at 0: none). */
	int64_t		 trial_at;
	int64_t		 trial_from_at;	/* its rate counts from then; 0: not yet */
	int		 trial_gen;
	int		 trial_dir;	/* 1: workers started, -1: stopped */
	int		 trial_from;	/* workers before it */
	int		 trial_k;
	int		 trial_slots[GROW_STEP_MAX];
	struct rate	 trial_before;	/* the rate before it */
	int		 trial_ticks;	/* of its window, and of those ... */
	int		 trial_idle;	/* ... ticks not all busy with a queue */
	long		 trial_busy;	/* busy workers summed over them */
	int64_t		 hold_until;	/* no change by demand before */
	int64_t		 hold_ms;	/* the hold after the next undone */
	int		 next_dir;	/* of the next change when saturated */
	int		 knee;		/* a start past this size gained under
					 * half of linear, was undone or met
					 * no demand; 0: unknown */
	int64_t		 saturated_at;	/* all busy, a queue, since; 0: not */
	int64_t		 settled_at;	/* the pool's size took effect then */
	int64_t		 calm_at;	/* not saturated since; 0: saturated */
	struct rate	 down_ref;	/* before a series of stops; per_s 0: none */
};

static volatile sig_atomic_t worker_stop;
/* In a worker: its generation's scoreboard (inherited mappings). */
static struct pool_view worker_view;

static size_t
board_size(int n)
{
	return sizeof(struct board) + (size_t)n * sizeof(struct pool_slot);
}

/* The master is the only writer of pool_stats. */
static void
stat_inc(uint64_t *v)
{
	counters_inc(v, 1);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 1;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copy at most cap-1 bytes of a string that may not be terminated. */
static void
copy_bounded(char *dst, size_t cap, const char *src, size_t srccap)
{
	size_t n;

	n = strnlen(src, srccap);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Slot memory is writable by workers: keep ids to a logfmt-safe set. */
static void
copy_id(char *dst, size_t cap, const char *src, size_t srccap)
{
	char *p;

	copy_bounded(dst, cap, src, srccap);
	for (p = dst; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_.:", *p) == NULL)
			*p = '_';
}

/* The most workers the settings allow at once. */
static int
workers_most(const struct pool_opts *o)
{
	return o->workers_max > o->workers ? o->workers_max : o->workers;
}

static enum td_status
opts_check(const struct pool_opts *o)
{
	if (o->listen_fd < 0 || o->worker == NULL ||
	    o->workers < 1 || o->workers > MAX_WORKERS ||
	    o->workers_max < 0 || o->workers_max > MAX_WORKERS ||
	    (o->workers_max != 0 && o->workers_max < o->workers) ||
	    o->idle_timeout < 0 || o->idle_timeout > MAX_WINDOW ||
	    o->request_timeout < 0 || o->request_timeout > MAX_WINDOW ||
	    o->shutdown_timeout < 0 || o->shutdown_timeout > MAX_WINDOW ||
	    o->crash_limit < 0 || o->crash_limit > MAX_CRASH_LIMIT ||
	    o->crash_window < 0 || o->crash_window > MAX_WINDOW)
		return TD_EINVAL;
	return TD_OK;
}

static const char *
sig_name(int sig)
{
	const char *s;

	s = sigabbrev_np(sig);
	return s != NULL ? s : "?";
}

static void
on_term(int sig)
{
	(void)sig;
	worker_stop = 1;
}

/* In the freshly forked worker: never returns. */
static void __attribute__((noreturn))
child_main(struct pool *p, int gi, int i)
{
	static const int dfl[] = { SIGINT, SIGQUIT, SIGCHLD, SIGUSR1,
	    SIGUSR2, SIGALRM };
	struct sigaction sa;
	sigset_t none;
	size_t k;
	int g;

	if (close(p->sfd) == -1)
		goto fail;
	for (g = 0; g < MAX_GENS; g++) {
		if (g == gi || p->gens[g].slots == NULL)
			continue;
		if (munmap(p->gens[g].board, board_size(p->gens[g].n)) == -1)
			goto fail;
	}
	worker_view.stats = p->stats;
	worker_view.base = &p->gens[gi].board->base;
	worker_view.slots = p->gens[gi].slots;
	worker_view.n = p->gens[gi].n;
	worker_view.generation = p->gens[gi].board->generation;
	worker_view.listen_fd = p->o->listen_fd;
	/* Before the master has stored it, the status page would say down. */
	p->gens[gi].slots[i].pid = getpid();
	memset(&sa, 0, sizeof(sa));
	if (sigemptyset(&sa.sa_mask) == -1)
		goto fail;
	sa.sa_handler = SIG_DFL;
	for (k = 0; k < sizeof(dfl) / sizeof(dfl[0]); k++)
		if (sigaction(dfl[k], &sa, NULL) == -1)
			goto fail;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		goto fail;
	/* No SA_RESTART: a blocking accept() must return EINTR on stop. */
	sa.sa_handler = on_term;
	sa.sa_flags = 0;
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		goto fail;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		goto fail;
	/* The master may have died before prctl took effect. */
	if (getppid() != p->master)
		exit(EXIT_SUCCESS);
	if (sigemptyset(&none) == -1 ||
	    sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		goto fail;
	/* exit(), not _exit(): atexit handlers and leak checks must run. */
	exit(p->o->worker(p->o->listen_fd, &p->gens[gi].slots[i],
	    p->o->arg));
fail:
	log_error("worker slot %d setup failed: %s", i, strerror(errno));
	exit(EXIT_FAILURE);
}

static int
gen_open(struct pool *p, int n)
{
	struct gen *g;
	void *m;
	int gi;

	for (gi = 0; gi < MAX_GENS; gi++)
		if (p->gens[gi].slots == NULL)
			break;
	if (gi == MAX_GENS)
		return -1;
	g = &p->gens[gi];
	memset(g, 0, sizeof(*g));
	if ((g->ws = calloc((size_t)n, sizeof(*g->ws))) == NULL) {
		log_error("scoreboard: out of memory");
		return -1;
	}
	m = mmap(NULL, board_size(n), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		log_error("scoreboard mmap: %s", strerror(errno));
		free(g->ws);
		g->ws = NULL;
		return -1;
	}
	g->board = m;
	g->board->generation = p->stats->generation;    /* reload() numbers a new one */
	g->slots = g->board->slots;
	g->n = n;
	return gi;
}

/* A generation's counts, each slot's read whole. */
static void
gen_counts(const struct gen *g, struct counters *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < g->n; i++)
		counters_sum(out, &g->slots[i].counts);
}

/* Reload: the new generation starts from the old one's total. Called
 * before the new workers exist, so the new base is written plainly. */
static void
carry_over(struct pool *p, int from, int to)
{
	struct gen *o = &p->gens[from], *n = &p->gens[to];

	gen_counts(o, &o->carried_at);
	o->carried = 1;
	counters_sum(&n->board->base, &o->board->base);
	counters_sum(&n->board->base, &o->carried_at);
}

static void
gen_close(struct pool *p, int gi)
{
	struct gen *g = &p->gens[gi];
	struct counters last;

	/* What it served while draining goes to the serving generation. */
	if (g->slots != NULL && g->carried && p->cur >= 0 && p->cur != gi) {
		gen_counts(g, &last);
		counters_carry(&p->gens[p->cur].board->base, &last,
		    &g->carried_at);
	}
	if (g->board != NULL && munmap(g->board, board_size(g->n)) == -1)
		log_error("scoreboard munmap: %s", strerror(errno));
	free(g->ws);
	memset(g, 0, sizeof(*g));
	if (p->cur == gi)
		p->cur = -1;
}

static void
spawn(struct pool *p, int gi, int i, int64_t now)
{
	struct gen *g = &p->gens[gi];
	pid_t pid;

	/* The slot's counts stay: they cover every process it has had. */
	memset(&g->slots[i], 0, offsetof(struct pool_slot, counts));
	g->slots[i].started = (int64_t)time(NULL);
	g->slots[i].wanted = 1;
	g->ws[i].wanted = 1;
	g->ws[i].respawn_at = 0;
	g->ws[i].timed_out = 0;
	g->ws[i].abandon_at = 0;
	if ((pid = fork()) == -1) {
		log_error("worker slot %d: fork: %s, retrying", i,
		    strerror(errno));
		g->ws[i].respawn_at = now + RETRY_MS;
		return;
	}
	if (pid == 0)
		child_main(p, gi, i);
	g->ws[i].pid = pid;
	g->slots[i].pid = pid;
	g->alive++;
	log_info("worker slot %d pid %ld started", i, (long)pid);
}

/* Log "slot, pid, what happened" plus the request the worker was on. */
static void
log_worker(enum log_level lvl, const struct pool_slot *s, int i, pid_t pid,
    const char *what)
{
	char id[sizeof(s->request_id)], line[sizeof(s->request_line)];

	if (__atomic_load_n(&s->busy_since_ms, __ATOMIC_ACQUIRE) == 0) {
		log_msg(lvl, "worker slot %d pid %ld %s", i, (long)pid, what);
		return;
	}
	copy_id(id, sizeof(id), s->request_id, sizeof(s->request_id));
	copy_bounded(line, sizeof(line), s->request_line,
	    sizeof(s->request_line));
	log_set_request_id(id[0] != '\0' ? id : NULL);
	log_msg(lvl, "worker slot %d pid %ld %s while serving request %s "
	    "\"%s\"", i, (long)pid, what, id, line);
	log_set_request_id(NULL);
}

/* A crash: returns when its slot may be refilled (the crash brake). */
static int64_t
crash_note(struct pool *p, int64_t now)
{
	int64_t oldest;
	int k, count;

	p->crashes[p->crash_idx] = now;
	p->crash_idx = (p->crash_idx + 1) % p->ncrash;
	if (p->backoff > 0 && now < p->brake_until)
		return p->brake_until;
	if (p->backoff > 0 && now - p->brake_until <= p->window_ms) {
		/* Respawned after the delay and crashed again soon. */
		p->backoff *= 2;
		if (p->backoff > BACKOFF_MAX_MS)
			p->backoff = BACKOFF_MAX_MS;
	} else {
		p->backoff = 0;
		oldest = p->crashes[p->crash_idx];
		if (oldest == 0 || now - oldest > p->window_ms)
			return now;
		p->backoff = BACKOFF_MIN_MS;
	}
	p->brake_until = now + p->backoff;
	for (count = 0, k = 0; k < p->ncrash; k++)
		if (p->crashes[k] != 0 && now - p->crashes[k] <= p->window_ms)
			count++;
	log_error("crash loop: %d crashes in %llds, next respawn in %llds",
	    count, (long long)(p->window_ms / 1000),
	    (long long)(p->backoff / 1000));
	return p->brake_until;
}

static void
on_death(struct pool *p, pid_t pid, int status, int64_t now)
{
	struct gen *g = NULL;
	struct pool_slot *s;
	char what[96];
	enum log_level lvl = LOG_ERROR;
	int gi, i = 0, crashed = 0;

	for (gi = 0; gi < MAX_GENS; gi++) {
		g = &p->gens[gi];
		if (g->slots == NULL)
			continue;
		for (i = 0; i < g->n; i++)
			if (g->ws[i].pid == pid)
				break;
		if (i < g->n)
			break;
	}
	if (gi == MAX_GENS) {
		log_warn("reaped unknown child pid %ld", (long)pid);
		return;
	}
	s = &g->slots[i];
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		lvl = LOG_INFO;
		snprintf(what, sizeof(what), "%s after %llu requests",
		    g->retiring ? "stopped" : !g->ws[i].wanted ?
		    "stopped (fewer needed)" : "recycled",
		    (unsigned long long)s->requests);
	} else if (WIFEXITED(status)) {
		snprintf(what, sizeof(what), "exited with status %d",
		    WEXITSTATUS(status));
		crashed = 1;
	} else if (WIFSIGNALED(status)) {
		snprintf(what, sizeof(what), "killed by signal %d (SIG%s)",
		    WTERMSIG(status), sig_name(WTERMSIG(status)));
		crashed = 1;
	} else {
		snprintf(what, sizeof(what), "ended with wait status %#x",
		    (unsigned)status);
		crashed = 1;
	}
	/* Dead after the watchdog's SIGUSR2 or SIGKILL: the timeout's. */
	if (!g->retiring && g->ws[i].wanted)
		stat_inc(&p->stats->restarts[g->ws[i].timed_out ||
		    g->ws[i].abandon_at != 0 ? POOL_RESTART_TIMEOUT :
		    crashed ? POOL_RESTART_CRASH : POOL_RESTART_RECYCLE]);
	/* Our own kills are reported but are not a crash loop. */
	if (crashed && (g->retiring || !g->ws[i].wanted || g->ws[i].timed_out)) {
		crashed = 0;
		lvl = LOG_WARN;
	}
	log_worker(lvl, s, i, pid, what);
	g->ws[i].pid = 0;
	s->pid = 0;
	g->alive--;
	if (g->retiring || !g->ws[i].wanted)
		return;
	g->ws[i].respawn_at = crashed ? crash_note(p, now) : now;
}

static enum td_status
reap(struct pool *p)
{
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			on_death(p, pid, status, now_ms());
			continue;
		}
		if (pid == 0 || errno == ECHILD)
			return TD_OK;
		if (errno == EINTR)
			continue;
		log_error("waitpid: %s", strerror(errno));
		return TD_ESYSTEM;
	}
}

static void
retire(struct pool *p, int gi, int64_t now)
{
	struct gen *g = &p->gens[gi];
	int i;

	g->retiring = 1;
	g->kill_at = now + (int64_t)p->o->shutdown_timeout * 1000;
	for (i = 0; i < g->n; i++) {
		g->ws[i].respawn_at = 0;
		if (g->ws[i].pid > 0 && kill(g->ws[i].pid, SIGTERM) == -1)
			log_error("kill %ld: %s", (long)g->ws[i].pid,
			    strerror(errno));
	}
}

/* Free drained generations; SIGKILL what outlived its timeout. */
static void
retire_tick(struct pool *p, int64_t now)
{
	struct gen *g;
	int gi, i;

	for (gi = 0; gi < MAX_GENS; gi++) {
		g = &p->gens[gi];
		if (g->slots == NULL || !g->retiring)
			continue;
		if (g->alive == 0) {
			gen_close(p, gi);
			continue;
		}
		if (g->killed || now < g->kill_at)
			continue;
		g->killed = 1;
		for (i = 0; i < g->n; i++) {
			if (g->ws[i].pid <= 0)
				continue;
			log_worker(LOG_WARN, &g->slots[i], i, g->ws[i].pid,
			    "still running at shutdown timeout, sending SIGKILL");
			if (kill(g->ws[i].pid, SIGKILL) == -1)
				log_error("kill %ld: %s", (long)g->ws[i].pid,
				    strerror(errno));
		}
	}
}

/* A request over its time first gets SIGUSR2 (the worker cancels its
 * database statement, so nothing it started is applied after the client
 * got an error), then, ABANDON_MS later, SIGKILL. */
#define ABANDON_MS	1000

static void
watchdog(struct pool *p, int64_t now)
{
	struct gen *g;
	struct wstate *w;
	int64_t since, limit;
	char what[96];
	int gi, i;

	if (p->o->request_timeout == 0)
		return;
	limit = (int64_t)p->o->request_timeout * 1000;
	for (gi = 0; gi < MAX_GENS; gi++) {
		g = &p->gens[gi];
		if (g->slots == NULL)
			continue;
		for (i = 0; i < g->n; i++) {
			w = &g->ws[i];
			if (w->pid <= 0 || w->timed_out)
				continue;
			since = __atomic_load_n(&g->slots[i].busy_since_ms,
			    __ATOMIC_ACQUIRE);
			if (since == 0 || now - since <= limit) {
				w->abandon_at = 0;   /* it finished in time */
				continue;
			}
			if (w->abandon_at == 0) {
				snprintf(what, sizeof(what), "request timeout after "
				    "%ds, cancelling its statement", p->o->request_timeout);
				log_worker(LOG_ERROR, &g->slots[i], i, w->pid, what);
				if (kill(w->pid, SIGUSR2) == -1)
					log_error("kill %ld: %s", (long)w->pid,
					    strerror(errno));
				w->abandon_at = now;
				continue;
			}
			if (now - w->abandon_at < ABANDON_MS)
				continue;
			log_worker(LOG_ERROR, &g->slots[i], i, w->pid,
			    "still busy after the cancel, sending SIGKILL");
			if (kill(w->pid, SIGKILL) == -1)
				log_error("kill %ld: %s", (long)w->pid,
				    strerror(errno));
			w->timed_out = 1;
		}
	}
}

static void
respawn_tick(struct pool *p, int64_t now)
{
	struct gen *g;
	int i;

	if (p->cur < 0 || p->stopping)
		return;
	g = &p->gens[p->cur];
	for (i = 0; i < g->n; i++)
		if (g->ws[i].pid == 0 && g->ws[i].respawn_at != 0 &&
		    g->ws[i].respawn_at <= now)
			spawn(p, p->cur, i, now);
	if (p->backoff > 0 && now - p->brake_until > p->window_ms) {
		log_info("crash loop over: no crash in %llds",
		    (long long)(p->window_ms / 1000));
		p->backoff = 0;
	}
}

static int
wanted_count(const struct gen *g)
{
	int i, n = 0;

	for (i = 0; i < g->n; i++)
		n += g->ws[i].wanted;
	return n;
}

/* Add what the serving generation's workers finished since the last call
 * to p->finished, and sample it into the rate ring once a tick. */
static void
count_finished(struct pool *p, struct gen *g, int64_t now)
{
	uint64_t r;
	int i, last;

	for (i = 0; i < g->n; i++) {
		if (g->ws[i].pid <= 0)
			continue;
		if (g->ws[i].seen_pid != g->ws[i].pid) {
			g->ws[i].seen_pid = g->ws[i].pid;
			g->ws[i].seen = 0;
		}
		/* A worker writes it: it only ever goes up, trust no less. */
		if ((r = g->slots[i].requests) > g->ws[i].seen) {
			p->finished += r - g->ws[i].seen;
			g->ws[i].seen = r;
		}
	}
	last = (p->rate_next + RATE_SAMPLES - 1) % RATE_SAMPLES;
	if (p->rate[last].at != 0 && now - p->rate[last].at < TICK_MS)
		return;
	p->rate[p->rate_next].at = now;
	p->rate[p->rate_next].finished = p->finished;
	p->rate_next = (p->rate_next + 1) % RATE_SAMPLES;
}

/* The rate of the requests finished since `since`, from the samples taken
 * then or later, with the standard error of their per-tick rates (at
 * least TICK_SD_MIN a tick, and what counting alone gives). False with
 * fewer than two ticks or none finished. */
static int
window_rate(const struct pool *p, int64_t since, struct rate *r)
{
	double x, sum = 0, sq = 0, sd;
	int i, j, m = 0, first = -1, prev = -1;

	for (i = 0; i < RATE_SAMPLES; i++) {
		j = (p->rate_next + i) % RATE_SAMPLES;
		if (p->rate[j].at == 0 || p->rate[j].at < since)
			continue;
		if (prev < 0) {
			first = j;
		} else {
			x = (double)(p->rate[j].finished -
			    p->rate[prev].finished) * 1000.0 /
			    (double)(p->rate[j].at - p->rate[prev].at);
			sum += x;
			sq += x * x;
			m++;
		}
		prev = j;
	}
	if (m < 2 || (r->n = p->rate[prev].finished -
	    p->rate[first].finished) == 0)
		return 0;
	r->per_s = (double)r->n * 1000.0 /
	    (double)(p->rate[prev].at - p->rate[first].at);
	sd = sqrt(fmax(sq - sum * sum / m, 0) / (m - 1)) / r->per_s;
	r->se = fmax(sd, TICK_SD_MIN) / sqrt(m);
	r->se = fmax(r->se, 1 / sqrt((double)r->n));
	return 1;
}

/* Stop slot i's worker gracefully (it finishes a request it may just have
 * taken, then exits) and keep no process there. */
static void
unwant(struct gen *g, int i)
{
	g->ws[i].wanted = 0;
	g->slots[i].wanted = 0;
	g->ws[i].respawn_at = 0;
	if (g->ws[i].pid > 0 && kill(g->ws[i].pid, SIGTERM) == -1)
		log_error("kill %ld: %s", (long)g->ws[i].pid, strerror(errno));
}

/* Start up to k workers in free slots of the serving generation; their
 * slots go to started[]. Returns how many. */
static int
start_more(struct pool *p, struct gen *g, int k, int *started, int64_t now)
{
	int i, n = 0;

	for (i = 0; i < g->n && n < k; i++)
		if (!g->ws[i].wanted && g->ws[i].pid == 0) {
			spawn(p, p->cur, i, now);
			stat_inc(&p->stats->grown);
			started[n++] = i;
		}
	return n;
}

/* Stop k workers, from the last slot down (slots fill from the first);
 * their slots go to stopped[]. Returns how many. */
static int
stop_some(struct pool *p, struct gen *g, int k, int *stopped)
{
	int i, n = 0;

	for (i = g->n - 1; i >= 0 && n < k; i--)
		if (g->ws[i].wanted && g->ws[i].pid > 0) {
			unwant(g, i);
			stat_inc(&p->stats->shrunk);
			stopped[n++] = i;
		}
	return n;
}

/* Stop the workers the trial on hand started that are still wanted. */
static void
unwant_trial(struct pool *p, struct gen *g)
{
	int i;

	for (i = 0; i < p->trial_k; i++)
		if (g->ws[p->trial_slots[i]].wanted)
			unwant(g, p->trial_slots[i]);
}

/* Put a change of size on trial: `dir` 1, k workers started, or -1, k
 * stopped (their slots in slots[]), from `from`, the rate before it
 * `before`. */
static void
trial_start(struct pool *p, int dir, int from, const int *slots, int k,
    const struct rate *before, int64_t now)
{
	if (k <= 0)
		return;
	p->trial_at = now;
	p->trial_from_at = dir < 0 ? now + TRIAL_SETTLE_MS : 0;
	p->trial_gen = p->cur;
	p->trial_dir = dir;
	p->trial_from = from;
	p->trial_k = k;
	p->trial_ticks = p->trial_idle = 0;
	p->trial_busy = 0;
	memcpy(p->trial_slots, slots, (size_t)k * sizeof(*slots));
	p->trial_before = *before;
}

/* A change's verdict once TRIAL_MIN_MS of its window are in: 1 keep, -1
 * undo, 0 not yet. Workers started are kept if the pool got faster by a
 * tenth of what as many more would give if requests only waited
 * (TRIAL_GAIN_MIN percent at the least); workers stopped stay stopped
 * unless it got more than TRIAL_LOSS_MAX percent slower than before the
 * series of stops. Decided early when the difference clears TRIAL_Z
 * standard errors either way, else on the rates at TRIAL_MAX_MS.
 * *change: the relative change of rate, *se its standard error. */
static int
trial_verdict(const struct pool *p, const struct rate *after, int final,
    double *change, double *se)
{
	const struct rate *ref = &p->trial_before;
	double need, z = final ? 0 : TRIAL_Z;

	if (p->trial_dir < 0 && p->down_ref.per_s > 0)
		ref = &p->down_ref;
	*change = after->per_s / ref->per_s - 1;
	*se = sqrt(after->se * after->se + ref->se * ref->se);
	if (p->trial_dir > 0) {
		need = fmax(0.1 * p->trial_k / p->trial_from,
		    TRIAL_GAIN_MIN / 100.0);
		if (*change - z * *se >= need)
			return 1;
		return *change + z * *se < need ? -1 : 0;
	}
	if (-*change - z * *se > TRIAL_LOSS_MAX / 100.0)
		return -1;
	return -*change + z * *se <= TRIAL_LOSS_MAX / 100.0 ? 1 : 0;
}

/* Judge the change on trial (trial_verdict) each tick of its window. A
 * change undone counts, none follows for the hold (longer for each in a
 * row) and the next goes the other way. A start during which fewer were
 * busy than before it met no demand: it is undone uncounted (demand fell
 * during it, or it was a burst); a stop
 * during which the rest were mostly not all busy stays. True while a
 * trial runs or one was just undone: nothing else to size this tick. */
static int
trial_tick(struct pool *p, struct gen *g, int saturated, int busy,
    int64_t now)
{
	struct rate after;
	double change, se;
	int i, j, k = p->trial_k, redo[GROW_STEP_MAX], verdict;

	if (p->trial_at == 0)
		return 0;
	if (p->trial_gen != p->cur) {	/* a reload started afresh */
		p->trial_at = 0;
		return 0;
	}
	if (p->trial_from_at == 0) {
		for (i = 0; i < k; i++) {
			j = p->trial_slots[i];
			if (g->ws[j].wanted &&
			    g->slots[j].requests < TRIAL_WARM &&
			    now - p->trial_at < TRIAL_READY_MS)
				return 1;
		}
		p->trial_from_at = now;
	}
	if (now >= p->trial_from_at) {
		p->trial_ticks++;
		p->trial_idle += !saturated;
		p->trial_busy += busy;
	}
	if (now - p->trial_from_at < TRIAL_MIN_MS)
		return 1;
	if (!window_rate(p, p->trial_from_at, &after))
		after.per_s = 0;	/* none finished */
	if (p->trial_dir > 0 &&
	    p->trial_busy < (long)p->trial_from * p->trial_ticks) {
		p->trial_at = 0;
		unwant_trial(p, g);
		p->stats->workers = wanted_count(g);
		p->hold_until = now + TRIAL_HOLD_MS;
		p->settled_at = now + TRIAL_SETTLE_MS;
		/* Still mostly busy: the workers were not the limit. */
		if (2 * p->trial_busy >= (long)p->trial_from * p->trial_ticks)
			p->knee = p->trial_from;
		log_info("%d more workers: demand fell below the pool before "
		    "them (%.1f busy of %d, %.0f requests/s before, %.0f "
		    "after): stopping them, no change for %d s", k,
		    (double)p->trial_busy / p->trial_ticks, p->trial_from,
		    p->trial_before.per_s, after.per_s, TRIAL_HOLD_MS / 1000);
		return 0;
	}
	if (p->trial_dir < 0 && p->trial_idle * 2 > p->trial_ticks) {
		p->trial_at = 0;
		p->settled_at = p->trial_from_at;
		log_info("%d fewer workers: demand fell below the pool during "
		    "the trial (%.0f requests/s before, %.0f after): stopped",
		    k, p->trial_before.per_s, after.per_s);
		return 0;
	}
	if (after.per_s == 0) {
		if (now - p->trial_from_at < TRIAL_MAX_MS)
			return 1;
		p->trial_at = 0;	/* nothing to judge by */
		return 0;
	}
	verdict = trial_verdict(p, &after,
	    now - p->trial_from_at >= TRIAL_MAX_MS, &change, &se);
	if (verdict == 0)
		return 1;
	p->trial_at = 0;
	if (verdict > 0) {
		p->settled_at = p->trial_from_at;
		if (p->trial_dir > 0) {
			p->hold_ms = TRIAL_HOLD_MS;
			p->knee = change < 0.5 * k / p->trial_from ?
			    p->trial_from + k : 0;
		}
		log_info("%d %s workers %s (%.0f requests/s before, %.0f "
		    "after, %+.1f%% +/- %.1f%%): %s", k,
		    p->trial_dir > 0 ? "more" : "fewer",
		    p->trial_dir > 0 ? "made the pool faster" :
		    "kept the pool as fast", p->trial_before.per_s, after.per_s,
		    change * 100, TRIAL_Z * se * 100,
		    p->trial_dir > 0 ? "kept" : "stopped");
		return 0;
	}
	if (p->hold_ms < TRIAL_HOLD_MS)
		p->hold_ms = TRIAL_HOLD_MS;
	if (p->trial_dir > 0) {
		unwant_trial(p, g);
		p->grow_step = 1;
		p->knee = p->trial_from;
		log_info("%d more workers did not make the pool faster (%.0f "
		    "requests/s before, %.0f after, %+.1f%% +/- %.1f%%): "
		    "stopping them, no change for %lld s", k,
		    p->trial_before.per_s, after.per_s, change * 100,
		    TRIAL_Z * se * 100, (long long)p->hold_ms / 1000);
	} else {
		k = start_more(p, g, k, redo, now);
		p->down_ref.per_s = 0;
		log_info("%d fewer workers made the pool slower (%.0f "
		    "requests/s before, %.0f after, %+.1f%% +/- %.1f%% of "
		    "the series' first): starting %d again, no change for "
		    "%lld s", p->trial_k, p->trial_before.per_s, after.per_s,
		    change * 100, TRIAL_Z * se * 100, k,
		    (long long)p->hold_ms / 1000);
	}
	stat_inc(&p->stats->undone);
	p->stats->workers = wanted_count(g);
	p->hold_until = now + p->hold_ms;
	p->settled_at = now + TRIAL_SETTLE_MS;
	p->hold_ms = p->hold_ms * 2 > TRIAL_HOLD_MAX_MS ? TRIAL_HOLD_MAX_MS :
	    p->hold_ms * 2;
	p->next_dir = -p->trial_dir;
	return 1;
}

/* Every worker busy and connections waiting: change the pool's size, on
 * trial when the rate before can be measured (TRIAL_MIN finished while
 * saturated, over BEFORE_MIN_MS to BEFORE_MS, or two ticks in a rush:
 * as many waiting as there are workers). Up while more workers make it
 * faster, then, after a start that did not or at the maximum, down while
 * fewer keep it as fast. With no rate to judge by after UNTRIED_MS (slow
 * requests) it only grows: more workers are the only help there is. */
static void
saturated_tick(struct pool *p, struct gen *g, int wanted, int queued,
    int64_t now)
{
	const struct pool_opts *o = p->o;
	int k, cap, changed[GROW_STEP_MAX], measured;
	struct rate before;
	int64_t since;

	if (p->saturated_at == 0)
		p->saturated_at = now;
	/* The rate before: while saturated at this size, BEFORE_MS at most. */
	since = p->saturated_at > p->settled_at ? p->saturated_at :
	    p->settled_at;
	if (since < now - BEFORE_MS)
		since = now - BEFORE_MS;
	if (now - since < (queued >= wanted ? 2 * TICK_MS : BEFORE_MIN_MS))
		return;		/* measure first */
	measured = window_rate(p, since, &before) && before.n >= TRIAL_MIN;
	/* Too few finished to judge by: wait up to UNTRIED_MS for a rate
	 * (a pool short of CPU finishes few too), then grow untried. */
	if (!measured && wanted < workers_most(o) &&
	    now - p->saturated_at < UNTRIED_MS)
		return;
	if (wanted >= workers_most(o)) {
		stat_inc(&p->stats->max_reached);
		if (p->max_warned_at == 0 || now - p->max_warned_at > 60000) {
			log_warn("all %d workers busy and %d connections "
			    "waiting: TODO_WORKERS_MAX reached", wanted, queued);
			p->max_warned_at = now;
		}
		if (!measured)
			return;
		p->next_dir = -1;
	}
	if (now < p->hold_until)
		return;
	if (measured && p->next_dir < 0 && wanted > o->workers) {
		k = wanted / 8 > 1 ? wanted / 8 : 1;
		if (k > wanted - o->workers)
			k = wanted - o->workers;
		if (k > GROW_STEP_MAX)
			k = GROW_STEP_MAX;
		log_info("all %d workers busy and %d connections waiting: "
		    "stopping %d to see if fewer are as fast", wanted, queued,
		    k);
		k = stop_some(p, g, k, changed);
		trial_start(p, -1, wanted, changed, k, &before, now);
		/* Against the series' first, so that small losses in a row
		 * do not add up to a large one. */
		if (p->down_ref.per_s == 0)
			p->down_ref = before;
		p->grow_step = 1;
		p->shrunk_at = now;
		p->stats->workers = wanted - k;
		return;
	}
	if (wanted >= workers_most(o))
		return;
	p->next_dir = 1;
	p->down_ref.per_s = 0;
	/* As many more as wait, doubling the pool at most, up to the knee
	 * once known (the cores change less often than demand). Else
	 * doubling steps of up to half the pool, a quarter once the knee is
	 * known (stops on trial refine it from above): each start costs a
	 * connection, TLS and SCRAM included, on cores already busy. */
	if (queued >= wanted && (p->knee == 0 || 2 * wanted <= p->knee)) {
		k = wanted;
	} else if (queued >= wanted && p->knee > wanted) {
		k = p->knee - wanted;
	} else {
		cap = wanted / (p->knee ? 4 : 2);
		k = p->grow_step < cap ? p->grow_step : cap;
		if (k < 1)
			k = 1;
	}
	if (k > workers_most(o) - wanted)
		k = workers_most(o) - wanted;
	if (k > GROW_STEP_MAX)
		k = GROW_STEP_MAX;
	log_info("all %d workers busy and %d connections waiting: starting %d "
	    "more", wanted, queued, k);
	k = start_more(p, g, k, changed, now);
	if (measured)
		trial_start(p, 1, wanted, changed, k, &before, now);
	p->grow_step = p->grow_step * 2 > GROW_STEP_MAX ?
	    GROW_STEP_MAX : p->grow_step * 2;
	p->grown_at = p->settled_at = now;
	p->stats->workers = wanted + k;
	if (wanted + k > p->stats->workers_peak)
		p->stats->workers_peak = wanted + k;
}

/* Size the pool to demand (workers_max > workers): saturated_tick when
 * every worker is busy and connections wait; else stop an idle one when
 * fewer than there are have been needed for idle_timeout. */
static void
demand_tick(struct pool *p, int64_t now)
{
	const struct pool_opts *o = p->o;
	struct gen *g;
	int64_t idle_ms = (int64_t)o->idle_timeout * 1000;
	int i, wanted = 0, alive = 0, busy = 0, idle = -1, queued = 0,
	    backlog = 0, need, saturated;

	if (p->cur < 0 || p->stopping)
		return;
	g = &p->gens[p->cur];
	count_finished(p, g, now);
	for (i = 0; i < g->n; i++) {
		if (!g->ws[i].wanted)
			continue;
		wanted++;
		if (g->ws[i].pid <= 0)
			continue;
		alive++;
		if (__atomic_load_n(&g->slots[i].busy_since_ms,
		    __ATOMIC_ACQUIRE) != 0)
			busy++;
		else
			idle = i;   /* the last: slots fill from the first */
	}
	p->stats->workers = wanted;
	if (workers_most(o) <= o->workers)
		return;
	if (busy >= p->peak || now - p->peak_at > idle_ms) {
		p->peak = busy;
		p->peak_at = now;
	}
	/* All busy (and none being respawned): is anyone waiting? */
	saturated = alive > 0 && busy == alive && wanted == alive &&
	    listen_queue(o->listen_fd, &queued, &backlog) == TD_OK &&
	    queued > 0;
	if (trial_tick(p, g, saturated, busy, now))
		return;
	if (saturated) {
		p->calm_at = 0;
		saturated_tick(p, g, wanted, queued, now);
		return;
	}
	/* Demand changed: what held the pool may not hold now. */
	if (p->calm_at == 0) {
		p->calm_at = now;
	} else if (now - p->calm_at >= CALM_MS) {
		p->hold_ms = TRIAL_HOLD_MS;
		p->hold_until = 0;
	}
	p->grow_step = 1;
	p->saturated_at = 0;
	p->down_ref.per_s = 0;
	need = p->peak + 1 > o->workers ? p->peak + 1 : o->workers;
	if (wanted <= need || idle < 0 || now - p->grown_at < idle_ms ||
	    now - p->shrunk_at < SHRINK_MS)
		return;
	p->shrunk_at = p->settled_at = now;
	stat_inc(&p->stats->shrunk);
	p->stats->workers = wanted - 1;
	log_info("at most %d of %d workers busy in %d s: stopping slot %d pid "
	    "%ld", p->peak, wanted, o->idle_timeout, idle, (long)g->ws[idle].pid);
	unwant(g, idle);
}

static void
stop(struct pool *p)
{
	int64_t now = now_ms();
	int gi, n = 0;

	if (p->stopping) {
		log_info("already stopping");
		return;
	}
	p->stopping = 1;
	for (gi = 0; gi < MAX_GENS; gi++) {
		if (p->gens[gi].slots == NULL)
			continue;
		n += p->gens[gi].alive;
		if (!p->gens[gi].retiring)
			retire(p, gi, now);
	}
	log_info("stopping: %d workers", n);
}

static void
reload(struct pool *p)
{
	const struct pool_opts *o = p->o;
	enum td_status st;
	int64_t now;
	int gi, i, old, n, k;

	if (p->stopping) {
		log_info("reload ignored: stopping");
		return;
	}
	for (gi = 0; gi < MAX_GENS; gi++)
		if (p->gens[gi].slots == NULL)
			break;
	if (gi == MAX_GENS) {
		log_warn("reload refused: old workers are still draining");
		return;
	}
	if (o->reload != NULL && (st = o->reload(o->arg)) != TD_OK) {
		log_error("reload failed (status %d), old workers keep "
		    "serving", (int)st);
		return;
	}
	if (opts_check(o) != TD_OK) {
		log_error("reload: invalid settings, old workers keep serving");
		return;
	}
	if ((gi = gen_open(p, workers_most(o))) == -1) {
		log_error("reload: no scoreboard, old workers keep serving");
		return;
	}
	stat_inc(&p->stats->generation);
	p->gens[gi].board->generation = p->stats->generation;
	p->stats->workers_min = o->workers;
	old = p->cur;
	/* As many as serve now (demand does not change with a reload),
	 * within the new limits. */
	n = o->workers;
	if (old >= 0) {
		carry_over(p, old, gi);
		if ((k = wanted_count(&p->gens[old])) > n)
			n = k < workers_most(o) ? k : workers_most(o);
	}
	/* New workers first, so the socket is never left unserved. */
	now = now_ms();
	for (i = 0; i < n; i++)
		spawn(p, gi, i, now);
	p->cur = gi;
	if (old >= 0) {
		log_info("reload: %d new workers, retiring %d", n,
		    p->gens[old].alive);
		retire(p, old, now);
	}
}

/* SIGUSR1 after a log rotation: the master reopens its log file and
 * passes the signal on; each worker reopens between requests. */
static void
reopen_logs(struct pool *p)
{
	int gi, i;

	if (log_reopen() != 0)
		log_error("cannot reopen the log file: %s (still writing to the old one)",
		    strerror(errno));
	else
		log_info("log file reopened");
	for (gi = 0; gi < MAX_GENS; gi++)
		for (i = 0; p->gens[gi].slots != NULL && i < p->gens[gi].n; i++)
			if (p->gens[gi].ws[i].pid > 0 &&
			    kill(p->gens[gi].ws[i].pid, SIGUSR1) == -1 && errno != ESRCH)
				log_error("kill %ld: %s", (long)p->gens[gi].ws[i].pid,
				    strerror(errno));
}

static enum td_status
read_signals(struct pool *p)
{
	struct signalfd_siginfo si[8];
	ssize_t n;
	size_t k;

	for (;;) {
		n = read(p->sfd, si, sizeof(si));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return TD_OK;
		if (n <= 0 || (size_t)n % sizeof(si[0]) != 0) {
			log_error("signalfd read: %s",
			    n == -1 ? strerror(errno) : "short read");
			return TD_ESYSTEM;
		}
		for (k = 0; k < (size_t)n / sizeof(si[0]); k++) {
			switch (si[k].ssi_signo) {
			case SIGTERM:
			case SIGINT:
				stop(p);
				break;
			case SIGHUP:
				reload(p);
				break;
			case SIGUSR1:
				reopen_logs(p);
				break;
			default:	/* SIGCHLD: reap() runs every tick */
				break;
			}
		}
	}
}

static int
gens_used(const struct pool *p)
{
	int gi, n = 0;

	for (gi = 0; gi < MAX_GENS; gi++)
		if (p->gens[gi].slots != NULL)
			n++;
	return n;
}

static enum td_status
loop(struct pool *p)
{
	struct pollfd pfd;
	enum td_status rc;
	int64_t now;

	for (;;) {
		pfd.fd = p->sfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, TICK_MS) == -1 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			return TD_ESYSTEM;
		}
		if ((rc = read_signals(p)) != TD_OK)
			return rc;
		if ((rc = reap(p)) != TD_OK)
			return rc;
		now = now_ms();
		watchdog(p, now);
		retire_tick(p, now);
		respawn_tick(p, now);
		demand_tick(p, now);
		if (p->stopping && gens_used(p) == 0)
			return TD_OK;
	}
}

/* Error path only: leave no worker behind. */
static void
kill_all(struct pool *p)
{
	struct gen *g;
	int gi, i;

	for (gi = 0; gi < MAX_GENS; gi++) {
		g = &p->gens[gi];
		if (g->slots == NULL)
			continue;
		for (i = 0; i < g->n; i++) {
			if (g->ws[i].pid <= 0)
				continue;
			if (kill(g->ws[i].pid, SIGKILL) == -1)
				log_error("kill %ld: %s", (long)g->ws[i].pid,
				    strerror(errno));
			while (waitpid(g->ws[i].pid, NULL, 0) == -1 &&
			    errno == EINTR)
				continue;
			g->ws[i].pid = 0;
		}
	}
}

enum td_status
pool_run(const struct pool_opts *opts)
{
	struct pool p;
	struct sigaction sa, oldchld;
	sigset_t mask;
	enum td_status rc = TD_ESYSTEM;
	int gi, i, masked = 0, chld = 0;

	if (opts == NULL || opts_check(opts) != TD_OK)
		return TD_EINVAL;
	memset(&p, 0, sizeof(p));
	p.o = opts;
	p.cur = -1;
	p.sfd = -1;
	p.master = getpid();
	p.ncrash = opts->crash_limit > 0 ? opts->crash_limit : 5;
	p.window_ms = (int64_t)(opts->crash_window > 0 ?
	    opts->crash_window : 10) * 1000;
	if ((p.crashes = calloc((size_t)p.ncrash, sizeof(*p.crashes))) ==
	    NULL) {
		rc = TD_ENOMEM;
		goto out;
	}
	/* Created once: reloads do not reset what it counts. */
	p.stats = mmap(NULL, sizeof(*p.stats), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p.stats == MAP_FAILED) {
		p.stats = NULL;
		log_error("scoreboard mmap: %s", strerror(errno));
		goto out;
	}
	p.stats->started = (int64_t)time(NULL);
	p.stats->generation = 1;

	/* SIG_IGN on SIGCHLD would auto-reap and hide worker deaths. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	if (sigemptyset(&sa.sa_mask) == -1 ||
	    sigaction(SIGCHLD, &sa, &oldchld) == -1) {
		log_error("sigaction: %s", strerror(errno));
		goto out;
	}
	chld = 1;
	if (sigemptyset(&mask) == -1 || sigaddset(&mask, SIGCHLD) == -1 ||
	    sigaddset(&mask, SIGTERM) == -1 || sigaddset(&mask, SIGINT) == -1 ||
	    sigaddset(&mask, SIGHUP) == -1 || sigaddset(&mask, SIGUSR1) == -1 ||
	    sigprocmask(SIG_BLOCK, &mask, &p.oldmask) == -1) {
		log_error("sigprocmask: %s", strerror(errno));
		goto out;
	}
	masked = 1;
	if ((p.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_error("signalfd: %s", strerror(errno));
		goto out;
	}
	if ((gi = gen_open(&p, workers_most(opts))) == -1)
		goto out;
	p.cur = gi;
	p.grow_step = 1;
	for (i = 0; i < opts->workers; i++)
		spawn(&p, gi, i, now_ms());
	p.stats->workers = p.stats->workers_peak = opts->workers;
	p.stats->workers_min = opts->workers;
	if (workers_most(opts) > opts->workers)
		log_info("pool started: %d workers, up to %d by demand (idle "
		    "timeout %d s)", opts->workers, workers_most(opts),
		    opts->idle_timeout);
	else
		log_info("pool started: %d workers", opts->workers);
	rc = loop(&p);
	if (rc == TD_OK)
		log_info("pool stopped");
out:
	kill_all(&p);
	for (gi = 0; gi < MAX_GENS; gi++)
		if (p.gens[gi].slots != NULL)
			gen_close(&p, gi);
	free(p.crashes);
	if (p.stats != NULL && munmap(p.stats, sizeof(*p.stats)) == -1)
		log_error("scoreboard munmap: %s", strerror(errno));
	if (p.sfd != -1 && close(p.sfd) == -1)
		log_error("close signalfd: %s", strerror(errno));
	if (masked && sigprocmask(SIG_SETMASK, &p.oldmask, NULL) == -1)
		log_error("sigprocmask: %s", strerror(errno));
	if (chld && sigaction(SIGCHLD, &oldchld, NULL) == -1)
		log_error("sigaction: %s", strerror(errno));
	return rc;
}

void
pool_worker_busy(struct pool_slot *slot, const char *request_id,
    const char *request_line)
{
	int64_t now;

	if (slot == NULL)
		return;
	if (request_id == NULL)
		request_id = "";
	if (request_line == NULL)
		request_line = "";
	copy_bounded(slot->request_id, sizeof(slot->request_id), request_id,
	    strlen(request_id));
	copy_bounded(slot->request_line, sizeof(slot->request_line),
	    request_line, strlen(request_line));
	if ((now = now_ms()) == 0)
		now = 1;	/* 0 means idle */
	/* Publish the strings before the master can see "busy". */
	__atomic_store_n(&slot->busy_since_ms, now, __ATOMIC_RELEASE);
}

void
pool_worker_ready(struct pool_slot *slot)
{
	if (slot == NULL)
		return;
	__atomic_store_n(&slot->busy_since_ms, 0, __ATOMIC_RELEASE);
	slot->request_id[0] = '\0';
	slot->request_line[0] = '\0';
}

void
pool_worker_idle(struct pool_slot *slot)
{
	if (slot == NULL)
		return;
	pool_worker_ready(slot);
	slot->requests = slot->requests + 1;
}

void
pool_worker_result(struct pool_slot *slot, int status, uint64_t duration_us)
{
	if (slot == NULL)
		return;
	__atomic_store_n(&slot->last_status, status, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->last_us, duration_us, __ATOMIC_RELAXED);
}

int
pool_worker_stopping(void)
{
	return worker_stop != 0;
}

enum td_status
pool_scoreboard(struct pool_view *v)
{
	if (worker_view.slots == NULL)
		return TD_ENOTFOUND;
	*v = worker_view;
	return TD_OK;
}
