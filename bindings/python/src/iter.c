/* iter.c: _ppool.Iter, an imap whose items a Python feeder makes only as workers need them. */
#include <string.h>
#include <time.h>

#include "ext.h"

#if PY_VERSION_HEX >= 0x030D0000
#define ppx_finalizing() Py_IsFinalizing()
#else
#define ppx_finalizing() _Py_IsFinalizing()
#endif

typedef struct ppx_iter {
    PyObject_HEAD ppx_engine *engine;
    ppool_iter *it;
    PyObject *feeder; /* feeder() -> the next item's bytes, or None at the end */
    PyObject *cur;    /* the item ppool may read until the next source call */
    int ended;
} ppx_iter;

/* ppool's source, on its dispatcher thread (holding the pool's lock): takes
 * the GIL to ask the feeder for one item. Every thread that holds the GIL
 * releases it before it calls ppool, so this wait always ends. */
static int source(void *user, const void **item, size_t *len)
{
    ppx_iter *self = user;
    if (self->ended) return 0;
    if (ppx_finalizing()) return -1;
    PyGILState_STATE g = PyGILState_Ensure();
    Py_CLEAR(self->cur);
    PyObject *r = PyObject_CallNoArgs(self->feeder);
    int rc = -1;
    if (!r) {
        PyErr_WriteUnraisable(self->feeder); /* the feeder catches what it can */
    } else if (r == Py_None) {
        self->ended = 1;
        rc = 0;
    } else if (PyBytes_Check(r)) {
        self->cur = r;
        r = NULL;
        *item = PyBytes_AS_STRING(self->cur);
        *len = (size_t)PyBytes_GET_SIZE(self->cur);
        rc = 1;
    }
    Py_XDECREF(r);
    PyGILState_Release(g);
    return rc;
}

PyObject *ppx_iter_new(ppx_engine *e, PyObject *feeder, int ordered)
{
    ppx_iter *self = PyObject_New(ppx_iter, &ppx_IterType);
    if (!self) return NULL;
    Py_INCREF(e);
    Py_INCREF(feeder);
    self->engine = e;
    self->feeder = feeder;
    self->cur = NULL;
    self->ended = 0;
    char msg[512] = "";
    ppool *p = e->pool;
    PyThreadState *ts = PyEval_SaveThread();
    self->it = ppool_imap_source(p, PPX_TASK, source, self, ordered);
    if (!self->it) snprintf(msg, sizeof msg, "%s", ppool_errmsg(p));
    PyEval_RestoreThread(ts);
    if (self->it) return (PyObject *)self;
    Py_DECREF(self);
    return ppx_raise(0, msg);
}

/* Frees the C iterator (the source is never called after), then the feeder. */
static void iter_release(ppx_iter *self)
{
    ppool_iter *it = self->it;
    self->it = NULL;
    if (it) {
        PyThreadState *ts = PyEval_SaveThread();
        ppool_iter_free(it);
        PyEval_RestoreThread(ts);
    }
    Py_CLEAR(self->cur);
    Py_CLEAR(self->feeder);
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
    if (!self->it) return ppx_raise(PPOOL_EINVAL, "the iterator was closed");
    double deadline = timeout < 0 ? -1 : now() + timeout;
    for (;;) {
        double slice = PPX_SLICE, left = deadline < 0 ? slice : deadline - now();
        if (left < slice) slice = left > 0 ? left : 0;
        size_t idx = 0;
        ppool_buf r = {0};
        char msg[512] = "";
        int rc = next_slice(self->it, &idx, &r, slice, msg, sizeof msg);
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
