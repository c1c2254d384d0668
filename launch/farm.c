/* farm.c: ppoolrun --farm: each line a shell command run on a pool worker; joblog, resume, retries.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ppool.h>

#include "farm.h"

#define TASK "ppoolrun.farm"

/* What a worker sends back for one command, followed by its stdout and stderr. */
struct outcome {
    int32_t exitval, signal; /* as GNU parallel's joblog: the exit status, the killing signal */
    double start, runtime;   /* epoch seconds, seconds */
    uint32_t out_len, err_len;
    char host[64];
};

/* What the master sends: the command's settings, then the command (NUL-terminated). */
struct order {
    int32_t tries;
    double timeout;
};

static double epoch_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Reads a memfd's bytes from its start into a malloc'd buffer. */
static char *slurp_fd(int fd, uint32_t *len)
{
    off_t n = lseek(fd, 0, SEEK_END);
    char *b = malloc(n > 0 ? (size_t)n : 1);
    *len = 0;
    if (!b || n <= 0) return b;
    ssize_t r = pread(fd, b, (size_t)n, 0);
    *len = r > 0 ? (uint32_t)r : 0;
    return b;
}

/* Waits for pid up to `timeout` seconds (0: forever); past it, its process
 * group gets SIGTERM, then SIGKILL 0.2 s later. Returns the wait status. */
static int wait_child(pid_t pid, double timeout)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0), status = 0;
    if (pfd >= 0 && timeout > 0) {
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        int ms = timeout * 1000 > 1e9 ? 1000000000 : (int)(timeout * 1000);
        if (poll(&p, 1, ms) == 0) {
            kill(-pid, SIGTERM);
            if (poll(&p, 1, 200) == 0) kill(-pid, SIGKILL);
        }
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (pfd >= 0) close(pfd);
    return status;
}

/* Runs `sh -c cmd` once in its own process group, output into the memfds. */
static void run_once(const char *cmd, double timeout, int out, int err, struct outcome *o)
{
    ftruncate(out, 0);
    ftruncate(err, 0);
    o->start = epoch_now();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, 0);
        dup2(out, 1);
        dup2(err, 2);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int st = pid < 0 ? (127 << 8) : wait_child(pid, timeout);
    o->runtime = epoch_now() - o->start;
    o->exitval = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    o->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    if (o->signal) o->exitval = -1; /* as GNU parallel: killed, no exit status */
}

/* The task: the command, up to `tries` times until it succeeds. */
static int farm_task(ppool_task *t, const void *arg, size_t len)
{
    struct order ord;
    if (len <= sizeof ord || ((const char *)arg)[len - 1] != 0)
        return ppool_task_fail(t, "malformed farm order");
    memcpy(&ord, arg, sizeof ord);
    const char *cmd = (const char *)arg + sizeof ord;
    signal(SIGCHLD, SIG_DFL); /* waitpid needs it */
    int out = memfd_create("ppoolrun-out", MFD_CLOEXEC),
        err = memfd_create("ppoolrun-err", MFD_CLOEXEC);
    if (out < 0 || err < 0) return ppool_task_fail(t, "memfd_create: %s", strerror(errno));
    struct outcome o = {0};
    gethostname(o.host, sizeof o.host - 1);
    for (int i = 0; i < (ord.tries > 0 ? ord.tries : 1); i++) {
        run_once(cmd, ord.timeout, out, err, &o);
        if (o.exitval == 0 && o.signal == 0) break;
    }
    char *ob = slurp_fd(out, &o.out_len), *eb = slurp_fd(err, &o.err_len);
    close(out);
    close(err);
    size_t n = sizeof o + o.out_len + o.err_len;
    char *r = ob && eb ? malloc(n) : NULL;
    int rc = r ? 0 : ppool_task_fail(t, "out of memory for the command's output");
    if (r) {
        memcpy(r, &o, sizeof o);
        memcpy(r + sizeof o, ob, o.out_len);
        memcpy(r + sizeof o + o.out_len, eb, o.err_len);
        rc = ppool_task_return(t, r, n);
    }
    free(ob);
    free(eb);
    free(r);
    return rc;
}

int farm_register(void)
{
    return ppool_register(TASK, farm_task);
}

/* ---- the master's side ---- */

struct farm {
    const struct farm_opts *o;
    char **cmds; /* the non-blank lines */
    size_t ncmds;
    size_t *todo; /* indices into cmds of the commands to run */
    size_t ntodo, next;
    char *order; /* the source's current item */
    FILE *log;
    size_t done, failed;
    double t0;
};

/* The lines of the file (or stdin), blank ones skipped. */
static int read_commands(struct farm *f)
{
    FILE *in = strcmp(f->o->file, "-") == 0 ? stdin : fopen(f->o->file, "r");
    if (!in) {
        fprintf(stderr, "ppoolrun: --farm %s: %s\n", f->o->file, strerror(errno));
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    for (ssize_t n; (n = getline(&line, &cap, in)) >= 0;) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (strspn(line, " \t") == (size_t)n) continue;
        char **c = realloc(f->cmds, (f->ncmds + 1) * sizeof *c);
        if (!c || !(c[f->ncmds] = strdup(line))) {
            fprintf(stderr, "ppoolrun: out of memory reading the commands\n");
            return 1;
        }
        f->cmds = c;
        f->ncmds++;
    }
    free(line);
    if (in != stdin) fclose(in);
    return 0;
}

/* Marks in skip[] the sequence numbers the joblog has (--resume), or has as
 * succeeded (--resume-failed). */
static void read_joblog(struct farm *f, char *skip)
{
    FILE *in = fopen(f->o->joblog, "r");
    if (!in) return;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, in) >= 0) {
        long seq, exitval, sig;
        char host[256];
        double start, runtime;
        long send, recv;
        if (sscanf(line, "%ld\t%255s\t%lf\t%lf\t%ld\t%ld\t%ld\t%ld", &seq, host, &start, &runtime,
                   &send, &recv, &exitval, &sig) != 8)
            continue; /* the header, or a torn last row */
        if (seq < 1 || (size_t)seq > f->ncmds) continue;
        if (!f->o->resume_failed || (exitval == 0 && sig == 0)) skip[seq - 1] = 1;
    }
    free(line);
    fclose(in);
}

/* The commands to run: all, or those the joblog does not settle. */
static int plan(struct farm *f)
{
    char *skip = calloc(f->ncmds ? f->ncmds : 1, 1);
    f->todo = malloc((f->ncmds ? f->ncmds : 1) * sizeof *f->todo);
    if (!skip || !f->todo) return 1;
    if (f->o->joblog && (f->o->resume || f->o->resume_failed)) read_joblog(f, skip);
    for (size_t i = 0; i < f->ncmds; i++)
        if (!skip[i]) f->todo[f->ntodo++] = i;
    free(skip);
    return 0;
}

/* The pool's source: each command's order, in turn. */
static int next_order(void *user, const void **item, size_t *len)
{
    struct farm *f = user;
    if (f->next == f->ntodo) return 0;
    const char *cmd = f->cmds[f->todo[f->next++]];
    size_t n = sizeof(struct order) + strlen(cmd) + 1;
    free(f->order);
    if (!(f->order = malloc(n))) return PPOOL_ENOMEM;
    struct order o = {.tries = f->o->retries, .timeout = f->o->timeout};
    memcpy(f->order, &o, sizeof o);
    memcpy(f->order + sizeof o, cmd, n - sizeof o);
    *item = f->order;
    *len = n;
    return 1;
}

/* Writes data to DIR/SEQ.stdout or .stderr. */
static void save_result(const char *dir, size_t seq, const char *what, const char *data, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%zu.%s", dir, seq, what);
    FILE *out = fopen(path, "w");
    if (!out) {
        fprintf(stderr, "ppoolrun: --results: %s: %s\n", path, strerror(errno));
        return;
    }
    fwrite(data, 1, n, out);
    fclose(out);
}

static void draw_progress(struct farm *f, int last)
{
    double dt = epoch_now() - f->t0, rate = dt > 0 ? (double)f->done / dt : 0;
    double eta = rate > 0 ? (double)(f->ntodo - f->done) / rate : 0;
    fprintf(stderr, "\rppoolrun: %zu/%zu done, %zu failed, %.1f/s, ETA %.0f s%s", f->done, f->ntodo,
            f->failed, rate, eta, last ? "\n" : "");
}

/* One command's outcome: its output (whole, so never interleaved mid-line),
 * its joblog row, its result files. */
static void finish(struct farm *f, size_t k, const ppool_buf *r, int rc)
{
    size_t i = f->todo[k], seq = i + 1;
    struct outcome o = {.exitval = -1};
    const char *out = "", *err = "";
    if (rc == 0 && r->len >= sizeof o) {
        memcpy(&o, r->data, sizeof o);
        if (sizeof o + (size_t)o.out_len + o.err_len == r->len) {
            out = (const char *)r->data + sizeof o;
            err = out + o.out_len;
        } else {
            o.out_len = o.err_len = 0;
        }
    } else {
        strcpy(o.host, ":");
        fprintf(stderr, "ppoolrun: command %zu (%s): %s\n", seq, f->cmds[i], ppool_strerror(rc));
    }
    fwrite(out, 1, o.out_len, stdout);
    fwrite(err, 1, o.err_len, stderr);
    fflush(stdout);
    if (f->log) {
        fprintf(f->log, "%zu\t%s\t%.3f\t%8.3f\t%d\t%u\t%d\t%d\t%s\n", seq, o.host[0] ? o.host : ":",
                o.start, o.runtime, 0, o.out_len + o.err_len, o.exitval, o.signal, f->cmds[i]);
        fflush(f->log); /* a farm killed now keeps this row */
    }
    if (f->o->results) {
        save_result(f->o->results, seq, "stdout", out, o.out_len);
        save_result(f->o->results, seq, "stderr", err, o.err_len);
    }
    f->done++;
    f->failed += o.exitval != 0 || o.signal != 0;
    if (f->o->progress) draw_progress(f, f->done == f->ntodo);
}

/* Opens the joblog for appending, with GNU parallel's header when new. */
static int open_joblog(struct farm *f)
{
    if (!f->o->joblog) return 0;
    if (!(f->o->resume || f->o->resume_failed)) unlink(f->o->joblog);
    struct stat sb;
    int fresh = stat(f->o->joblog, &sb) != 0 || sb.st_size == 0;
    if (!(f->log = fopen(f->o->joblog, "a"))) {
        fprintf(stderr, "ppoolrun: --joblog %s: %s\n", f->o->joblog, strerror(errno));
        return 1;
    }
    if (fresh)
        fputs("Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n",
              f->log);
    return 0;
}

/* Maps the commands over the pool; 0 or 1. */
static int farm_map(struct farm *f, ppool *p)
{
    f->t0 = epoch_now();
    if (!f->ntodo) return 0;
    ppool_iter *it = ppool_imap_source(p, TASK, next_order, f, f->o->keep_order);
    if (!it) {
        fprintf(stderr, "ppoolrun: %s\n", ppool_errmsg(p));
        return 1;
    }
    size_t k;
    ppool_buf r;
    for (int rc; (rc = ppool_iter_next(it, &k, &r, -1)) != PPOOL_EDONE;) {
        if (k >= f->ntodo) break; /* the source itself failed */
        finish(f, k, &r, rc);
    }
    ppool_iter_free(it);
    return 0;
}

static void farm_free(struct farm *f)
{
    for (size_t i = 0; i < f->ncmds; i++) free(f->cmds[i]);
    free(f->cmds);
    free(f->todo);
    free(f->order);
    if (f->log) fclose(f->log);
}

int farm_run(const struct farm_opts *o)
{
    if (farm_register()) {
        fprintf(stderr, "ppoolrun: %s\n", ppool_errmsg(NULL));
        return 255;
    }
    ppool *p;
    ppool_opts po = PPOOL_OPTS_INIT;
    po.chunksize = 1; /* one command per chunk: a long one never holds short ones back */
    int rc = ppool_open(&p, &po);
    if (rc == PPOOL_WORKER) return 0;
    if (rc) {
        fprintf(stderr, "ppoolrun: cannot open the pool: %s\n", ppool_errmsg(NULL));
        return 255;
    }
    struct farm f = {.o = o};
    rc = read_commands(&f) || plan(&f) || open_joblog(&f) || farm_map(&f, p);
    ppool_free(p);
    size_t failed = f.failed;
    farm_free(&f);
    if (rc) return 255;
    return failed > 101 ? 101 : (int)failed;
}
