/* local.c: the local transport's master side: per-worker socket channels, events and the fork
 * server. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ppool.h"
#include "local.h"

typedef struct wq {
    unsigned char hdr[PPOOL__FRAME_HDR];
    unsigned char *buf;
    size_t len, off; /* off counts the header bytes too */
    struct wq *next;
} wq;

typedef struct chan {
    int fd;     /* -1 while down */
    int pid;    /* 0 while down */
    int exited; /* the fork server reported the pid's end */
    int status;
    int eof;
    int wdead;     /* a write failed (EPIPE): nothing more is written; what it sent is still read */
    int kill_sent; /* FS_KILL already asked for this pid */
    int no_fork;   /* errno of the fork server's failed fork for this slot, 0 if none */
    char why[80];  /* why the master killed it ("" if it did not) */
    int starting;  /* asked for, not installed yet: frames for it wait in q */
    ppool__frame_in in; /* frames being read */
    wq *q, *qtail;
    ppool__ring ring; /* its part of the arena */
} chan;

typedef struct local_st {
    int n;
    chan *c;
    int ctl;
    pid_t srv;
    int evfd;
    size_t max_frame;
    ppool__evq events;          /* made here, not reported yet */
    volatile uint64_t *current; /* 2 words per worker, MAP_SHARED with them */
    ppool__arena arena;         /* large frames, MAP_SHARED with forked workers */
    int memfd;                  /* spawn: the memfd behind `current`, -1 if none */
    int spawn;                  /* start method "spawn": workers re-execute the program */
    struct pollfd *pfd;
    int *pslot;
    double active; /* when a frame last went out or an event came: then recv() spins first */
} local_st;

static double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* poll() that first spins (non-blocking polls, yielding between them) for
 * up to PPOOL__LOCAL_SPIN when a message moved in the last millisecond:
 * a reply that comes within microseconds then costs no wake-up, and an idle
 * pool never spins. */
static int poll_soon(local_st *s, nfds_t k, int ms)
{
    double t0 = mono_now();
    if (ms != 0 && t0 - s->active < 1e-3) {
        do {
            int r = poll(s->pfd, k, 0);
            if (r != 0) return r;
            sched_yield();
        } while (mono_now() - t0 < PPOOL__LOCAL_SPIN);
    }
    return poll(s->pfd, k, ms);
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        ppool__fd_untrack(*fd);
        close(*fd);
        *fd = -1;
    }
}

static void reset_chan(chan *c)
{
    close_fd(&c->fd);
    ppool__frame_in_clear(&c->in);
    while (c->q) {
        wq *n = c->q->next;
        free(c->q->buf);
        free(c->q);
        c->q = n;
    }
    c->qtail = NULL;
    c->pid = 0;
    c->exited = c->eof = c->wdead = c->kill_sent = c->no_fork = c->starting = 0;
    c->why[0] = 0;
}

static int srv_read(local_st *s, int block);
static void flush_chan(chan *c);

/* Sends a control message; while the socket is full, reads what the server
 * says meanwhile, so neither side waits for the other (1,000 spawns at open). */
static void srv_send(local_st *s, int op, int slot, int pid)
{
    fsmsg m = {.op = op, .slot = slot, .pid = pid};
    while (s->ctl >= 0 && send(s->ctl, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return; /* the server is gone: recv() reports it */
        struct pollfd pf = {.fd = s->ctl, .events = POLLIN | POLLOUT};
        while (poll(&pf, 1, -1) < 0 && errno == EINTR) {
        }
        if (pf.revents & POLLIN) srv_read(s, 0);
    }
}

/* Reads one control message; installs spawned channels and records exits. */
static int srv_read(local_st *s, int block)
{
    fsmsg m;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    if (block) { /* wait outside the fd lock */
        struct pollfd pf = {.fd = s->ctl, .events = POLLIN};
        while (poll(&pf, 1, -1) < 0 && errno == EINTR) {
        }
    }
    /* A received descriptor is tracked before any other pool can fork. */
    ppool__fd_lock();
    ssize_t got = recvmsg(s->ctl, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    int fd = -1;
    struct cmsghdr *c = got > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (c && c->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(c), sizeof fd);
    if (fd >= 0) ppool__fd_track_locked(fd);
    ppool__fd_unlock();
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    if (got != (ssize_t)sizeof m) {
        if (fd >= 0) close_fd(&fd);
        return PPOOL_ETRANSPORT; /* the server is gone */
    }
    if (m.op == FS_SPAWNED && m.slot >= 0 && m.slot < s->n && fd >= 0) {
        chan *ch = &s->c[m.slot];
        wq *q = ch->q, *qtail = ch->qtail; /* frames sent while it started (its Init) */
        ch->q = ch->qtail = NULL;
        reset_chan(ch);
        ch->q = q;
        ch->qtail = qtail;
        ch->fd = fd;
        ch->pid = m.pid;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        flush_chan(ch);
        return 1;
    }
    if (fd >= 0) close_fd(&fd);
    if (m.op == FS_SPAWNED && m.slot >= 0 && m.slot < s->n) {
        /* Its descriptor did not arrive (no free one here: EMFILE): end it. */
        srv_send(s, FS_KILL, m.slot, m.pid);
        m.op = FS_FAILED;
        m.status = EMFILE;
    }
    if (m.op == FS_EXITED) {
        for (int i = 0; i < s->n; i++)
            if (s->c[i].pid == m.pid) {
                s->c[i].exited = 1;
                s->c[i].status = m.status;
            }
        return 1;
    }
    if (m.op == FS_FAILED && m.slot >= 0 && m.slot < s->n) {
        /* No process for the slot (RLIMIT_NPROC, memory): a death the core
         * counts like a failed start, so the pool goes on with fewer workers. */
        reset_chan(&s->c[m.slot]);
        s->c[m.slot].no_fork = m.status ? m.status : EAGAIN;
        ppool__event ev = {.kind = PPOOL__EV_DEAD, .worker = m.slot};
        snprintf(ev.why, sizeof ev.why, "worker %d could not be started: fork: %s", m.slot,
                 strerror(s->c[m.slot].no_fork));
        return ppool__evq_push(&s->events, &ev) ? PPOOL_ENOMEM : 1;
    }
    return 1;
}

/* Writes what the socket takes. */
static void flush_chan(chan *c)
{
    while (c->q && c->fd >= 0 && !c->wdead) {
        wq *w = c->q;
        struct iovec iov[2];
        int k = 0;
        if (w->off < PPOOL__FRAME_HDR)
            iov[k++] = (struct iovec){w->hdr + w->off, PPOOL__FRAME_HDR - w->off};
        size_t boff = w->off > PPOOL__FRAME_HDR ? w->off - PPOOL__FRAME_HDR : 0;
        iov[k++] = (struct iovec){w->buf + boff, w->len - boff};
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)k};
        ssize_t r = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            c->wdead = 1; /* EPIPE: the worker is gone; its exit will be reported */
            return;
        }
        w->off += (size_t)r;
        if (w->off < w->len + PPOOL__FRAME_HDR) continue;
        c->q = w->next;
        if (!c->q) c->qtail = NULL;
        free(w->buf);
        free(w);
    }
}

/* Reads complete frames into events until the socket has no more. */
static int read_chan(local_st *s, int slot)
{
    chan *c = &s->c[slot];
    int may_read = 1;
    while (c->fd >= 0 && !c->eof) {
        void *frame;
        size_t len;
        int r = ppool__frame_next(&c->in, c->fd, s->max_frame, may_read, &frame, &len);
        if (c->in.read_short) may_read = 0; /* drained: poll says when more comes */
        if (r == PPOOL__FIN_FRAME) {
            ppool__event ev = {.kind = PPOOL__EV_FRAME, .worker = slot, .frame = frame, .len = len};
            if (ppool__evq_push(&s->events, &ev)) {
                free(frame);
                return PPOOL_ENOMEM;
            }
            continue;
        }
        if (r == PPOOL__FIN_AGAIN && may_read) continue; /* a full read: there is more */
        if (r == -ENOMEM) return PPOOL_ENOMEM;
        if (r == -EPROTO || r == -EMSGSIZE) {
            /* Not a header, or too large: a protocol error ends the worker. */
            snprintf(c->why, sizeof c->why, "%s",
                     r == -EPROTO ? "it wrote bytes that are not a frame into its socket"
                                  : "it sent a frame over the size limit");
            srv_send(s, FS_KILL, slot, c->pid);
            c->kill_sent = 1;
        }
        if (r != PPOOL__FIN_AGAIN) c->eof = 1; /* the end, torn or not, or an error */
        break;
    }
    return 0;
}

/* A wait(2) status in words, or why the master killed it. */
static void describe_death(char *buf, size_t n, int w, int pid, int status, const char *why)
{
    if (why[0])
        snprintf(buf, n, "worker %d (pid %d) was killed: %s", w, pid, why);
    else if (WIFSIGNALED(status))
        snprintf(buf, n, "worker %d (pid %d) died with signal %d (%s)", w, pid, WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status))
        snprintf(buf, n, "worker %d (pid %d) exited with status %d", w, pid, WEXITSTATUS(status));
    else
        snprintf(buf, n, "worker %d (pid %d) was lost", w, pid);
}

/* Reports the end of workers whose process is gone, after their last frames. */
static void settle(local_st *s)
{
    for (int i = 0; i < s->n; i++) {
        chan *c = &s->c[i];
        if (c->pid && (c->eof || c->wdead) && !c->exited && !c->kill_sent) {
            /* The channel closed under a live process: make sure it ends. */
            srv_send(s, FS_KILL, i, c->pid);
            c->kill_sent = 1;
        }
        if (c->pid && c->exited) {
            read_chan(s, i); /* whatever it wrote before it died */
            ppool__event ev = {.kind = PPOOL__EV_DEAD, .worker = i, .pid = c->pid};
            describe_death(ev.why, sizeof ev.why, i, c->pid, c->status, c->why);
            reset_chan(c);
            ppool__evq_push(&s->events, &ev);
        }
    }
}

static int local_recv(void *st, ppool__event *ev, double timeout)
{
    local_st *s = st;
    memset(ev, 0, sizeof *ev);
    if (ppool__evq_pop(&s->events, ev)) return 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int k = 0;
        s->pfd[k++] = (struct pollfd){.fd = s->evfd, .events = POLLIN};
        s->pfd[k++] = (struct pollfd){.fd = s->ctl, .events = POLLIN};
        for (int i = 0; i < s->n; i++) {
            chan *c = &s->c[i];
            if (c->fd < 0 || c->eof) continue;
            s->pslot[k] = i;
            s->pfd[k++] = (struct pollfd){
                .fd = c->fd, .events = (short)(POLLIN | (c->q && !c->wdead ? POLLOUT : 0))};
        }
        int ms = -1;
        if (timeout >= 0) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            double left = timeout - ((double)(t.tv_sec - t0.tv_sec) +
                                     (double)(t.tv_nsec - t0.tv_nsec) * 1e-9);
            ms = left <= 0 ? 0 : left > 1e6 ? 1000000000 : (int)(left * 1000.0 + 0.999);
        }
        int r = poll_soon(s, (nfds_t)k, ms);
        if (r < 0 && errno != EINTR) return PPOOL_ETRANSPORT;
        int woken = 0;
        if (r > 0 && ((s->pfd[0].revents | s->pfd[1].revents) & POLLNVAL))
            return PPOOL_ETRANSPORT; /* someone closed the pool's descriptors */
        if (r > 0) {
            if (s->pfd[0].revents & POLLIN) {
                uint64_t v;
                while (read(s->evfd, &v, sizeof v) > 0) {
                }
                woken = 1;
            }
            if (s->pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                int rc;
                while ((rc = srv_read(s, 0)) > 0) {
                }
                if (rc < 0) return rc;
            }
            for (int j = 2; j < k; j++) {
                chan *c = &s->c[s->pslot[j]];
                if (s->pfd[j].revents & POLLOUT) flush_chan(c);
                if (s->pfd[j].revents & (POLLIN | POLLHUP | POLLERR)) {
                    int rc = read_chan(s, s->pslot[j]);
                    if (rc) return rc;
                }
            }
        }
        settle(s);
        if (ppool__evq_pop(&s->events, ev)) {
            s->active = mono_now();
            return 0;
        }
        if (woken || r == 0) return 0;
    }
}

static int local_send(void *st, int worker, void *frame, size_t len)
{
    local_st *s = st;
    chan *c = worker >= 0 && worker < s->n ? &s->c[worker] : NULL;
    int open = c && ((c->fd >= 0 && !c->eof && !c->wdead) || c->starting);
    wq *w = open ? malloc(sizeof *w) : NULL;
    if (!w) {
        free(frame);
        return c ? PPOOL_EWORKER : PPOOL_EINVAL;
    }
    ppool__frame_hdr_put(w->hdr, len);
    w->buf = frame;
    w->len = len;
    w->off = 0;
    w->next = NULL;
    if (c->qtail)
        c->qtail->next = w;
    else
        c->q = w;
    c->qtail = w;
    flush_chan(c);
    s->active = mono_now();
    return 0;
}

/* A large frame: copied once into the worker's ring, which it reads in
 * place, with a marker on the socket; through the socket when the ring has
 * no room (or there is none). Nothing stays borrowed. */
static int local_send_bulk(void *st, int worker, void *head, size_t head_len, const void *bulk,
                           size_t bulk_len)
{
    local_st *s = st;
    size_t len = head_len + bulk_len;
    unsigned char *mark = worker >= 0 && worker < s->n ? malloc(PPOOL__ARENA_MARK) : NULL;
    uint64_t end;
    unsigned char *dst =
        mark ? ppool__arena_take(&s->arena, worker, &s->c[worker].ring, len, &end) : NULL;
    if (dst) {
        memcpy(dst, head, head_len);
        memcpy(dst + head_len, bulk, bulk_len);
        free(head);
        ppool__arena_mark(mark, end, len);
        return local_send(st, worker, mark, PPOOL__ARENA_MARK);
    }
    free(mark);
    unsigned char *f = realloc(head, len);
    if (!f) {
        free(head);
        return PPOOL_ENOMEM;
    }
    memcpy(f + head_len, bulk, bulk_len);
    return local_send(st, worker, f, len);
}

static void local_wake(void *st)
{
    local_st *s = st;
    uint64_t one = 1;
    if (s->evfd >= 0) (void)!write(s->evfd, &one, sizeof one);
}

static int local_respawn(void *st, int worker)
{
    local_st *s = st;
    if (worker < 0 || worker >= s->n) return PPOOL_EINVAL;
    reset_chan(&s->c[worker]); /* a retiring worker reads EOF and exits */
    ppool__arena_restart(&s->arena, worker, &s->c[worker].ring); /* its frames were answered */
    s->c[worker].starting = 1;
    srv_send(s, FS_SPAWN, worker, 0);
    return s->ctl >= 0 ? 0 : PPOOL_ETRANSPORT;
}

static int local_kill(void *st, int worker)
{
    local_st *s = st;
    for (int i = 0; i < s->n; i++)
        if ((worker < 0 || i == worker) && s->c[i].pid && !s->c[i].exited)
            srv_send(s, FS_KILL, i, s->c[i].pid);
    return 0;
}

static void local_close(void *st)
{
    local_st *s = st;
    for (int i = 0; s->c && i < s->n; i++) reset_chan(&s->c[i]);
    /* The server gives workers that saw EOF a second, kills the rest, reaps
     * and exits; QUIT makes sure even if someone else holds a copy of ctl. */
    srv_send(s, FS_QUIT, -1, 0);
    close_fd(&s->ctl);
    if (s->srv > 0) {
        while (waitpid(s->srv, NULL, 0) < 0 && errno == EINTR) {
        }
        s->srv = 0;
    }
    close_fd(&s->evfd);
    ppool__evq_clear(&s->events);
    if (s->current) munmap((void *)s->current, 2 * sizeof(uint64_t) * (size_t)s->n);
    s->current = NULL;
    ppool__arena_unmap(&s->arena);
    if (s->memfd >= 0) close_fd(&s->memfd);
    free(s->c);
    free(s->pfd);
    free(s->pslot);
    s->c = NULL;
    s->pfd = NULL;
    s->pslot = NULL;
}

/* The culprit words, 2 per worker, shared with the workers: an anonymous
 * shared mapping for forked ones, a memfd that re-executed ones map. NULL
 * if neither can be had (then deaths bisect). */
static volatile uint64_t *map_current(local_st *s)
{
    size_t bytes = 2 * sizeof(uint64_t) * (size_t)s->n;
    if (s->spawn) {
        ppool__fd_lock();
        s->memfd = memfd_create("ppool-current", MFD_CLOEXEC);
        if (s->memfd >= 0) ppool__fd_track_locked(s->memfd);
        ppool__fd_unlock();
        if (s->memfd < 0 || ftruncate(s->memfd, (off_t)bytes) != 0) return NULL;
    }
    void *cur = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                     MAP_SHARED | (s->spawn ? 0 : MAP_ANONYMOUS), s->spawn ? s->memfd : -1, 0);
    return cur == MAP_FAILED ? NULL : cur;
}

static int local_open(void *st, ppool__topen *o, char *err, size_t errlen)
{
    local_st *s = st;
    s->ctl = s->evfd = s->memfd = -1;
    s->arena = (ppool__arena){.fd = -1};
    s->n = o->workers;
    s->max_frame = o->max_frame;
    s->c = calloc((size_t)s->n, sizeof *s->c);
    s->pfd = calloc((size_t)s->n + 2, sizeof *s->pfd);
    s->pslot = calloc((size_t)s->n + 2, sizeof *s->pslot);
    if (!s->c || !s->pfd || !s->pslot) {
        snprintf(err, errlen, "out of memory for %d workers", s->n);
        return PPOOL_ENOMEM;
    }
    for (int i = 0; i < s->n; i++) s->c[i].fd = -1;
    ppool__fd_lock();
    s->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->evfd >= 0) ppool__fd_track_locked(s->evfd);
    ppool__fd_unlock();
    if (s->evfd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        return PPOOL_ESYS;
    }
    s->current = map_current(s);
    if (!s->spawn) ppool__arena_map(&s->arena, s->n); /* re-executed workers would not have it */
    int ctl;
    pid_t pid = ppool__forksrv_start(o->wops, o->max_frame, s->current, &s->arena,
                                     s->spawn ? (s->current ? s->memfd : -1) : -2, &ctl);
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork the fork server: %s", strerror((int)-pid));
        return PPOOL_ESYS;
    }
    s->srv = pid;
    s->ctl = ctl;
    for (int i = 0; i < s->n; i++) srv_send(s, FS_SPAWN, i, 0);
    for (int got = 0; got < s->n;) {
        int rc = srv_read(s, 1);
        if (rc < 0) {
            snprintf(err, errlen, "cannot start worker %d of %d: the fork server is gone", got,
                     s->n);
            return PPOOL_ESYS;
        }
        got = 0;
        for (int i = 0; i < s->n; i++) {
            if (s->c[i].no_fork) {
                snprintf(err, errlen, "cannot start worker %d of %d: fork: %s", i, s->n,
                         strerror(s->c[i].no_fork));
                return PPOOL_ESYS;
            }
            got += s->c[i].fd >= 0 || s->c[i].exited;
        }
    }
    return 0;
}

static int local_culprit(void *st, int worker, uint64_t *job, uint64_t *index1)
{
    local_st *s = st;
    if (!s->current || worker < 0 || worker >= s->n) return -1;
    *job = __atomic_load_n(&s->current[2 * worker], __ATOMIC_RELAXED);
    *index1 = __atomic_load_n(&s->current[2 * worker + 1], __ATOMIC_ACQUIRE);
    return *index1 ? 0 : -1;
}

/* Always usable: the fallback of "auto". */
static int local_detect(void)
{
    return 1;
}

/* ---------- the start method "spawn" ---------- */

static int spawn_open(void *st, ppool__topen *o, char *err, size_t errlen)
{
    ((local_st *)st)->spawn = 1;
    return local_open(st, o, err, errlen);
}

/* In a re-executed worker: PPOOL__SPAWNED names its socket, slot, culprit
 * memfd and the fork server (its parent). Served once; every later open in
 * this process is a worker's too. */
static int spawn_serve(const ppool__worker_ops *wops, size_t max_frame)
{
    static int served;
    const char *v = getenv(PPOOL__SPAWNED_ENV);
    if (served) return PPOOL_WORKER;
    int fd, slot, memfd, srv;
    if (!v || sscanf(v, "%d,%d,%d,%d", &fd, &slot, &memfd, &srv) != 4) return 0;
    served = 1;
    unsetenv(PPOOL__SPAWNED_ENV); /* not for what this worker's tasks start */
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    volatile uint64_t *cur = NULL;
    struct stat sb;
    if (memfd >= 0 && fstat(memfd, &sb) == 0 && sb.st_size >= (off_t)(16 * (slot + 1))) {
        void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
        cur = m == MAP_FAILED ? NULL : (volatile uint64_t *)m + 2 * slot;
    }
    if (memfd >= 0) close(memfd);
    if (getppid() != srv) _exit(0); /* the fork server is already gone */
    (void)ppool__serve_channel(fd, slot, 0, wops, max_frame, cur, NULL); /* the master let go */
    close(fd);
    return PPOOL_WORKER;
}

/* What both start methods share; only open, caps and the spawn hooks differ. */
#define LOCAL_OPS                                                                                  \
    .name = "local", .detect = local_detect, .culprit = local_culprit,                             \
    .state_size = sizeof(local_st), .close = local_close, .send = local_send, .recv = local_recv,  \
    .send_bulk = local_send_bulk, .wake = local_wake, .respawn = local_respawn, .kill = local_kill

const ppool__transport ppool__local_spawn_transport = {
    LOCAL_OPS,
    .caps = PPOOL__CAN_RESPAWN | PPOOL__CAN_KILL | PPOOL__CAN_PIN | PPOOL__BULK_COPIES,
    .open = spawn_open,
    .spawned = spawn_serve,
};

const ppool__transport ppool__local_transport = {
    LOCAL_OPS,
    .caps = PPOOL__CAN_RESPAWN | PPOOL__CAN_KILL | PPOOL__CAN_PIN | PPOOL__INHERITS |
            PPOOL__BULK_COPIES,
    .open = local_open,
    .spawn = &ppool__local_spawn_transport,
};
