/* iter.c: _ppool.Iter, an imap whose items a Python feeder makes only as workers need them. */
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
    PyObject *cur;    /* the item ppool may read until the next source call */
    int ended;
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

/* Asks the feeder for one item, with the GIL: 1, 0 at the end, -1 on error. */
static int feed(ppx_src *s, const void **item, size_t *len)
{
    Py_CLEAR(s->cur);
    PyObject *r = PyObject_CallNoArgs(s->feeder);
    int rc = -1;
    if (!r) {
        PyErr_WriteUnraisable(s->feeder); /* the feeder catches what it can */
    } else if (r == Py_None) {
        s->ended = 1;
        rc = 0;
    } else if (PyBytes_Check(r)) {
        s->cur = r;
        r = NULL;
        *item = PyBytes_AS_STRING(s->cur);
        *len = (size_t)PyBytes_GET_SIZE(s->cur);
        rc = 1;
    }
    Py_XDECREF(r);
    return rc;
}

/* ppool's source, on its dispatcher thread (holding the pool's lock): takes
 * the GIL to ask the feeder for one item. Every thread that holds the GIL
 * releases it before it calls ppool, so this wait always ends. */
static int source(void *user, const void **item, size_t *len)
{
    ppx_src *s = user;
    if (s->ended) return 0;
    if (ppx_finalizing()) return -1;
    PyGILState_STATE g = PyGILState_Ensure();
    ppool *outer = in_source;
    in_source = s->pool;
    int gc = gc_pause();
    int rc = s->ended ? 0 : feed(s, item, len);
    gc_resume(gc);
    in_source = outer;
    PyGILState_Release(g);
    return rc;
}

/* Frees a source: the C iterator first (its source is never called after). GIL held. */
static void src_free(ppx_src *s)
{
    PyThreadState *ts = PyEval_SaveThread();
    ppool_iter_free(s->it);
    PyEval_RestoreThread(ts);
    Py_CLEAR(s->cur);
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
    ppx_src *s = self ? PyMem_RawCalloc(1, sizeof *s) : NULL;
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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ppool_iter_next says PPOOL_ETIMEDOUT both for a wait that timed out and
 * for an item past its task_timeout; only the first says "no result within". */
static int wait_timed_out(int rc, const char *msg)
{
    return rc == PPOOL_ETIMEDOUT && strstr(msg, "'" PPX_TASK "': no result within") == msg;
}

/* One ppool_iter_next without the GIL, at most `slice` seconds. */
static int next_slice(ppool_iter *it, size_t *idx, ppool_buf *r, double slice, char *msg,
                      size_t cap)
{
    PyThreadState *ts = PyEval_SaveThread();
    int rc = ppool_iter_next(it, idx, r, slice);
    if (rc && rc != PPOOL_EDONE) snprintf(msg, cap, "%s", ppool_errmsg(NULL));
    PyEval_RestoreThread(ts);
    return rc;
}

/* next(timeout): (index, 0, bytes) or (index, code, message) for the next
 * result, None when `timeout` seconds (None: forever) passed first;
 * StopIteration at the end. Waits in slices, so Ctrl-C raises
 * KeyboardInterrupt. */
static PyObject *iter_next_py(ppx_iter *self, PyObject *arg)
{
    double timeout = arg == Py_None ? -1 : PyFloat_AsDouble(arg);
    if (timeout == -1.0 && PyErr_Occurred()) return NULL;
    ppx_iter_reap();
    if (!self->src) return ppx_raise(PPOOL_EINVAL, "the iterator was closed");
    if (ppx_reentry(self->src->pool)) return NULL;
    double deadline = timeout < 0 ? -1 : now() + timeout;
    for (;;) {
        double slice = PPX_SLICE, left = deadline < 0 ? slice : deadline - now();
        if (left < slice) slice = left > 0 ? left : 0;
        size_t idx = 0;
        ppool_buf r = {0};
        char msg[512] = "";
        int rc = next_slice(self->src->it, &idx, &r, slice, msg, sizeof msg);
        if (rc == 0)
            return Py_BuildValue("(niy#)", (Py_ssize_t)idx, 0, (const char *)r.data,
                                 (Py_ssize_t)r.len);
        if (rc == PPOOL_EDONE) {
            PyErr_SetNone(PyExc_StopIteration);
            return NULL;
        }
        if (!wait_timed_out(rc, msg)) return Py_BuildValue("(nis)", (Py_ssize_t)idx, rc, msg);
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
