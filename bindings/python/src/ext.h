/* ext.h: the _ppool extension's internal declarations: engine, iterator, done queue, worker side.
 */
#ifndef PPOOL_PY_EXT_H
#define PPOOL_PY_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <ppool.h>

/* The one task every Python pool runs, and the initializer of its workers. */
#define PPX_TASK "ppool.python"
#define PPX_INIT "ppool.python.init"
/* The initializer argument that tells an MPI worker rank to stop serving. */
#define PPX_STOP     "\0ppool.stop"
#define PPX_STOP_LEN 11

/* An imap asks its input for up to PPX_AHEAD items at once (one GIL
 * acquisition on ppool's dispatcher), for at most PPX_AHEAD_SECONDS. */
#define PPX_AHEAD         64
#define PPX_AHEAD_SECONDS 0.0005

/* Results an imap's next() takes from ppool at once, when they are ready. */
#define PPX_BATCH 256

/* Seconds a blocking wait sleeps in C before it looks for signals (Ctrl-C). */
#define PPX_SLICE 0.1

/* ---- module.c ---- */
extern PyObject *ppx_EngineError; /* _ppool.EngineError(code, message) */
/* Sets EngineError(code, msg) and returns NULL. */
PyObject *ppx_raise(int code, const char *msg);

/* ---- doneq.c: results finished on ppool's dispatcher, handed to a Python thread ---- */
typedef struct ppx_done {
    struct ppx_done *next;
    struct ppx_doneq *q; /* where on_done pushes it */
    long long token;
    ppool_async *a; /* an apply_async that finished, or NULL */
    PyObject *obj;  /* or an object a Python thread posted (a reference) */
} ppx_done;

typedef struct ppx_doneq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ppx_done *head, *tail;
} ppx_doneq;

void ppx_doneq_init(ppx_doneq *q);
/* Appends d; never blocks on Python (called from ppool's dispatcher). */
void ppx_doneq_push(ppx_doneq *q, ppx_done *d);
/* Takes everything queued, waiting up to `timeout` seconds for something:
 * the list (oldest first), or NULL after the timeout. Call without the GIL. */
ppx_done *ppx_doneq_take(ppx_doneq *q, double timeout);
/* The on_done callback of ppool_async_on_done: pushes its ppx_done. */
void ppx_doneq_on_done(ppool_async *a, void *user);
/* Frees what is left, with the GIL held. */
void ppx_doneq_clear(ppx_doneq *q);

/* ---- engine.c: _ppool.Engine, one ppool ---- */
typedef struct ppx_engine {
    PyObject_HEAD ppool *pool;
    ppx_doneq q;
    int size;
    char transport[16];
} ppx_engine;
extern PyTypeObject ppx_EngineType;

/* ---- iter.c: _ppool.Iter, an imap over a Python feeder ---- */
extern PyTypeObject ppx_IterType;
/* Engine.imap(feeder, ordered): a new Iter on e's pool. */
PyObject *ppx_iter_new(ppx_engine *e, PyObject *feeder, int ordered);
/* -1 with RuntimeError when this thread runs p's source (an imap's input
 * using its own pool would wait for itself), else 0. */
int ppx_reentry(const ppool *p);
/* 1 when this thread runs p's source now (then p cannot be freed here). */
int ppx_in_source(const ppool *p);
/* Frees iterators dropped inside a source (GIL held). */
void ppx_iter_reap(void);

/* ---- task.c: the worker side ---- */
/* Registers PPX_TASK and PPX_INIT (once per process); 0 or -1 with an exception. */
int ppx_task_register(void);
/* Records the process that opens pools, so a forked worker knows it is one. */
void ppx_task_note_master(void);
/* 1 once an MPI worker rank ran the stop initializer (then cleared). */
int ppx_task_take_stop(void);

#endif /* PPOOL_PY_EXT_H */
