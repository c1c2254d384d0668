/* mpi_impl.h: what the MPI transport's files share: master (mpi.c), worker (serve.c), sends.c,
 * common.c. */
#ifndef PPOOL_MPI_IMPL_H
#define PPOOL_MPI_IMPL_H

#include <mpi.h>
#include <stddef.h>
#ifdef PPOOL_SMPI /* built with SimGrid's smpicc: bench/scale */
#include "smpi.h"
#endif

#include "transport.h"

#define PPOOL__MPI_SPIN            100e-6 /* after a message moved, poll this long without sleeping */
#define PPOOL__MPI_MAX_SLEEP       1e-3   /* the longest nap between polls of a rank idle ... */
#define PPOOL__MPI_DEEP_IDLE       0.1    /* ... for less than this; after it, naps grow to: */
#define PPOOL__MPI_DEEP_SLEEP      5e-3
#define PPOOL__MPI_BEAT            0.5  /* seconds between heartbeats */
#define PPOOL__MPI_MASTER_LENIENCY 6    /* a rank waits this many loss limits for a silent master */
#define PPOOL__MPI_CLOSE_SECONDS   10.0 /* how long close() waits for the ranks' goodbyes */
#define PPOOL__MPI_JOIN_SECONDS    60.0 /* how long the master waits for every rank at open */
#define PPOOL__MPI_TAKE_SECONDS    2.0  /* how long a rank given up may take to take frames lent */
#define PPOOL__MPI_ORPHAN_EXIT     70   /* a rank's exit status when its launcher died under it */

/* ---- batch.c: small frames the master sends packed many to a message ---- */
#define PPOOL__MPI_BATCH_ITEM  4096u       /* frames up to this size travel in batches */
#define PPOOL__MPI_BATCH_BYTES (64u << 10) /* a batch this full is sent at once */
typedef struct ppool__mpi_batch {
    char *buf;
    size_t len, cap;
    int count;
} ppool__mpi_batch;
/* Appends a copy of a frame. 0 or PPOOL_ENOMEM (b unchanged). */
int ppool__mpi_batch_add(ppool__mpi_batch *b, const void *frame, size_t len);
/* Hands over b's packed bytes (malloc'd, *len of them) and empties b. */
void *ppool__mpi_batch_take(ppool__mpi_batch *b, size_t *len);
void ppool__mpi_batch_clear(ppool__mpi_batch *b);
/* Called with each frame of a batch, in its own malloc'd buffer (taken),
 * a non-zero return stops the split. */
typedef int (*ppool__mpi_batch_fn)(void *user, void *frame, size_t len);
/* Splits a received batch, checking every length against what is left:
 * PPOOL_EPROTO when malformed (the frames before were handed on), PPOOL_ENOMEM,
 * or what fn returned. */
int ppool__mpi_batch_split(const void *msg, size_t len, ppool__mpi_batch_fn fn, void *user);

/* ---- tree.c: the hierarchy of masters ---- */
#define PPOOL__MPI_TREE_AUTO 256 /* PPOOL_HIERARCHY=auto builds one from this many worker ranks */
#define PPOOL__MPI_SELF_MAX  16  /* a sub-master of a group this small (ranks) runs tasks too */
enum { PPOOL__TREE_FLAT, PPOOL__TREE_TOP, PPOOL__TREE_SUB, PPOOL__TREE_LEAF };
typedef struct ppool__mpi_tree {
    int role;       /* FLAT: no hierarchy; TOP: rank 0; SUB: a sub-master; LEAF: its worker */
    int groups;     /* sub-masters */
    MPI_Comm up;    /* rank 0 and the sub-masters (TOP, SUB) */
    MPI_Comm group; /* a sub-master (its rank 0) and its workers (SUB, LEAF) */
} ppool__mpi_tree;
/* Collective on comm: decides from PPOOL_HIERARCHY (on, off, auto: from
 * PPOOL__MPI_TREE_AUTO worker ranks on 2 or more nodes) whether the pool on
 * comm is a hierarchy, groups ranks 1.. by shared-memory node (or
 * PPOOL_NODE_SIZE at a time), the lowest of each its sub-master, and splits
 * the communicators. 0 (t->role FLAT when none), or < 0 with err filled. */
int ppool__mpi_tree_build(MPI_Comm comm, ppool__mpi_tree *t, char *err, size_t errlen);
void ppool__mpi_tree_free(ppool__mpi_tree *t);

/* ---- sends.c: sends in flight (the master's, and a rank's results) ---- */
typedef struct ppool__mpi_send {
    void *buf; /* freed when done; NULL when borrowed */
    int rank;
    int lent; /* the buffer is the caller's (borrowed) */
} ppool__mpi_send;
typedef struct ppool__mpi_sends {
    MPI_Request *req; /* side by side with s, for MPI_Testsome */
    ppool__mpi_send *s;
    int *idx;
    int n, cap;
} ppool__mpi_sends;
/* Isends buf (taken: freed when done, also on failure). 0 or PPOOL_ETRANSPORT. */
int ppool__mpi_isend(ppool__mpi_sends *o, MPI_Comm comm, int rank, void *buf, int count,
                     MPI_Datatype type, int tag);
/* Isends count bytes at buf, read in place (borrowed). */
int ppool__mpi_lend(ppool__mpi_sends *o, MPI_Comm comm, int rank, const void *buf, int count,
                    int tag);
/* Forgets the sends that completed (one MPI_Testsome). */
void ppool__mpi_reap(ppool__mpi_sends *o);
/* A rank (> 0) with a borrowed send still in flight (rank < 0: any), or 0. */
int ppool__mpi_lent_to(const ppool__mpi_sends *o, int rank);
/* Lets go of every send to rank (all when < 0): MPI may still complete them. */
void ppool__mpi_let_go(ppool__mpi_sends *o, int rank);
/* At close, once the ranks left: forgets what completed, lets go of the
 * rest (it never will), frees the lists. */
void ppool__mpi_settle(ppool__mpi_sends *o);

/* A worker rank's serve loop. */
typedef struct ppool__mpi_worker {
    MPI_Comm comm;
    int rank;
    int serves; /* 0: a rank beyond the pool's size, which only waits for its release */
    const ppool__worker_ops *wops;
    size_t max_frame;
    double heard;         /* when the master was last heard from */
    int master_beats;     /* the master sends heartbeats: its silence means it is lost */
    ppool__mpi_sends out; /* its results in flight: it goes on while the master takes them */
} ppool__mpi_worker;

/* Serves frames from rank 0 until it releases this rank. 0, or < 0 with
 * *err filled when the master was lost. */
int ppool__mpi_serve(ppool__mpi_worker *w, char *err, size_t errlen);

/* Seconds: MPI_Wtime (simulated time under a simulator). MPI must be up. */
double ppool__mpi_now(void);
/* The same for the core's clock (ppool__topen.use_clock): -1 while MPI is
 * not initialised or already finalised. */
double ppool__mpi_clock(void);
/* Sleeps between polls: yields while `idle` (seconds since a message moved)
 * is under PPOOL__MPI_SPIN, then naps longer the longer it has been idle, at
 * most `cap` seconds (< 0: no cap); a readable `fd` (>= 0) ends the nap. */
void ppool__mpi_backoff(double idle, double cap, int fd);
/* How long that nap is: 0 while spinning (yields only). */
double ppool__mpi_nap(double idle, double cap);
/* Under a launcher (mpirun's or orted's, slurmstepd's child), remembers this
 * rank's parent; called as MPI comes up. */
void ppool__mpi_watch_launcher(void);
/* Ends this process (_exit PPOOL__MPI_ORPHAN_EXIT, one line on stderr) when the
 * launcher watched is gone: its job was killed (mpirun SIGKILLed), and the
 * rank would otherwise go on working, orphaned, until MPI notices. Called in
 * every nap and heartbeat, so an orphan ends within about PPOOL__MPI_BEAT. */
void ppool__mpi_check_launcher(void);
/* Sends one control word (blocking; control words are small and eager). */
int ppool__mpi_ctl(MPI_Comm comm, int rank, int word);
/* Receives a matched frame into a malloc'd buffer (PPOOL_EPROTO over max). */
int ppool__mpi_take(MPI_Message *msg, MPI_Status *st, size_t max, void **frame, size_t *len);
/* Seconds of silence after which a rank that sends heartbeats is lost
 * (PPOOL_LOST_AFTER, default 10). */
double ppool__mpi_lost_after(void);

/* Every tag ppool uses on its own communicator. */
enum {
    PPOOL__TAG_FRAME = 1, /* a whole frame */
    PPOOL__TAG_CTL,       /* a control word */
    PPOOL__TAG_HEAD,      /* [u64 LE bulk length][the frame's head]: its bulk follows ... */
    PPOOL__TAG_BULK,      /* ... as this message, sent from where it lies (send_bulk) */
    PPOOL__TAG_BATCH,     /* master -> rank: small frames packed together (batch.c) */
};

/* Control words (PPOOL__TAG_CTL, one int). */
enum {
    PPOOL__CTL_RELEASE = 1, /* master -> rank: leave the serve loop (ppool_open: PPOOL_WORKER) */
    PPOOL__CTL_BYE,         /* rank -> master: left; nothing more comes from it */
    PPOOL__CTL_BEAT,        /* either way: alive */
    PPOOL__CTL_BROKEN,      /* rank -> master: it could not read a frame; it takes no more */
};

#endif
