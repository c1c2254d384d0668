/* mpi.c: the MPI transport: rank 0 is the master, ranks 1..n serve frames as workers. */
#include <errno.h>
#include <stdint.h>
#include <mpi.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "mpi_impl.h"
#include "ppool.h"

typedef struct mpi_st {
    MPI_Comm comm; /* ppool's duplicate, MPI_COMM_NULL when none */
    int rank, size, n;
    size_t max_frame;
    int evfd;               /* wake() writes it, so a nap ends at once */
    int woken;              /* wake() sets it: read without a system call */
    ppool__mpi_sends out;   /* Isends not yet complete */
    ppool__evq events;      /* made here, not reported yet */
    char *gone;             /* per rank: given up (lost, broken, or abandoned) */
    char *bye;              /* per rank: said PPOOL__CTL_BYE */
    char *beats;            /* per rank: sends heartbeats, so silence means lost */
    double *heard;          /* per rank: when it was last heard from */
    ppool__mpi_batch *pend; /* per rank: small frames not sent yet (sent before recv() waits) */
    double active;          /* last time a message moved: drives the spin/backoff */
    double polled;          /* last time the master looked for messages */
    double beat_at;
    int no_beats; /* inline progress: the master sends no heartbeats */
    /* A sub-master's pool: its last slot is this rank itself, which runs the
     * frames queued for it when nothing else waits (the sub-master works too). */
    int self, self_gone;
    ppool__evq selfq; /* frames for it, oldest first */
    const ppool__worker_ops *wops;
} mpi_st;

/* ---- MPI's life in this process ---- */

static int initialised_here; /* ppool called MPI_Init_thread, so it finalises */

static void finalize_at_exit(void)
{
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
}

/* Initialises MPI if nobody has; checks the thread level ppool needs: with
 * MPI_THREAD_MULTIPLE a dispatcher thread, below it (FUNNELED, SERIALIZED)
 * MPI calls only from the threads that call ppool (*inline_progress set). */
static int ensure_mpi(int *inline_progress, char *err, size_t errlen)
{
    int init = 0, fin = 0, level = 0;
    MPI_Finalized(&fin);
    if (fin) {
        snprintf(err, errlen, "MPI is already finalised in this process");
        return PPOOL_ETRANSPORT;
    }
    MPI_Initialized(&init);
    if (!init) {
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &level) != MPI_SUCCESS) {
            snprintf(err, errlen, "MPI_Init_thread failed");
            return PPOOL_ETRANSPORT;
        }
        initialised_here = 1;
#ifndef PPOOL_SMPI /* SMPI runs a rank's atexit after the simulation, where MPI is gone */
        atexit(finalize_at_exit);
#endif
    }
    ppool__mpi_watch_launcher();
    MPI_Query_thread(&level);
#ifdef PPOOL_SMPI /* SMPI answers SINGLE; a simulated rank is one actor: funneled, inline */
    if (level < MPI_THREAD_FUNNELED) level = MPI_THREAD_FUNNELED;
#endif
    if (level < MPI_THREAD_FUNNELED) {
        snprintf(err, errlen,
                 "MPI was initialised at MPI_THREAD_SINGLE; ppool needs MPI_THREAD_FUNNELED or "
                 "more (its calls then run MPI from the calling thread)");
        return PPOOL_ETRANSPORT;
    }
    if (level < MPI_THREAD_MULTIPLE) *inline_progress = 1;
    return 0;
}

/* Started by an MPI launcher with 2 or more processes, or MPI already up. */
static int mpi_detect(void)
{
#ifdef PPOOL_SMPI
    return 1; /* under smpirun: every rank is MPI's, with no launcher variables */
#endif
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) {
        int size = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        return size > 1;
    }
    return ppool__launched(NULL, 0);
}

/* ---- the master's side ---- */

/* Gives rank r up and reports its worker dead, saying why. */
static void lose(mpi_st *s, int r, const char *how)
{
    if (s->gone[r]) return;
    s->gone[r] = 1;
    ppool__mpi_batch_clear(&s->pend[r]);
    if (r > s->n) return;
    ppool__event ev = {.kind = PPOOL__EV_DEAD, .worker = r - 1, .pid = -1};
    snprintf(ev.why, sizeof ev.why, "worker %d (rank %d) %s", r - 1, r, how);
    ppool__evq_push(&s->events, &ev);
}

/* ---- the slot that is this rank itself (a sub-master's pool) ---- */

static int is_self(const mpi_st *s, int worker)
{
    return s->self && worker == s->n - 1;
}

/* Queues a frame (taken) for this rank to run. */
static int self_send(mpi_st *s, void *frame, size_t len)
{
    ppool__event ev = {.kind = PPOOL__EV_FRAME, .worker = s->n - 1, .frame = frame, .len = len};
    if (s->self_gone || ppool__evq_push(&s->selfq, &ev)) {
        free(frame);
        return s->self_gone ? PPOOL_EWORKER : PPOOL_ENOMEM;
    }
    return 0;
}

static void self_lose(mpi_st *s, const char *how)
{
    if (s->self_gone) return;
    s->self_gone = 1;
    ppool__evq_clear(&s->selfq);
    ppool__event ev = {.kind = PPOOL__EV_DEAD, .worker = s->n - 1, .pid = (int)getpid()};
    snprintf(ev.why, sizeof ev.why, "worker %d (the sub-master itself) %s", s->n - 1, how);
    ppool__evq_push(&s->events, &ev);
}

/* Runs the oldest frame queued for this rank: 1 with its reply in *ev, else 0. */
static int self_run(mpi_st *s, ppool__event *ev)
{
    ppool__event in;
    if (!s->self || !ppool__evq_pop(&s->selfq, &in)) return 0;
    void *out = NULL;
    size_t len = 0;
    int r = s->wops->run(s->wops->ctx, in.frame, in.len, &out, &len);
    free(in.frame);
    if (r < 0) {
        free(out);
        self_lose(s, "could not run a frame");
        return 0;
    }
    if (!out) return 0;
    *ev = (ppool__event){.kind = PPOOL__EV_FRAME, .worker = s->n - 1, .frame = out, .len = len};
    s->active = ppool__mpi_now();
    return 1;
}

static int isend(mpi_st *s, int rank, void *buf, int count, MPI_Datatype type, int tag)
{
    return ppool__mpi_isend(&s->out, s->comm, rank, buf, count, type, tag);
}

/* Sends rank r's small frames waiting, as one batch. */
static void send_pending(mpi_st *s, int r)
{
    if (!s->pend[r].count) return;
    size_t len;
    void *buf = ppool__mpi_batch_take(&s->pend[r], &len);
    if (isend(s, r, buf, (int)len, MPI_BYTE, PPOOL__TAG_BATCH))
        lose(s, r, "could not be sent a batch of frames and was given up");
}

static void send_all_pending(mpi_st *s)
{
    for (int r = 1; s->pend && r < s->size; r++) send_pending(s, r);
}

static void handle_ctl(mpi_st *s, int r, int word)
{
    if (word == PPOOL__CTL_BYE) s->bye[r] = 1;
    if (word == PPOOL__CTL_BEAT) s->beats[r] = 1;
    if (word == PPOOL__CTL_BROKEN) lose(s, r, "could not read a frame and was given up");
}

/* Takes one message if any: 1 with a frame event, 2 after a control word
 * or a dropped frame, 0 if none was waiting; < 0 on an MPI failure. */
static int poll_once(mpi_st *s, ppool__event *ev)
{
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    if (MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, s->comm, &flag, &msg, &st) != MPI_SUCCESS)
        return PPOOL_ETRANSPORT;
    if (!flag) return 0;
    int r = st.MPI_SOURCE;
    s->active = s->heard[r] = ppool__mpi_now();
    if (st.MPI_TAG == PPOOL__TAG_CTL) {
        int word = 0;
        MPI_Mrecv(&word, 1, MPI_INT, &msg, MPI_STATUS_IGNORE);
        handle_ctl(s, r, word);
        return 2;
    }
    void *frame = NULL;
    size_t len = 0;
    int rc = ppool__mpi_take(&msg, &st, s->max_frame, &frame, &len);
    if (rc == PPOOL_EPROTO || s->gone[r] || r > s->n) {
        if (rc == PPOOL_EPROTO) lose(s, r, "sent a frame over the size limit and was given up");
        free(frame);
        return 2;
    }
    if (rc) return rc;
    *ev = (ppool__event){.kind = PPOOL__EV_FRAME, .worker = r - 1, .frame = frame, .len = len};
    return 1;
}

/* Heartbeats both ways: the master says it is alive, and a worker rank that
 * beats but has been silent too long is lost (mpirun --enable-recovery).
 * Called only when no message is waiting, so silence is real; after the
 * master itself was away (a long callback), every rank gets a fresh start. */
static void check_beats(mpi_st *s, double now)
{
    if (now - s->polled > 2 * PPOOL__MPI_BEAT)
        for (int r = 1; r < s->size; r++) s->heard[r] = now;
    s->polled = now;
    if (now - s->beat_at < PPOOL__MPI_BEAT) return;
    s->beat_at = now;
    ppool__mpi_check_launcher();
    double lost = ppool__mpi_lost_after();
    for (int r = 1; r < s->size; r++) {
        if (s->gone[r] || s->bye[r]) continue;
        int *w = s->no_beats ? NULL : malloc(sizeof *w);
        if (w) {
            *w = PPOOL__CTL_BEAT;
            isend(s, r, w, 1, MPI_INT, PPOOL__TAG_CTL);
        }
        if (s->beats[r] && now - s->heard[r] > lost) {
            char how[80];
            snprintf(how, sizeof how, "was lost (silent for %.0f s)", now - s->heard[r]);
            lose(s, r, how);
        }
    }
}

/* 1 once after wake(); the eventfd is drained only then. */
static int drain_wake(mpi_st *s)
{
    if (!__atomic_exchange_n(&s->woken, 0, __ATOMIC_ACQ_REL)) return 0;
    uint64_t v;
    while (read(s->evfd, &v, sizeof v) > 0) {
    }
    return 1;
}

static int mpi_recv(void *st, ppool__event *ev, double timeout)
{
    mpi_st *s = st;
    memset(ev, 0, sizeof *ev);
    send_all_pending(s); /* what the dispatch pass queued goes before any wait */
    double t0 = ppool__mpi_now(), deadline = timeout < 0 ? -1 : t0 + timeout;
    for (;;) {
        if (ppool__evq_pop(&s->events, ev)) return 0;
        ppool__mpi_reap(&s->out);
        int rc = poll_once(s, ev);
        if (rc < 0 || rc == 1) return rc < 0 ? rc : 0;
        if (rc == 2) continue; /* drain what is waiting before judging silence */
        if (self_run(s, ev)) return 0;
        double now = ppool__mpi_now();
        check_beats(s, now);
        if (s->events.head) continue;
        if (drain_wake(s) || (deadline >= 0 && now >= deadline)) return 0;
        ppool__mpi_backoff(now - s->active, deadline < 0 ? -1 : deadline - now, s->evfd);
    }
}

static int mpi_send(void *st, int worker, void *frame, size_t len)
{
    mpi_st *s = st;
    int r = worker + 1;
    if (is_self(s, worker)) return self_send(s, frame, len);
    if (worker < 0 || worker >= s->n || s->gone[r]) {
        free(frame);
        return worker < 0 || worker >= s->n ? PPOOL_EINVAL : PPOOL_EWORKER;
    }
    s->active = ppool__mpi_now();
    if (len <= PPOOL__MPI_BATCH_ITEM && ppool__mpi_batch_add(&s->pend[r], frame, len) == 0) {
        free(frame);
        if (s->pend[r].len >= PPOOL__MPI_BATCH_BYTES) send_pending(s, r);
        return s->gone[r] ? PPOOL_EWORKER : 0;
    }
    send_pending(s, r); /* in order: what was queued goes first */
    return isend(s, r, frame, (int)len, MPI_BYTE, PPOOL__TAG_FRAME);
}

/* The head goes as [u64 LE bulk length][head] (PPOOL__TAG_HEAD), the bulk
 * from where it lies (PPOOL__TAG_BULK): the worker rank joins them. */
static int mpi_send_bulk(void *st, int worker, void *head, size_t head_len, const void *bulk,
                         size_t bulk_len)
{
    mpi_st *s = st;
    int r = worker + 1;
    if (is_self(s, worker)) { /* joined into one frame: nothing stays borrowed */
        char *f = malloc(head_len + bulk_len);
        if (f) {
            memcpy(f, head, head_len);
            memcpy(f + head_len, bulk, bulk_len);
        }
        free(head);
        return f ? self_send(s, f, head_len + bulk_len) : PPOOL_ENOMEM;
    }
    if (worker < 0 || worker >= s->n || s->gone[r]) {
        free(head);
        return worker < 0 || worker >= s->n ? PPOOL_EINVAL : PPOOL_EWORKER; /* its death came */
    }
    send_pending(s, r); /* in order: what was queued goes first */
    unsigned char *h = malloc(8 + head_len);
    if (!h) {
        free(head);
        return PPOOL_ENOMEM; /* the core fails the chunk's items */
    }
    for (int i = 0; i < 8; i++) h[i] = (unsigned char)((uint64_t)bulk_len >> (8 * i));
    memcpy(h + 8, head, head_len);
    free(head);
    s->active = ppool__mpi_now();
    int rc = isend(s, r, h, (int)(8 + head_len), MPI_BYTE, PPOOL__TAG_HEAD);
    if (rc == 0) rc = ppool__mpi_lend(&s->out, s->comm, r, bulk, (int)bulk_len, PPOOL__TAG_BULK);
    if (rc) lose(s, r, "could not be sent a frame and was given up"); /* its death requeues */
    return rc ? PPOOL_EWORKER : 0;
}

/* Waits until no send to `worker` (all: < 0) borrows memory. A live rank
 * takes its frames when its current task ends; one that has not within
 * PPOOL_LOST_AFTER (PPOOL__MPI_TAKE_SECONDS once given up) is given up and
 * its sends let go of: released, it leaves without matching them. */
static void mpi_flush(void *st, int worker)
{
    mpi_st *s = st;
    send_all_pending(s);
    int want = worker < 0 ? -1 : worker + 1, r;
    double t0 = ppool__mpi_now(), live = t0 + ppool__mpi_lost_after();
    double gone = t0 + PPOOL__MPI_TAKE_SECONDS;
    while ((r = ppool__mpi_lent_to(&s->out, want)) != 0) {
        ppool__mpi_reap(&s->out);
        ppool__event ev; /* take what ranks send meanwhile (a large result may block them) */
        int got = poll_once(s, &ev);
        if (got == 1 && ppool__evq_push(&s->events, &ev)) free(ev.frame);
        if (got == 0) check_beats(s, ppool__mpi_now());
        if ((r = ppool__mpi_lent_to(&s->out, want)) == 0) break;
        double now = ppool__mpi_now();
        if (s->bye[r]) { /* it left without them: they are never read */
            ppool__mpi_let_go(&s->out, r);
            continue;
        }
        if (now > (s->gone[r] ? gone : live)) {
            lose(s, r, "did not take the frames it was sent and was given up");
            ppool__mpi_let_go(&s->out, r);
            continue;
        }
        ppool__mpi_backoff(now - s->active, -1, -1);
    }
}

static void mpi_wake(void *st)
{
    mpi_st *s = st;
    uint64_t one = 1;
    __atomic_store_n(&s->woken, 1, __ATOMIC_RELEASE);
    if (s->evfd >= 0) (void)!write(s->evfd, &one, sizeof one);
}

/* A rank cannot be killed: it is given up, and close() does not wait for it. */
static int mpi_kill(void *st, int worker)
{
    mpi_st *s = st;
    for (int r = 1; r <= s->n && r < s->size; r++)
        if (worker < 0 || r == worker + 1) lose(s, r, "was given up by the master");
    if (s->self && (worker < 0 || is_self(s, worker))) self_lose(s, "was given up by the master");
    return 0;
}

/* Every rank that is still there says goodbye; 1 when they all did. */
static int all_said_bye(mpi_st *s)
{
    for (int r = 1; r < s->size; r++)
        if (!s->gone[r] && !s->bye[r]) return 0;
    return 1;
}

/* Releases every rank and waits (bounded) for the goodbyes, so no message
 * of this pool is left when its communicator is freed. Ranks given up are
 * not waited for: then the communicator is kept (never reused) instead. */
static void mpi_flush(void *st, int worker);

static void master_close(mpi_st *s)
{
    send_all_pending(s); /* Shutdown frames among them */
    for (int r = 1; r < s->size; r++) {
        int *w = malloc(sizeof *w);
        if (!w) continue; /* that rank is then not waited for: it never says goodbye */
        *w = PPOOL__CTL_RELEASE;
        isend(s, r, w, 1, MPI_INT, PPOOL__TAG_CTL);
    }
    double until = ppool__mpi_now() + PPOOL__MPI_CLOSE_SECONDS;
    ppool__event ev;
    while (!all_said_bye(s) && ppool__mpi_now() < until) {
        if (poll_once(s, &ev) == 1) free(ev.frame);
        ppool__mpi_reap(&s->out);
        ppool__mpi_backoff(ppool__mpi_now() - s->active, -1, -1);
    }
    mpi_flush(s, -1); /* ranks given up while busy: until they take what they were lent */
    int clean = 1;
    for (int r = 1; r < s->size; r++) clean &= s->bye[r];
    ppool__mpi_settle(&s->out);
    if (clean) MPI_Comm_free(&s->comm);
    s->comm = MPI_COMM_NULL;
}

static void mpi_close(void *st)
{
    mpi_st *s = st;
    if (s->comm != MPI_COMM_NULL && s->rank == 0) master_close(s);
    if (s->comm != MPI_COMM_NULL) MPI_Comm_free(&s->comm);
    s->comm = MPI_COMM_NULL;
    ppool__evq_clear(&s->events);
    ppool__evq_clear(&s->selfq);
    if (s->evfd >= 0) close(s->evfd);
    s->evfd = -1;
    free(s->gone);
    free(s->bye);
    free(s->beats);
    free(s->heard);
    for (int r = 0; s->pend && r < s->size; r++) ppool__mpi_batch_clear(&s->pend[r]);
    free(s->pend);
    s->gone = s->bye = s->beats = NULL;
    s->heard = NULL;
    s->pend = NULL;
}

/* The master's state for ranks 1..size-1. */
static int master_open(mpi_st *s, char *err, size_t errlen)
{
    size_t k = (size_t)s->size;
    s->gone = calloc(k, 1);
    s->bye = calloc(k, 1);
    s->beats = calloc(k, 1);
    s->heard = calloc(k, sizeof *s->heard);
    s->pend = calloc(k, sizeof *s->pend);
    s->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!s->gone || !s->bye || !s->beats || !s->heard || !s->pend || s->evfd < 0) {
        snprintf(err, errlen, "out of memory (or eventfd: %s) for %d ranks", strerror(errno),
                 s->size);
        return PPOOL_ENOMEM;
    }
    s->active = s->beat_at = s->polled = ppool__mpi_now();
    for (int r = 0; r < s->size; r++) s->heard[r] = s->active;
    return 0;
}

/* MPI_Comm_dup without burning a core while other ranks are late (still
 * busy in an earlier pool, or computing between pools): MPI_Comm_idup,
 * polled with naps. Worker ranks wait as long as it takes; the master (rank
 * 0 of base) gives up after PPOOL__MPI_JOIN_SECONDS. */
static int dup_comm(MPI_Comm base, MPI_Comm *out, char *err, size_t errlen)
{
    int rank = 0, done = 0;
    MPI_Comm_rank(base, &rank);
#ifdef PPOOL_SMPI /* SMPI has no MPI_Comm_idup; a blocking dup costs a simulated rank no core */
    if (MPI_Comm_dup(base, out) == MPI_SUCCESS) return 0;
    snprintf(err, errlen, "MPI_Comm_dup of the pool's communicator failed");
    return PPOOL_ETRANSPORT;
#endif
    MPI_Request q;
    if (MPI_Comm_idup(base, out, &q) != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI_Comm_idup of the pool's communicator failed");
        return PPOOL_ETRANSPORT;
    }
    double t0 = ppool__mpi_now();
    while (MPI_Test(&q, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done) {
        double waited = ppool__mpi_now() - t0;
        if (rank == 0 && waited > PPOOL__MPI_JOIN_SECONDS) {
            *out = MPI_COMM_NULL; /* the request stays pending: MPI cannot take it back */
            snprintf(err, errlen,
                     "not every rank reached ppool_open within %.0f s (one still busy in an "
                     "earlier pool, lost, or not calling ppool_open here)",
                     waited);
            return PPOOL_ETIMEDOUT;
        }
        ppool__mpi_backoff(waited, -1, -1);
    }
    return done ? 0 : PPOOL_ETRANSPORT;
}

/* Duplicates the communicator and checks its size against the workers asked. */
static int join_comm(mpi_st *s, ppool__topen *o, char *err, size_t errlen)
{
    MPI_Comm base = o->where ? *(const MPI_Comm *)o->where : MPI_COMM_WORLD;
    int rc = dup_comm(base, &s->comm, err, errlen);
    if (rc) return rc;
    MPI_Comm_set_name(s->comm, "ppool");
    MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(s->comm, &s->rank);
    MPI_Comm_size(s->comm, &s->size);
    if (s->size < 2) {
        snprintf(err, errlen,
                 "the MPI communicator has %d rank: a pool needs a master and at least one "
                 "worker rank (mpirun -n 2 or more)",
                 s->size);
        return PPOOL_ETRANSPORT;
    }
    if (o->workers > s->size - 1) {
        snprintf(err, errlen, "workers = %d, but the communicator has only %d worker ranks",
                 o->workers, s->size - 1);
        return PPOOL_EINVAL;
    }
    s->n = o->workers ? o->workers : s->size - 1;
    o->workers = s->n;
    return 0;
}

/* Serves the master (rank 0 of comm) with ops until it lets go: PPOOL_WORKER,
 * or < 0 when the master was lost. */
static int serve_rank(mpi_st *s, const ppool__topen *o, MPI_Comm comm, const ppool__worker_ops *ops,
                      char *err, size_t errlen)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    ppool__mpi_worker wk = {
        .comm = comm, .rank = rank, .serves = rank <= s->n, .wops = ops, .max_frame = o->max_frame};
    int rc = ppool__mpi_serve(&wk, err, errlen);
    if (s->comm != MPI_COMM_NULL) MPI_Comm_free(&s->comm);
    s->comm = MPI_COMM_NULL;
    return rc ? rc : PPOOL_WORKER;
}

/* A rank below rank 0 in a hierarchy: a sub-master serves rank 0 with the
 * relay's ops, feeding its group below; a worker of a group serves the pool
 * its sub-master opens on the group. PPOOL_WORKER once let go, or < 0. */
static int serve_below(mpi_st *s, ppool__topen *o, ppool__mpi_tree *t, char *err, size_t errlen)
{
    int rc;
    if (t->role == PPOOL__TREE_SUB) {
        o->relay->below(o->relay->ctx, &t->group);
        s->n = 1; /* on t->up, this rank serves */
        rc = serve_rank(s, o, t->up, o->relay, err, errlen);
        o->relay->below(o->relay->ctx, NULL); /* the pool below ends, if still open */
    } else {
        MPI_Comm_free(&s->comm);
        rc = dup_comm(t->group, &s->comm, err, errlen); /* the sub-master's pool on the group */
        if (rc == 0) {
            MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
            s->n = INT32_MAX;
            rc = serve_rank(s, o, s->comm, o->wops, err, errlen);
        }
    }
    if (s->comm != MPI_COMM_NULL) MPI_Comm_free(&s->comm);
    s->comm = MPI_COMM_NULL;
    ppool__mpi_tree_free(t);
    return rc;
}

static int mpi_open(void *st, ppool__topen *o, char *err, size_t errlen)
{
    mpi_st *s = st;
    s->comm = MPI_COMM_NULL;
    s->evfd = -1;
    s->max_frame = o->max_frame;
    if (!o->where && !mpi_detect()) {
        snprintf(err, errlen,
                 "transport 'mpi' needs an MPI launcher: run the program under mpirun or srun "
                 "with 2 or more processes");
        return PPOOL_ETRANSPORT;
    }
    int rc = ensure_mpi(&o->inline_progress, err, errlen);
    if (rc == 0 && o->use_clock) o->use_clock(ppool__mpi_clock); /* every rank's, workers' too */
    if (rc == 0) rc = join_comm(s, o, err, errlen);
    if (rc) return rc;
    ppool__mpi_tree t = {.role = PPOOL__TREE_FLAT};
    if (o->relay && !o->sub && s->n == s->size - 1) /* a hierarchy is for the whole communicator */
        rc = ppool__mpi_tree_build(s->comm, &t, err, errlen);
    if (rc) return rc;
    if (t.role == PPOOL__TREE_SUB || t.role == PPOOL__TREE_LEAF)
        return serve_below(s, o, &t, err, errlen);
    if (t.role == PPOOL__TREE_TOP) { /* the master of the sub-masters */
        MPI_Comm_free(&s->comm);
        s->comm = t.up;
        MPI_Comm_size(s->comm, &s->size);
        o->workers = s->n = s->size - 1;
    }
    if (s->rank > 0) return serve_rank(s, o, s->comm, o->wops, err, errlen);
    /* Inline, the master is heard only while the program calls ppool: it
     * sends no heartbeats, so its ranks never take a long computation of
     * the program between two maps for the master's death. A sub-master's
     * pool is driven all the time: it does. */
    s->no_beats = o->inline_progress && !o->sub;
    /* A sub-master of a small group runs tasks too, in its own slot: its
     * core is a large share of the group, and relaying for a few ranks
     * leaves it time. Above, relaying is its whole job (simulated at 1,024
     * ranks in groups of 32, working made the map 10% slower: docs/scale.md). */
    if (o->sub && s->size <= PPOOL__MPI_SELF_MAX) {
        s->self = 1;
        s->wops = o->wops;
        o->workers = ++s->n;
        o->here = s->n; /* 1 + its slot, the last */
    }
    return master_open(s, err, errlen);
}

const ppool__transport ppool__mpi_transport = {
    .name = "mpi",
    .caps = 0, /* ranks are neither forked, killed, replaced nor pinned by ppool */
    .state_size = sizeof(mpi_st),
    .detect = mpi_detect,
    .open = mpi_open,
    .close = mpi_close,
    .send = mpi_send,
    .send_bulk = mpi_send_bulk,
    .flush = mpi_flush,
    .recv = mpi_recv,
    .wake = mpi_wake,
    .respawn = NULL,
    .kill = mpi_kill,
    .culprit = NULL,
};
