/* ppool_impl.h: internal structures and functions shared by the core's files. */
#ifndef PPOOL_IMPL_H
#define PPOOL_IMPL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "ppool.h"
#include "transport.h"

#define PPOOL__PROTO_VERSION        2             /* 2: a hierarchy's Started, Steal and Given */
#define PPOOL__NAME_MAX             128           /* longest registered name */
#define PPOOL__MAX_FRAME            (1024u << 20) /* largest frame accepted: 1 GiB */
#define PPOOL__MAX_ITEM             (PPOOL__MAX_FRAME / 2) /* largest item or result */
#define PPOOL__DEFAULT_RETRIES      3 /* re-runs of an item whose worker died, as Dask and Ray */
#define PPOOL__CHUNK_BYTES          (4u << 20) /* a chunk's items stop growing past this */
#define PPOOL__CREDITS              2          /* chunks in flight per worker */
#define PPOOL__CREDITS_FINE         16 /* ... when chunks take only microseconds (chunksize 1) */
#define PPOOL__CREDITS_RELAY        3  /* ... a sub-master's chunks, each its whole group's share */
#define PPOOL__FINE_CHUNK_SECONDS   50e-6       /* a chunk shorter than this is fine-grained */
#define PPOOL__COALESCE_MAX         8           /* fine explicit blocks that may share one frame */
#define PPOOL__EVENT_BURST          32          /* events the dispatcher takes in a row */
#define PPOOL__BORROW_BYTES         (64u << 10) /* bulks this large go unpacked (send_bulk) */
#define PPOOL__TARGET_CHUNK_SECONDS 0.02        /* adaptive chunks aim at this duration */
#define PPOOL__HERE_CHUNK_SECONDS   1e-3        /* ... a sub-master's own: it relays between them */
#define PPOOL__ITER_WINDOW          16384       /* items dispatched ahead of an iterator's reader */
#define PPOOL__ERRMSG               512
#define PPOOL__START_SECONDS        60.0 /* workers that send no Hello by then fail the open */
#define PPOOL__MAX_NAP              1.0  /* the dispatcher wakes at least this often (seconds) */
#define PPOOL__START_GRACE          1.0 /* with task_timeout: a Hello is due by task_timeout + this */
#define PPOOL__PROGRESS_DELAY       1.0 /* the bar appears after maps ran this long (tqdm's delay) */
#define PPOOL__WAIT_SPIN            30e-6 /* a blocking call watches for its result this long first */
/* Task bulk and each variable-sized item in it start at this alignment, so a
 * task may cast its argument to any type. */
#define PPOOL__ALIGN       16
#define PPOOL__ALIGN_UP(x) (((x) + (PPOOL__ALIGN - 1)) & ~(size_t)(PPOOL__ALIGN - 1))

/* ---- error.c ---- */
/* Records a message for `p` (NULL: the process-wide last one) on the calling
 * thread; returns err so callers can `return ppool__fail(p, err, ...)`. */
int ppool__fail(const ppool *p, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same about a pointer that is not (or no longer) a pool: the message is
 * the calling thread's only, nothing is written through p. */
int ppool__fail_unowned(const ppool *p, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Debug log on stderr when PPOOL_DEBUG is set (read at run time). */
void ppool__debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* ---- clock.c ---- */
/* Seconds, from the one clock the scheduler reads (chunk sizing, deadlines,
 * heartbeats, stats): CLOCK_MONOTONIC, or the transport's once it gave one. */
double ppool__now(void);
/* The transport's clock (MPI_Wtime), for the rest of the process: the first
 * one given stays; counted on from the monotonic clock's value, so times
 * already taken stay comparable. fn returns < 0 while it cannot tell (MPI
 * not up, or finalised): the monotonic clock answers then. */
void ppool__clock_from(double (*fn)(void));
/* Copies at most n-1 bytes and terminates. */
void ppool__strlcpy(char *dst, const char *src, size_t n);

/* ---- registry.c ---- */
/* A frozen copy of the registry, taken at ppool_open. */
typedef struct ppool__registry {
    size_t n;
    char **names; /* sorted */
    ppool_fn *fns;
    uint64_t digest;
} ppool__registry;
int ppool__registry_snapshot(ppool__registry *r);
void ppool__registry_release(ppool__registry *r);
/* The function of `name`, or NULL. */
ppool_fn ppool__registry_find(const ppool__registry *r, const char *name);

/* ---- codec.c: frames are [u32 LE header length][packed Frame][pad][bulk]; the
 * bulk starts at PPOOL__ALIGN_UP(4 + header length) ---- */
typedef struct Ppool__Frame Ppool__Frame;
/* Packs `msg` (a Ppool__Frame) plus `bulk` into one malloc'd frame. */
int ppool__frame_pack(const Ppool__Frame *msg, const void *bulk, size_t bulk_len, void **frame,
                      size_t *len);
/* Packs only the head of that frame: its bytes are what a transport sends
 * before the bulk (borrowed) to make the same frame. */
int ppool__frame_pack_head(const Ppool__Frame *msg, size_t bulk_len, void **head, size_t *len);
/* Unpacks a frame; *msg must be released with ppool__frame_release. *bulk
 * points into `frame`. PPOOL_EPROTO (with a message in err) if malformed. */
int ppool__frame_unpack(const void *frame, size_t len, Ppool__Frame **msg, const void **bulk,
                        size_t *bulk_len, char *err, size_t errlen);
void ppool__frame_release(Ppool__Frame *msg);

/* ---- topo.c ---- */
/* Per-worker cpusets (hwloc list strings; "" means unbound) for `bind`. */
int ppool__topo_plan(const char *bind, int workers, char ***sets, char *err, size_t errlen);
void ppool__topo_plan_free(char **sets, int workers);
/* Binds the calling process to a list string; 0 or < 0. */
int ppool__topo_bind(const char *set);
/* The calling process's current binding as a list string (malloc'd). */
char *ppool__topo_current(void);

/* ---- worker.c ---- */
typedef struct ppool__wctx {
    const ppool__registry *reg;
    char **cpusets;      /* per worker, may be NULL */
    const char *init_fn; /* may be NULL */
    const void *initarg;
    size_t initarg_len;
    int worker;
    /* Two words the transport shares with the master, {job id, index + 1}
     * of the item running now (0 between chunks), so the master knows which
     * item a dying worker was running. NULL where none (MPI). */
    volatile uint64_t *current;
} ppool__wctx;
extern const ppool__worker_ops ppool__worker_ops_template;

/* ---- failed.c ---- */
struct ppool__job;
/* Records items first..first+count-1 of a map as failed with `status` and
 * zeroes their output (ppool_map). Under p->mu. */
void ppool__failed_add(struct ppool__job *j, size_t first, size_t count, int status);
/* Keeps j's failures as the calling thread's last blocking map on p. */
void ppool__failed_keep(const struct ppool *p, struct ppool__job *j);
/* How many of j's items failed; lists the first cap (lowest index first). Under p->mu. */
size_t ppool__failed_report(struct ppool__job *j, size_t *index, int *status, size_t cap);

/* ---- journal.c: the master's record of finished items (opts.journal) ---- */
#define PPOOL__JOURNAL_SECONDS 0.2 /* records are written out at least this often */
typedef struct ppool__jkey {
    unsigned char b[16]; /* XXH3-128 of the function name (with its NUL) and the item */
} ppool__jkey;
typedef struct ppool__jentry {
    ppool__jkey key;
    int status;
    char *data; /* the result's bytes */
    size_t len;
    char *err; /* "" when it succeeded */
} ppool__jentry;
typedef struct ppool__journal ppool__journal;
/* Opens (creating) the journal at path and reads what it holds: a torn last
 * record is cut off; a damaged or foreign file is PPOOL_EPROTO naming the
 * path and offset. 0 or < 0 with ppool_errmsg(NULL). */
int ppool__journal_open(const char *path, ppool__journal **out);
/* Writes what is buffered and closes. NULL is fine. */
void ppool__journal_close(ppool__journal *jn);
ppool__jkey ppool__journal_key(const char *fn, const void *item, size_t len);
/* The outcome recorded for key by an earlier run, or NULL (a failed one only
 * with PPOOL_JOURNAL_FAILED=keep: by default failed items run again). */
const ppool__jentry *ppool__journal_find(ppool__journal *jn, const ppool__jkey *k);
/* Buffers a record of an item's outcome. */
void ppool__journal_add(ppool__journal *jn, const ppool__jkey *k, int status, const void *data,
                        size_t len, const char *err);
/* Writes the buffer out when PPOOL__JOURNAL_SECONDS have passed since the
 * last write (or `force`); the seconds until the next is due, -1 if none. */
double ppool__journal_tick(ppool__journal *jn, double now, int force);

/* ---- relay.c: a sub-master (hierarchy) ---- */
/* ppool_opts.flags bit of a sub-master's own pool on its group: inline
 * progress, options from the master above only (no environment), oldest job
 * first, item errors without the index prefix (the master above adds its own). */
#define PPOOL__SUB 0x80000000u
typedef struct ppool__relay ppool__relay;
/* Fills *ops with a sub-master's ops (transport topen.relay). 0 or PPOOL_ENOMEM. */
int ppool__relay_new(ppool__worker_ops *ops);
/* Ends what the ops run (the group's pool) and frees them; a zeroed ops is fine. */
void ppool__relay_free(ppool__worker_ops *ops);

/* ---- sched.c / pool.c / jobs ---- */
enum { JOB_MAP, JOB_BUFS, JOB_APPLY, JOB_ITER, JOB_SOURCE };

typedef struct ppool__chunk {
    struct ppool__job *job;
    size_t first;
    size_t count;
    unsigned tries;    /* deaths of a worker running this single item */
    int weight;        /* credits it holds: explicit blocks sent together in its frame */
    int handed;        /* a sub-master's, handed out below whole (Started): it holds none */
    double started;    /* when its worker began it (it is the oldest in flight), 0 before */
    int expired;       /* failed or re-queued at a deadline: its result is discarded */
    ppool__jkey *keys; /* with a journal: each item's key, to record its outcome */
    struct ppool__chunk *next;
} ppool__chunk;

/* A run of failed items of a map, all with one status. */
typedef struct ppool__frange {
    size_t first, count;
    int status;
} ppool__frange;

/* One slot of an iterator's result window. */
typedef struct ppool__slot {
    int state; /* 0 empty, 1 ready */
    int status;
    ppool_buf buf;
    char *err;
} ppool__slot;

typedef struct ppool__job {
    struct ppool *pool;
    uint64_t id;
    int kind;
    int refs;      /* the handle's and the scheduler's */
    int user_gone; /* the handle was freed: cancel, discard results */
    char fn[PPOOL__NAME_MAX];

    /* input */
    const char *in;
    size_t in_size;
    const ppool_buf *inb;
    void *arg; /* owned copy (apply) */
    size_t arg_len;
    ppool_source src;
    void *src_user;
    size_t src_pulled; /* items taken from the source so far */
    int src_end;       /* the source said 0 or < 0 */
    int src_err;       /* its error, if any */
    size_t src_big;    /* the length of the item over the limit that ended it, 0 if none */
    char **src_items;  /* copies of pulled items not yet sent (retries): by index % window */
    size_t *src_lens;

    /* output */
    char *out;
    size_t out_size;
    ppool_buf *outb;
    ppool_buf result; /* apply */

    /* progress */
    size_t n;        /* items (SIZE_MAX while a source is open) */
    size_t next;     /* next fresh index */
    size_t done;     /* items completed */
    size_t inflight; /* items sent, not completed */
    ppool__chunk *retry;
    size_t chunksize;
    double per_item; /* measured seconds per item, 0 unknown */

    /* outcome */
    int finished;
    int aborted;        /* the pool stopped under it: this error */
    int window_blocked; /* the dispatcher waits for the reader */
    int status;
    size_t err_index;
    char *err;
    ppool__frange *fails; /* every failed item (maps), in the order they failed */
    size_t nfails, capfails, fails_lost;

    /* completion */
    pthread_cond_t cond;
    void (*cb)(struct ppool_async *, void *);
    void *cb_user;
    int cb_state;        /* 0 none, 1 set, 2 queued/run */
    int cb_pending;      /* finished, but its callback has not returned yet */
    pthread_t cb_thread; /* the thread running the callback */

    /* iterators */
    int ordered;
    size_t window;
    ppool__slot *slots; /* window of them, by index % window */
    size_t *fifo;       /* unordered: completed indices */
    size_t fifo_head, fifo_count;
    size_t yielded;
    ppool__slot cur; /* what the last iter_next handed out */

    struct ppool__job *prev, *nextjob;
} ppool__job;

enum { W_DOWN, W_STARTING, W_READY, W_GONE };

typedef struct ppool__wslot {
    int state;
    int pid;
    char host[64];
    char cpuset[64];
    ppool__chunk *head, *tail; /* in flight, oldest first */
    int ninflight;             /* credits held by its chunks in flight (a chunk holds its weight) */
    int fails;                 /* deaths in a row before a Hello */
    int timed_out;             /* killed at its item's deadline; its death fails the item */
    int stuck;                 /* holds expired chunks: no more work until it answers */
    double born;     /* when its process was asked for (W_STARTING): its initializer's deadline */
    int capacity;    /* workers behind it: 1, or a sub-master's group (Hello) */
    size_t assigned; /* items given to this process */
    /* work stealing between sub-masters (steal.c) */
    int asked;    /* a Steal is out to this sub-master */
    int drained;  /* it had nothing to give since its last chunk came */
    int fed;      /* a chunk went to it since the Steal out to it */
    int waits_on; /* it ran dry: 1 + the slot asked for it, 0 when none */
    /* statistics, across the slot's processes */
    size_t items, chunks, deaths, spawns, given; /* given: items it gave back for others */
    double busy;
} ppool__wslot;

enum { POOL_OPEN, POOL_CLOSED, POOL_DOWN };

struct ppool {
    pthread_mutex_t mu;
    pthread_cond_t idle; /* signalled when a job finishes or a worker gets ready */
    pthread_t thread;
    int thread_started;
    int inline_progress; /* no dispatcher thread: callers drive it in their waits (sched.c) */
    int sub;             /* a sub-master's pool on its group (PPOOL__SUB, relay.c) */
    double sub_per_item; /* ... its last chunk's seconds per item: the next chunk's first guess */
    int capacity;        /* workers behind all slots (a sub-master's slot counts its group's) */
    int here;            /* the slot this process serves itself between polls (topen.here), or -1 */
    int driving;         /* inline: a caller is running a pass of the loop */
    /* inline: ppool__drive, which ppool__cond_wait calls instead of waiting */
    int (*drive)(struct ppool *p, double deadline);
    int refs; /* the pool's own, and one per live handle (under mu) */
    int state;
    int stopping;     /* the dispatcher should exit */
    int closing;      /* a thread is shutting the transport down (others wait for POOL_DOWN) */
    int owner;        /* the pid that opened it: other processes (forked children) may not use it */
    char broken[200]; /* why the transport failed ("" while it works): new work is refused */

    const ppool__transport *T;
    void *tst;
    int nworkers;
    ppool__wslot *w;
    int nready;

    ppool_opts o;
    char transport_name[16];
    char *initializer;
    void *initarg;
    ppool__registry reg;
    ppool__wctx wctx;
    ppool__worker_ops wops;
    char **cpusets; /* the binding planned for each of nplanned workers (CAN_PIN), or NULL */
    int nplanned;

    ppool__job *jobs, *jobs_tail;
    ppool__job *rr;
    uint64_t next_id;
    ppool__job **callbacks; /* to run outside the lock */
    size_t ncallbacks, capcallbacks;

    double chunk_busy;                /* measured seconds per chunk (moving average), 0 unknown */
    int borrowed;                     /* some frame was sent with borrowed bulk (send_bulk) */
    unsigned flush_asked, flush_done; /* a caller waits for the dispatcher's flush() */
    double progress_at;
    int progress_drawn;
    int progress_shown;    /* the bar is drawn (asked for, and stderr a terminal or forced) */
    double progress_since; /* when the maps in flight began (0: none), for the bar's delay */
    size_t progress_total; /* items the bar showed last */

    ppool__journal *journal; /* opts.journal: items recorded, and served again */
    char *journal_path;

    char errmsg[PPOOL__ERRMSG]; /* last failure on this pool, any thread */
};

/* The core's files, from the top down; each calls only those below it. */

/* ---- open.c ---- */
/* ppool__open_on for a pool that may be the top of a hierarchy of masters:
 * where the transport makes this process a sub-master, it serves in here. */
int ppool__open_top(ppool **pool, const ppool_opts *opts, const char *transport, const void *where);

/* ---- iter.c ---- */
/* A sub-master's job (relay.c): n items of fn, unordered, in a window of
 * them all, chunked as the master above said (0: adaptive); uniform items
 * at `in` (in_size each, read in place), or, with in NULL, pulled from
 * next. The handle, or NULL with ppool_errmsg(p). */
ppool__job *ppool__relay_job(struct ppool *p, const char *fn, const void *in, size_t in_size,
                             ppool_source next, void *user, size_t n, size_t chunksize);
/* Ends a sub-master's job at its first n items (at least those handed out
 * already): the rest were given back (a Steal). Under p->mu. */
void ppool__relay_cut(ppool__job *j, size_t n);

/* ---- handle.c: what every call on a pool shares ---- */
/* Validates a pool, a name and array arguments; PPOOL_EINVAL with a message. */
int ppool__check_array(const struct ppool *p, const char *fn, const void *in, size_t n,
                       size_t in_size, const void *out, size_t out_size);
/* The same for one apply argument, within the frame limit. */
int ppool__check_arg(const struct ppool *p, const char *fn, const void *arg, size_t len);
/* PPOOL_EINVAL naming item `index`, the limit and the frame limit when len >
 * PPOOL__MAX_ITEM; else 0. */
int ppool__check_item_size(const struct ppool *p, const char *fn, size_t index, size_t len);
/* Validates fn against the pool's registry snapshot and state (under mu). */
int ppool__check_submit(struct ppool *p, const char *fn);
/* ---- owner.c: who may use a pool ---- */
/* The pid of this process, kept by an atfork handler (cheaper than getpid()). */
int ppool__self(void);
/* 0 when p is NULL or belongs to this process; else PPOOL_EINVAL with "pool
 * opened by pid N, used in pid M": a forked child must not touch its
 * parent's pool (its locks and workers are the parent's). */
int ppool__foreign(const struct ppool *p, const char *what);
/* Lists p as open (ppool_open) / no longer (ppool_free, before it is released). */
int ppool__live_add(const struct ppool *p);
void ppool__live_remove(const struct ppool *p);
/* Pools this process opened and has not freed. */
int ppool__open_here(void);
/* PPOOL_EINVAL naming `what` when p is NULL, not an open pool (freed: caught
 * without reading it, unless its address was reused), or another process's. */
int ppool__check_pool(const struct ppool *p, const char *what);
/* The calling thread is p's dispatcher (ppool__dispatcher calls it first). */
void ppool__dispatcher_thread(const struct ppool *p);
/* Marks the calling thread as p's dispatcher (NULL: none) for a while; returns the mark before. */
const struct ppool *ppool__dispatcher_swap(const struct ppool *p);
/* 1 when the calling thread is p's dispatcher (or drives it, inline). */
int ppool__is_dispatcher(const struct ppool *p);
/* PPOOL_EINVAL naming `what` on p's dispatcher thread, where a blocking call
 * would wait for itself (a completion callback, a source); else 0. */
int ppool__on_dispatcher(const struct ppool *p, const char *what);
/* Checks the pool and fn, and returns a new job with p->mu HELD, for the
 * caller to fill and pass to ppool__job_submit before unlocking; or NULL
 * with *rc set (and ppool_errmsg) and the lock not held. */
ppool__job *ppool__job_open(struct ppool *p, int kind, const char *fn, int *rc);
/* Waits (under p->mu) until j finishes; returns its status, errmsg set. */
int ppool__job_wait(ppool__job *j);
/* Submits a filled job (p->mu held, as ppool__job_open left it) as a handle
 * the caller owns: the handle holds a pool reference; unlocks. */
ppool__job *ppool__handle_submit(ppool__job *j);
/* Releases a handle: cancels what was not dispatched, drops its references. */
void ppool__handle_release(ppool__job *j);

/* ---- pool.c: a pool's life ---- */
void ppool__pool_unref(struct ppool *p); /* under no lock */
/* ppool_open on a named transport (NULL: as the options say) at a
 * transport-specific place (ppool_open_comm: an MPI_Comm *); `relay`, when
 * not NULL, is what a process serves with if the transport makes it a
 * sub-master (open.c). */
int ppool__open_on(ppool **pool, const ppool_opts *opts, const char *transport, const void *where,
                   const ppool__worker_ops *relay);

/* ---- sched.c: the dispatcher thread ---- */
void *ppool__dispatcher(void *arg);
/* Inline progress (no dispatcher thread): with mu held and no other caller
 * driving, runs one pass of the dispatcher's loop in the calling thread,
 * waiting at most until deadline (< 0: the loop's own nap) for events, then
 * wakes every waiter. 0, or PPOOL_ETIMEDOUT once deadline passed. */
int ppool__drive(struct ppool *p, double deadline);
/* Inline progress: the loop's last duties at shut-down (mu held). */
void ppool__drive_last(struct ppool *p);
/* Makes sure no frame borrows the caller's memory any more (transport
 * flush()), through the dispatcher thread that owns the transport. Under p->mu. */
void ppool__flush_borrowed(struct ppool *p);

/* ---- progress.c ---- */
/* Draws the bar of the maps in flight; `final` closes the line at 100%. */
void ppool__draw_progress(struct ppool *p, int final);
void ppool__print_stats(struct ppool *p);

/* ---- events.c: what workers tell the master ---- */
/* Handles one frame from worker w (consumes it). Under p->mu. */
int ppool__handle_frame(struct ppool *p, int w, void *frame, size_t len, char *err, size_t errlen);
/* A worker is gone: its running item is judged, the rest re-queued, the slot refilled. */
void ppool__handle_death(struct ppool *p, const ppool__event *ev);
/* Waits for every worker's Hello at open; 0 or < 0 with ppool_errmsg(NULL). */
int ppool__wait_hellos(struct ppool *p, double timeout);
/* Queues a Shutdown frame for worker w: it leaves its serve loop even if
 * its channel stays open elsewhere (a process the application forked). */
void ppool__send_shutdown(struct ppool *p, int w);
/* Queues the Init frame (initializer, its argument) for worker w, for
 * transports whose workers do not inherit the master's memory. */
void ppool__send_init(struct ppool *p, int w);
/* Enforces task_timeout: a worker past its item's deadline is killed, or,
 * where it cannot be, its item fails and it gets no more work. Returns
 * the next deadline (ppool__now() seconds), -1 if none. Under p->mu. */
double ppool__check_deadlines(struct ppool *p);
/* Worker slots not given up. Under p->mu. */
int ppool__alive(const struct ppool *p);

/* ---- steal.c: work moving between sub-masters ---- */
typedef struct Ppool__Given Ppool__Given;
/* After a dispatch pass: each sub-master slot left with nothing in flight
 * gets a Steal sent for it to the most loaded other one. Under p->mu. */
void ppool__steal(struct ppool *p);
/* Sub-master w's answer to a Steal: the items it gave back are re-queued
 * (cut off its chunks in flight); PPOOL_EPROTO, with a message in err, when
 * they are not the tail of one. Under p->mu. */
int ppool__handle_given(struct ppool *p, int w, const Ppool__Given *g, char *err, size_t errlen);
/* A sub-master slot is gone or new: no Steal is out to it or for it. */
void ppool__steal_forget(struct ppool *p, int w);

/* ---- dispatch.c: handing out work ---- */
/* Hands out chunks while workers have credits and jobs have work. Under p->mu. */
void ppool__dispatch(struct ppool *p);

/* ---- deliver.c: item outcomes ---- */
/* Delivers one item's outcome into the job's output. Under p->mu. */
void ppool__deliver(ppool__job *j, size_t index, int status, const char *data, size_t len,
                    const char *msg);
/* Accounts for `count` items of a chunk that left flight; may finish the job. */
void ppool__land(struct ppool *p, ppool__job *j, size_t count);
/* Fails every item of a chunk with one status and message, and lands them. */
void ppool__fail_chunk(struct ppool *p, ppool__chunk *c, int status, const char *msg);
/* Puts items back to be dispatched again (never loses them: fails them on ENOMEM). */
void ppool__requeue(ppool__job *j, size_t first, size_t count, unsigned tries);
/* The pool stops under its jobs: every chunk in flight is dropped, its items
 * recorded as failed with `status` (ppool__fail_all then fails the rest). */
void ppool__drop_inflight(struct ppool *p, int status);
/* Takes chunk c (after prev, NULL when it is the oldest) out of ws's flight,
 * with the credits it holds; the next oldest, if c was, starts now. */
void ppool__chunk_unlink(ppool__wslot *ws, ppool__chunk *c, ppool__chunk *prev);
/* Frees a chunk that left flight and drops its job reference. */
void ppool__chunk_done(struct ppool *p, ppool__chunk *c);

/* ---- job.c: a job's life on the scheduler ---- */
/* Queues a filled job and wakes the dispatcher. Under p->mu. */
void ppool__job_submit(struct ppool *p, ppool__job *j);
/* Every item is accounted for (or the handle is gone with nothing in flight). */
int ppool__job_complete(const ppool__job *j);
/* Finishes a job: wakes waiters, queues its callback, drops the scheduler's reference. */
void ppool__job_finish(struct ppool *p, ppool__job *j);
/* Drops a reference under p->mu; frees the job at zero. */
void ppool__job_unref(ppool__job *j);
/* Marks the handle gone (cancel what is not dispatched), under p->mu. */
void ppool__job_abandon(ppool__job *j);
void ppool__slot_free(ppool__slot *s);
/* Done as the caller sees it: finished, and its callback (if any) has
 * returned, as Python's AsyncResult; the callback's own thread sees it done. */
static inline int ppool__job_done(const ppool__job *j)
{
    return j->finished && (!j->cb_pending || pthread_equal(j->cb_thread, pthread_self()));
}
/* Runs queued completion callbacks with p->mu released around each. */
void ppool__run_callbacks(struct ppool *p);
/* Waits under p->mu until cond(j) or the deadline; 0 or PPOOL_ETIMEDOUT. */
int ppool__cond_wait(struct ppool *p, pthread_cond_t *c, double deadline);
/* The deadline of a wait of `timeout` seconds, -1 for forever (negative,
 * infinite or over 1e9 s); callers refuse NaN first (ppool__check_timeout). */
double ppool__deadline(double timeout);
/* PPOOL_EINVAL naming `what` when timeout is NaN, else 0. */
int ppool__check_timeout(const struct ppool *p, const char *what, double timeout);
/* Fails every unfinished job with err, under p->mu. */
void ppool__fail_all(struct ppool *p, int err, const char *why);

#endif /* PPOOL_IMPL_H */
