/* serve.c: the MPI transport's worker side: a rank's serve loop, its results and heartbeats. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi_impl.h"
#include "ppool.h"

/* A thread that tells the master this rank is alive while a task runs
 * (only with MPI_THREAD_MULTIPLE). */
typedef struct beat {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, stop;
    MPI_Comm comm;
} beat;

/* Says "alive" at once (so the master knows this rank beats), then every PPOOL__MPI_BEAT s. */
static void *beat_main(void *arg)
{
    beat *b = arg;
    pthread_mutex_lock(&b->mu);
    while (!b->stop) {
        ppool__mpi_check_launcher(); /* a long task must not outlive its job */
        static const int word = PPOOL__CTL_BEAT;
        MPI_Request q; /* never waited for: a dead master must not block this thread */
        if (MPI_Isend(&word, 1, MPI_INT, 0, PPOOL__TAG_CTL, b->comm, &q) == MPI_SUCCESS)
            MPI_Request_free(&q);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)(PPOOL__MPI_BEAT * 1e9);
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static void beat_start(beat *b, MPI_Comm comm)
{
    int level = 0;
    MPI_Query_thread(&level);
    b->comm = comm;
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* a clock step must not stop the beats */
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    b->running = level >= MPI_THREAD_MULTIPLE && pthread_create(&b->th, NULL, beat_main, b) == 0;
}

static void beat_stop(beat *b)
{
    if (b->running) {
        pthread_mutex_lock(&b->mu);
        b->stop = 1;
        pthread_cond_signal(&b->cv);
        pthread_mutex_unlock(&b->mu);
        pthread_join(b->th, NULL);
    }
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
}

/* Notes a control word from the master; returns it. */
static int heard_ctl(ppool__mpi_worker *w, int word)
{
    w->heard = ppool__mpi_now();
    w->master_beats |= word == PPOOL__CTL_BEAT;
    return word;
}

/* A control word from the master, if one is waiting: its value, or 0. */
static int take_ctl(ppool__mpi_worker *w)
{
    int flag = 0, word = 0;
    MPI_Message msg;
    MPI_Status st;
    MPI_Improbe(0, PPOOL__TAG_CTL, w->comm, &flag, &msg, &st);
    if (!flag) return 0;
    MPI_Mrecv(&word, 1, MPI_INT, &msg, MPI_STATUS_IGNORE);
    return heard_ctl(w, word);
}

/* Sends a result frame (taking it) and goes on: the rank runs its next chunk
 * (a sub-master drives its group) while a large result waits for a busy
 * master to take it. A send that fails makes this rank broken: the master
 * gives it up and re-runs its chunks elsewhere. */
static void send_result(ppool__mpi_worker *w, void *out, size_t len, int *broken)
{
    ppool__mpi_reap(&w->out);
    if (ppool__mpi_isend(&w->out, w->comm, 0, out, (int)len, MPI_BYTE, PPOOL__TAG_FRAME) &&
        !*broken) {
        *broken = 1;
        ppool__mpi_ctl(w->comm, 0, PPOOL__CTL_BROKEN);
    }
}

/* Runs one frame; 1 when this rank was released meanwhile. *broken is set
 * (and the master told) when the frame could not be read. */
static int run_frame(ppool__mpi_worker *w, void *frame, size_t len, int *broken)
{
    void *out = NULL;
    size_t out_len = 0;
    int r = *broken ? 0 : w->wops->run(w->wops->ctx, frame, len, &out, &out_len);
    free(frame);
    if (r < 0) {
        free(out);
        *broken = 1;
        ppool__mpi_ctl(w->comm, 0, PPOOL__CTL_BROKEN);
        return 0;
    }
    if (out) send_result(w, out, out_len, broken);
    /* Released meanwhile (terminate)? Then the chunks still queued are not
     * run: every control word waiting is read (heartbeats come first). */
    for (int word; (word = take_ctl(w)) != 0;)
        if (word == PPOOL__CTL_RELEASE) return 1;
    return 0;
}

/* Joins a head (PPOOL__TAG_HEAD, matched) and the bulk that follows it into
 * one frame; PPOOL_EPROTO when malformed or over the limit. */
static int take_split(ppool__mpi_worker *w, MPI_Message *msg, MPI_Status *st, void **frame,
                      size_t *len)
{
    void *h;
    size_t hl;
    int rc = ppool__mpi_take(msg, st, w->max_frame, &h, &hl);
    if (rc) return rc;
    uint64_t bulk = 0;
    for (int i = 0; hl >= 8 && i < 8; i++) bulk |= (uint64_t)((unsigned char *)h)[i] << (8 * i);
    char *f = hl >= 8 && bulk <= w->max_frame - (hl - 8) ? malloc(hl - 8 + bulk) : NULL;
    if (f) memcpy(f, (char *)h + 8, hl - 8);
    free(h);
    if (!f) return PPOOL_EPROTO; /* the bulk is then never received: this rank is broken */
    if (MPI_Recv(f + hl - 8, (int)bulk, MPI_BYTE, 0, PPOOL__TAG_BULK, w->comm, MPI_STATUS_IGNORE) !=
        MPI_SUCCESS) {
        free(f);
        return PPOOL_ETRANSPORT;
    }
    *frame = f;
    *len = hl - 8 + bulk;
    return 0;
}

/* A batch's frames run one by one, each result sent when it is ready (held
 * back, a short task's result could wait behind a long one). */
typedef struct batch_run {
    ppool__mpi_worker *w;
    int *broken;
    int released;
} batch_run;

static int run_batched(void *user, void *frame, size_t len)
{
    batch_run *b = user;
    b->released = run_frame(b->w, frame, len, b->broken);
    return b->released;
}

/* Runs a received batch (taking it); 1 when released meanwhile. A malformed
 * one makes this rank broken (the frames before it ran). */
static int run_batch(ppool__mpi_worker *w, void *msg, size_t len, int *broken)
{
    batch_run b = {.w = w, .broken = broken};
    int rc = ppool__mpi_batch_split(msg, len, run_batched, &b);
    free(msg);
    if (b.released) return 1;
    if (rc < 0 && !*broken) {
        *broken = 1;
        ppool__mpi_ctl(w->comm, 0, PPOOL__CTL_BROKEN);
    }
    return 0;
}

/* A sub-master, idle on its master's side for `idle` seconds: drives its
 * group below for as long as a worker's nap would be, and sends
 * up a Result it finished. 1 when one went, 0 otherwise. A group that failed makes this rank
 * broken: the master gives it up and re-runs its chunks elsewhere. */
static int relay_poll(ppool__mpi_worker *w, double idle, int *broken)
{
    void *out = NULL;
    size_t len = 0;
    double nap = ppool__mpi_nap(idle, -1);
    int r = *broken ? 2 : w->wops->poll(w->wops->ctx, nap, &out, &len);
    if (r < 0 && !*broken) {
        *broken = 1;
        ppool__mpi_ctl(w->comm, 0, PPOOL__CTL_BROKEN);
    }
    if (r == 2 || (r == 0 && nap <= 0)) ppool__mpi_backoff(idle, -1, -1); /* spins politely */
    if (r != 1 || !out) return 0;
    send_result(w, out, len, broken);
    return 1;
}

int ppool__mpi_serve(ppool__mpi_worker *w, char *err, size_t errlen)
{
    beat b = {0};
    if (w->serves) beat_start(&b, w->comm);
    /* The master is judged more leniently than ranks: its dispatcher may sit
     * in a user's callback for a while. */
    double active = ppool__mpi_now(), lost = PPOOL__MPI_MASTER_LENIENCY * ppool__mpi_lost_after();
    int broken = 0, released = 0, rc = 0;
    w->heard = active;
    while (!released) {
        int flag = 0;
        MPI_Message msg;
        MPI_Status st;
        if (MPI_Improbe(0, MPI_ANY_TAG, w->comm, &flag, &msg, &st) != MPI_SUCCESS) {
            snprintf(err, errlen, "rank %d: MPI_Improbe failed", w->rank);
            rc = PPOOL_ETRANSPORT;
            break;
        }
        double now = ppool__mpi_now();
        if (!flag) {
            if (w->master_beats && now - w->heard > lost) {
                snprintf(err, errlen, "rank %d: the master (rank 0) was lost (silent for %.0f s)",
                         w->rank, now - w->heard);
                rc = PPOOL_ETRANSPORT;
                break;
            }
            if (!w->wops->poll) {
                ppool__mpi_backoff(now - active, -1, -1);
                continue;
            }
            if (relay_poll(w, now - active, &broken)) active = ppool__mpi_now();
            continue;
        }
        w->heard = now;
        if (st.MPI_TAG == PPOOL__TAG_CTL) {
            int word = 0;
            MPI_Mrecv(&word, 1, MPI_INT, &msg, MPI_STATUS_IGNORE);
            released = heard_ctl(w, word) == PPOOL__CTL_RELEASE;
            continue;
        }
        void *frame = NULL;
        size_t len = 0;
        int t = st.MPI_TAG == PPOOL__TAG_HEAD
                    ? take_split(w, &msg, &st, &frame, &len)
                    : ppool__mpi_take(&msg, &st, w->max_frame, &frame, &len);
        if (t == 0)
            released = st.MPI_TAG == PPOOL__TAG_BATCH ? run_batch(w, frame, len, &broken)
                                                      : run_frame(w, frame, len, &broken);
        if (t < 0 && !broken) { /* unreadable, or no memory: this rank takes no more */
            broken = 1;
            ppool__mpi_ctl(w->comm, 0, PPOOL__CTL_BROKEN);
        }
        active = ppool__mpi_now();
    }
    if (w->serves) beat_stop(&b);
    ppool__mpi_settle(&w->out); /* released or lost: no result in flight is awaited */
    if (rc == 0) ppool__mpi_ctl(w->comm, 0, PPOOL__CTL_BYE);
    return rc;
}
