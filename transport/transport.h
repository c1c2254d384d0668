/* transport.h: the ops table through which the core drives a transport (internal). */
#ifndef PPOOL_TRANSPORT_H
#define PPOOL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

/* Capabilities (ppool__transport.caps). */
#define PPOOL__CAN_RESPAWN 0x1u /* a dead or retired worker can be replaced */
#define PPOOL__CAN_KILL    0x2u /* a busy worker can be stopped at once */
#define PPOOL__CAN_PIN     0x4u /* workers run here: the core plans and applies their binding */
#define PPOOL__INHERITS                                                                            \
    0x8u /* workers inherit the master's memory at open (fork), so they                            \
          * need no Init frame; others get one first and answer Hello */
#define PPOOL__BULK_COPIES                                                                         \
    0x10u /* send_bulk copies the bulk before it returns (to where the worker                      \
           * reads it): nothing is borrowed, flush() is not needed */

/* What recv() reports. */
enum ppool__ev_kind {
    PPOOL__EV_NONE = 0, /* timeout or wake(): nothing happened */
    PPOOL__EV_FRAME,    /* a frame from `worker` */
    PPOOL__EV_DEAD,     /* `worker` is gone; every frame it sent was reported before */
};

typedef struct ppool__event {
    int kind;      /* enum ppool__ev_kind */
    int worker;    /* slot 0..workers-1 */
    void *frame;   /* EV_FRAME: malloc'd, now owned by the caller (free()) */
    size_t len;    /* EV_FRAME: bytes at frame */
    int pid;       /* EV_DEAD: the process that died */
    char why[160]; /* EV_DEAD: how, in words ("worker 2 (pid 7) died with signal 9 (Killed)") */
} ppool__event;

/* The worker side, provided by the core and run by the transport in each
 * worker process. Both callbacks return a malloc'd frame through *out
 * (ownership passes to the transport), or NULL for no reply. */
typedef struct ppool__worker_ops {
    void *ctx;
    /* Runs once when worker `worker` starts (binding, initializer) in
     * transports with PPOOL__INHERITS; returns the Hello frame. `current`
     * is two words the master can read after the worker died (the item
     * running: job id, index + 1), or NULL. Other transports never call it:
     * their first frame is an Init, which run() answers with the Hello. */
    int (*start)(void *ctx, int worker, volatile uint64_t *current, void **out, size_t *out_len);
    /* Handles one frame from the master. Returns 0 to go on, 1 to stop
     * serving (Shutdown), < 0 on a bad frame (the worker then exits). */
    int (*run)(void *ctx, const void *frame, size_t len, void **out, size_t *out_len);
    /* Where a worker started without start() (re-executed: its first frame
     * is an Init) keeps its `current` words; NULL is fine. */
    void (*attach)(void *ctx, volatile uint64_t *current);
    /* A sub-master's ops only (NULL in a worker's): `below` names the group
     * it feeds (MPI: an MPI_Comm *), before the first frame; run() then
     * takes Tasks without answering them, and poll() drives the group for at
     * most `timeout` seconds: 1 with a Result for the master through *out
     * (taken), 0 with none, 2 when nothing runs below (the transport naps),
     * < 0 when the group failed. */
    void (*below)(void *ctx, const void *where);
    int (*poll)(void *ctx, double timeout, void **out, size_t *out_len);
} ppool__worker_ops;

/* What open() is given. */
typedef struct ppool__topen {
    int workers;                   /* in: how many (0: all the transport has); out: how many */
    const void *where;             /* transport-specific place (MPI: an MPI_Comm *), or NULL */
    const ppool__worker_ops *wops; /* the worker side */
    size_t max_frame;              /* frames larger than this are PPOOL_EPROTO */
    int inline_progress; /* in: asked for; out: 1 when the transport may be called only from the
                            threads that call ppool (MPI below MPI_THREAD_MULTIPLE) */
    /* in, may be NULL: a transport with a clock of its own (MPI_Wtime, simulated time under a
     * simulator) hands it to the core through this, once it can be read (fn < 0: not now) */
    void (*use_clock)(double (*fn)(void));
    /* in, may be NULL: the ops of a sub-master, for a transport that builds a
     * hierarchy of masters (MPI: PPOOL_HIERARCHY) */
    const ppool__worker_ops *relay;
    /* in: this is a sub-master's own pool on its group: never a hierarchy,
     * and driven all the time (inline too), so its workers may hear from it */
    int sub;
    /* out: 1 + the slot this very process serves between its polls (a
     * sub-master's own share: it relays only between its chunks, so they
     * should be short), or 0 */
    int here;
} ppool__topen;

/* A transport. The core calls it only through this table, and only from
 * one thread at a time (the opener, then the dispatcher thread, or with
 * inline progress the caller driving the loop), except wake(). */
typedef struct ppool__transport {
    const char *name;  /* "local", "mpi" */
    unsigned caps;     /* PPOOL__CAN_* */
    size_t state_size; /* bytes of state the core allocates, zeroed */
    /* 1 when this process was started to use this transport (an MPI
     * launcher's environment, MPI already initialised); for "auto". */
    int (*detect)(void);
    /* Starts o->workers workers. Returns 0 on the master, PPOOL_WORKER where
     * this process served as a worker until the master shut the pool down
     * (MPI ranks > 0), or < 0 with *err filled. MUST leave the state such
     * that close() can be called on it. */
    int (*open)(void *st, ppool__topen *o, char *err, size_t errlen);
    /* Stops every worker and releases everything; blocks until no worker
     * process is left. Safe after a failed open. */
    void (*close)(void *st);
    /* Queues a frame for a worker and takes ownership of the malloc'd
     * `frame` whatever the outcome. Never blocks: bytes the peer cannot take
     * yet are written by later recv() calls. 0, or < 0 if the worker is gone. */
    int (*send)(void *st, int worker, void *frame, size_t len);
    /* Optional (NULL: the core packs frames whole). Like send(), for the
     * frame that is `head` (malloc'd, taken) followed by bulk_len bytes at
     * `bulk`, which the transport reads in place: borrowed until that
     * worker's reply to the frame arrives, it is reported dead, or flush()
     * returns; with PPOOL__BULK_COPIES, copied before it returns. */
    int (*send_bulk)(void *st, int worker, void *head, size_t head_len, const void *bulk,
                     size_t bulk_len);
    /* Blocks until no frame for `worker` (all when < 0) borrows memory; a
     * worker that does not take its frames in time (a few seconds once it
     * was given up, else the heartbeat's loss limit) is given up, reported
     * dead, and will never read them. NULL without send_bulk. */
    void (*flush)(void *st, int worker);
    /* Makes progress (writes queued frames, reads, reaps) and reports one
     * event. Blocks at most `timeout` seconds (< 0: forever) without
     * spinning; returns early with EV_NONE after wake(). 0 or < 0 on a
     * transport failure. */
    int (*recv)(void *st, ppool__event *ev, double timeout);
    /* Makes a blocked recv() return. Thread-safe, async-signal-unsafe. */
    void (*wake)(void *st);
    /* Retires the worker in `worker` (its channel is closed: it exits when
     * it has read what it had) and starts a fresh one in that slot; its
     * Hello arrives as a frame. NULL without PPOOL__CAN_RESPAWN. */
    int (*respawn)(void *st, int worker);
    /* Stops the worker in `worker` now, or all of them when worker < 0:
     * SIGKILL with PPOOL__CAN_KILL (deaths reported by recv()); otherwise
     * gives it up: close() will not wait for it. */
    int (*kill)(void *st, int worker);
    /* The item worker `worker` was running when it died, from its `current`
     * words: 0 with *job and *index1 (index + 1) set, or -1 if unknown.
     * NULL where workers share no memory with the master. */
    int (*culprit)(void *st, int worker, uint64_t *job, uint64_t *index1);
    /* The same transport with the "spawn" start method (workers re-execute
     * the program instead of being forked from it), or NULL if it has none. */
    const struct ppool__transport *spawn;
    /* Optional: when this process was re-executed by the transport to be a
     * worker, serves (Init, then tasks) until the master lets go and returns
     * PPOOL_WORKER (or < 0 if it could not serve); otherwise 0 at once. */
    int (*spawned)(const ppool__worker_ops *wops, size_t max_frame);
} ppool__transport;

/* ---- evq.c: the events a transport made and has not reported yet, oldest first ---- */
typedef struct ppool__evq {
    struct ppool__evq_item *head, *tail;
} ppool__evq;
/* Appends a copy of ev; 0 or PPOOL_ENOMEM. */
int ppool__evq_push(ppool__evq *q, const ppool__event *ev);
/* Takes the oldest into *ev: 1, or 0 when empty. */
int ppool__evq_pop(ppool__evq *q, ppool__event *ev);
/* Empties the queue, freeing the frames of frame events. */
void ppool__evq_clear(ppool__evq *q);

/* ---- transport.c: the table of transports built into this library ---- */
/* The transport called `name` ("auto": the first whose detect() says yes,
 * else local); NULL if none is built by that name. */
const ppool__transport *ppool__transport_find(const char *name);
/* Serves as a worker if some transport re-executed this process to be one:
 * PPOOL_WORKER once done (or < 0), 0 if this process is no such worker. */
int ppool__transport_serve_spawned(const ppool__worker_ops *wops, size_t max_frame);
/* 1 when a launcher started this process as one of several (Open MPI's,
 * PMIx's, PMI's or Slurm's variables say so; an unknown count counts), with
 * "NAME=value" of the variable in var; else 0. */
int ppool__launched(char *var, size_t len);
/* "local, mpi": the names built in. */
const char *ppool__transports_built(void);

#endif /* PPOOL_TRANSPORT_H */
