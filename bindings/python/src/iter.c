/* iter.c: _ppool.Iter, an imap whose items a Python feeder makes only as workers need them. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ext.h"

#if PY_VERSION_HEX >= 0x030D0000
#define ppx_finalizing() Py_IsFinalizing()
#else
#define ppx_finalizing() _Py_IsFinalizing()
#endif

/* What ppool's source reads, apart from the Python object: an iterator
 * dropped on its own pool's dispatcher (inside its source) outlives it. */
typedef struct ppx_src {
    struct ppx_src *next_dead; /* on the list freed later */
    ppool *pool;               /* whose dispatcher calls the source */
    ppool_iter *it;
    PyObject *feeder; /* feeder() -> the next item's bytes, or None at the end */
    /* Items asked for ahead, with the GIL, handed out one per source call
     * without it; each stays referenced until the next refill. */
    PyObject *ahead[PPX_AHEAD];
    int n, pos;
    int fed;   /* the feeder said: 0 more to come, 1 the end, -1 an error */
    int ended; /* closed: the source ends now */
} ppx_src;

typedef struct ppx_iter {
    PyObject_HEAD ppx_engine *engine;
    ppx_src *src;
} ppx_iter;

static __thread ppool *in_source; /* the pool whose source this thread runs now */
static pthread_mutex_t dead_mu = PTHREAD_MUTEX_INITIALIZER;
static ppx_src *dead; /* sources to free from an ordinary thread */

int ppx_in_source(const ppool *p)
{
    return p && in_source == p;
}

int ppx_reentry(const ppool *p)
{
    if (!p || in_source != p) return 0;
    PyErr_SetString(PyExc_RuntimeError, "ppool: the input of an imap must not use its own pool "
                                        "(it runs on that pool's dispatcher)");
    return -1;
}

/* Cyclic GC is held off while the feeder runs on the dispatcher, so no
 * finalizer of the user's (a pool's, an iterator's) runs there. */
static int gc_pause(void)
{
#if PY_VERSION_HEX >= 0x030A0000
    return PyGC_Disable();
#else
    return 0;
#endif
}

static void gc_resume(int was_enabled)
{
#if PY_VERSION_HEX >= 0x030A0000
    if (was_enabled) PyGC_Enable();
#endif
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Drops the items handed out so far. GIL held. */
static void drop_ahead(ppx_src *s)
{
    for (int i = 0; i < s->n; i++) Py_CLEAR(s->ahead[i]);
    s->n = s->pos = 0;
}

/* Asks the feeder, with the GIL, for up to PPX_AHEAD items, and for no more
 * once PPX_AHEAD_SECONDS went by (a slow input holds the dispatcher little). */
static void refill(ppx_src *s)
{
    drop_ahead(s);
    double until = now() + PPX_AHEAD_SECONDS;
    while (s->n < PPX_AHEAD && !s->fed && (s->n == 0 || now() < until)) {
        PyObject *r = PyObject_CallNoArgs(s->feeder);
        if (r && PyBytes_Check(r)) {
            s->ahead[s->n++] = r;
            continue;
        }
        if (!r) PyErr_WriteUnraisable(s->feeder); /* the feeder catches what it can */
        s->fed = r == Py_None ? 1 : -1;
        Py_XDECREF(r);
    }
}

/* Refills with the GIL, never running a finalizer of the user's here. */
static void refill_locked(ppx_src *s)
{
    PyGILState_STATE g = PyGILState_Ensure();
    ppool *outer = in_source;
    in_source = s->pool;
    int gc = gc_pause();
    if (!s->ended) refill(s);
    gc_resume(gc);
    in_source = outer;
    PyGILState_Release(g);
}

/* ppool's source, on its dispatcher thread (holding the pool's lock): the
 * next item asked for ahead, refilled with the GIL when none is left. Every
 * thread that holds the GIL releases it before it calls ppool, so the wait
 * for the GIL always ends. */
static int source(void *user, const void **item, size_t *len)
{
    ppx_src *s = user;
    if (s->ended) return 0;
    if (s->pos == s->n && !s->fed) {
        if (ppx_finalizing()) return -1;
        refill_locked(s);
    }
    if (s->ended || s->pos == s->n) return s->ended || s->fed > 0 ? 0 : -1;
    PyObject *b = s->ahead[s->pos++];
    *item = PyBytes_AS_STRING(b);
    *len = (size_t)PyBytes_GET_SIZE(b);
    return 1;
}

/* Frees a source: the C iterator first (its source is never called after). GIL held. */
static void src_free(ppx_src *s)
{
    PyThreadState *ts = PyEval_SaveThread();
    ppool_iter_free(s->it);
    PyEval_RestoreThread(ts);
    drop_ahead(s);
    Py_CLEAR(s->feeder);
    PyMem_RawFree(s);
}

/* Frees the sources dropped on a dispatcher. GIL held. */
static void reap_dead(void)
{
    pthread_mutex_lock(&dead_mu);
    ppx_src *s = dead;
    dead = NULL;
    pthread_mutex_unlock(&dead_mu);
    while (s) {
        ppx_src *next = s->next_dead;
        src_free(s);
        s = next;
    }
}

void ppx_iter_reap(void)
{
    if (dead) reap_dead();
}

PyObject *ppx_iter_new(ppx_engine *e, PyObject *feeder, int ordered)
{
    ppx_iter_reap();
    ppx_iter *self = PyObject_New(ppx_iter, &ppx_IterType);
    if (!self) return NULL;
    self->engine = NULL; /* so the dealloc of a failed start frees nothing unset */
    self->src = NULL;
    ppx_src *s = PyMem_RawCalloc(1, sizeof *s);
    if (!s) {
        Py_XDECREF(self);
        return PyErr_NoMemory();
    }
    Py_INCREF(e);
    Py_INCREF(feeder);
    self->engine = e;
    self->src = s;
    s->pool = e->pool;
    s->feeder = feeder;
    char msg[512] = "";
    PyThreadState *ts = PyEval_SaveThread();
    s->it = ppool_imap_source(s->pool, PPX_TASK, source, s, ordered);
    if (!s->it) snprintf(msg, sizeof msg, "%s", ppool_errmsg(s->pool));
    PyEval_RestoreThread(ts);
    if (s->it) return (PyObject *)self;
    Py_DECREF(self);
    return ppx_raise(0, msg);
}

/* Frees the source now, or, on its own pool's dispatcher (whose lock that
 * thread holds), ends it and leaves it to an ordinary thread. */
static void iter_release(ppx_iter *self)
{
    ppx_src *s = self->src;
    self->src = NULL;
    if (!s) return;
    if (in_source != s->pool || !s->it) {
        if (s->it)
            src_free(s);
        else {
            Py_CLEAR(s->feeder);
            PyMem_RawFree(s);
        }
        return;
    }
    s->ended = 1;
    pthread_mutex_lock(&dead_mu);
    s->next_dead = dead;
    dead = s;
    pthread_mutex_unlock(&dead_mu);
}

static void iter_dealloc(ppx_iter *self)
{
    iter_release(self);
    Py_CLEAR(self->engine);
    PyObject_Free(self);
}

/* ppool_iter_next says PPOOL_ETIMEDOUT both for a wait that timed out and
 * for an item past its task_timeout; only the first says "no result within". */
static int wait_timed_out(int rc, const char *msg)
{
    return rc == PPOOL_ETIMEDOUT && strstr(msg, "'" PPX_TASK "': no result within") == msg;
}

/* One outcome taken without the GIL: a copy of its result, or of its message. */
typedef struct ppx_out {
    Py_ssize_t idx;
    int rc;
    char *data;
    size_t len;
} ppx_out;

/* Takes up to `cap` outcomes without the GIL: the first waits up to `slice`
 * seconds, the others are those ready now. *stop is the code that ended
 * the batch early (PPOOL_EDONE, or the wait's PPOOL_ETIMEDOUT), else 0. */
static size_t take_batch(ppool_iter *it, ppx_out *out, size_t cap, double slice, int *stop)
{
    size_t k = 0;
    *stop = 0;
    PyThreadState *ts = PyEval_SaveThread();
    while (k < cap) {
        size_t idx = 0;
        ppool_buf r = {0};
        int rc = ppool_iter_next(it, &idx, &r, k ? 0 : slice);
        const char *msg = rc ? ppool_errmsg(NULL) : NULL;
        if (rc == PPOOL_EDONE || (rc && wait_timed_out(rc, msg))) {
            *stop = rc;
            break;
        }
        size_t len = rc ? strlen(msg) : r.len;
        char *copy = malloc(len ? len : 1);
        if (!copy) break; /* that outcome is lost: the caller sees no memory */
        if (len) memcpy(copy, rc ? msg : r.data, len);
        out[k++] = (ppx_out){(Py_ssize_t)idx, rc, copy, len};
    }
    PyEval_RestoreThread(ts);
    return k;
}

/* The list of (index, 0, bytes) or (index, code, message); frees the copies. */
static PyObject *batch_list(ppx_out *out, size_t k)
{
    PyObject *list = PyList_New((Py_ssize_t)k);
    for (size_t i = 0; i < k; i++) {
        PyObject *o = !list       ? NULL
                      : out[i].rc ? Py_BuildValue("(nis#)", out[i].idx, out[i].rc, out[i].data,
                                                  (Py_ssize_t)out[i].len)
                                  : Py_BuildValue("(niy#)", out[i].idx, 0, out[i].data,
                                                  (Py_ssize_t)out[i].len);
        free(out[i].data);
        if (!list) continue;
        if (!o)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, o);
    }
    return list;
}

/* next(timeout): a list of the outcomes ready, at least one, each
 * (index, 0, bytes) or (index, code, message); None when `timeout` seconds
 * (None: forever) passed first; StopIteration at the end. Waits in slices,
 * so Ctrl-C raises KeyboardInterrupt. */
static PyObject *iter_next_py(ppx_iter *self, PyObject *arg)
{
    double timeout = arg == Py_None ? -1 : PyFloat_AsDouble(arg);
    if (timeout == -1.0 && PyErr_Occurred()) return NULL;
    ppx_iter_reap();
    if (!self->src) return ppx_raise(PPOOL_EINVAL, "the iterator was closed");
    if (ppx_reentry(self->src->pool)) return NULL;
    double deadline = timeout < 0 ? -1 : now() + timeout;
    ppx_out out[PPX_BATCH];
    for (;;) {
        double slice = PPX_SLICE, left = deadline < 0 ? slice : deadline - now();
        if (left < slice) slice = left > 0 ? left : 0;
        int stop;
        size_t k = take_batch(self->src->it, out, PPX_BATCH, slice, &stop);
        if (k) return batch_list(out, k);
        if (stop == PPOOL_EDONE) {
            PyErr_SetNone(PyExc_StopIteration);
            return NULL;
        }
        if (!stop) return PyErr_NoMemory();
        if (PyErr_CheckSignals()) return NULL;
        if (deadline >= 0 && now() >= deadline) Py_RETURN_NONE;
    }
}

static PyObject *iter_close(ppx_iter *self, PyObject *unused)
{
    iter_release(self);
    Py_RETURN_NONE;
}

static PyMethodDef iter_methods[] = {
    {"next", (PyCFunction)iter_next_py, METH_O, "next(timeout): the next outcome"},
    {"close", (PyCFunction)iter_close, METH_NOARGS,
     "frees the iterator; work not sent is cancelled"},
    {NULL, NULL, 0, NULL},
};

PyTypeObject ppx_IterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "ppool._ppool.Iter",
    .tp_basicsize = sizeof(ppx_iter),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An imap over a feeder (internal: see ppool.Pool.imap).",
    .tp_dealloc = (destructor)iter_dealloc,
    .tp_methods = iter_methods,
};
