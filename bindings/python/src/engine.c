/* engine.c: _ppool.Engine, one ppool seen from Python: open, apply_async, map_bufs, close/join. */
#include <stdlib.h>
#include <string.h>

#include "ext.h"

/* The pool forks its fork server inside ppool_open: hold the GIL and
 * bracket it the way os.fork() does, so every worker forked from that
 * server can make the interpreter whole (PyOS_AfterFork_Child, task.c). */
static int open_as_fork(ppool **pool, const ppool_opts *o)
{
    ppx_task_note_master();
    PyOS_BeforeFork();
    int rc = ppool_open(pool, o);
    PyOS_AfterFork_Parent();
    return rc;
}

/* Options from Engine(): retries < 0 is ppool's default, 0 none. */
static ppool_opts opts_of(int workers, const Py_buffer *initarg, unsigned maxtasks, int retries,
                          double task_timeout, const char *transport)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = workers;
    o.transport = transport;
    o.initializer = PPX_INIT; /* always: forked workers need it before any Python */
    o.initarg = initarg->buf;
    o.initarg_len = (size_t)initarg->len;
    o.maxtasksperchild = maxtasks;
    o.task_timeout = task_timeout;
    o.start = "fork"; /* a spawned worker would run the Python program's C entry again */
    if (retries == 0) o.flags |= PPOOL_NO_RETRIES;
    if (retries > 0) o.retries = (unsigned)retries;
    return o;
}

/* Frees the pool (terminating it if it runs). Never on its own dispatcher,
 * inside its source (an Engine whose last reference an imap's input held):
 * that thread holds the pool's lock, so the pool is left to the process's end. */
static void release_pool(ppx_engine *self)
{
    ppool *p = self->pool;
    self->pool = NULL;
    if (!p || ppx_in_source(p)) return;
    PyThreadState *ts = PyEval_SaveThread();
    ppool_free(p);
    PyEval_RestoreThread(ts);
}

/* Engine(workers=0, initarg=b"", maxtasksperchild=0, retries=-1, task_timeout=0.0,
 * transport=None): opens the pool; EngineError(code, message) if it cannot. */
static int engine_init(ppx_engine *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"workers",   "initarg", "maxtasksperchild", "retries", "task_timeout",
                             "transport", NULL};
    int workers = 0, retries = -1;
    unsigned maxtasks = 0;
    double task_timeout = 0;
    const char *transport = NULL;
    Py_buffer initarg = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|iy*Iidz", kwlist, &workers, &initarg, &maxtasks,
                                     &retries, &task_timeout, &transport))
        return -1;
    if (self->pool) {
        PyBuffer_Release(&initarg);
        PyErr_SetString(PyExc_RuntimeError, "Engine is already open");
        return -1;
    }
    ppool_opts o = opts_of(workers, &initarg, maxtasks, retries, task_timeout, transport);
    int rc = open_as_fork(&self->pool, &o);
    PyBuffer_Release(&initarg);
    if (rc) {
        self->pool = NULL;
        ppx_raise(rc, rc == PPOOL_WORKER ? "this process served as a worker" : ppool_errmsg(NULL));
        return -1;
    }
    self->size = ppool_size(self->pool);
    snprintf(self->transport, sizeof self->transport, "%s", ppool_transport(self->pool));
    if (PyErr_CheckSignals()) { /* Ctrl-C while the workers started */
        release_pool(self);
        return -1;
    }
    return 0;
}

static PyObject *engine_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    ppx_engine *self = (ppx_engine *)type->tp_alloc(type, 0);
    if (self) ppx_doneq_init(&self->q);
    return (PyObject *)self;
}

static void engine_dealloc(ppx_engine *self)
{
    release_pool(self);
    ppx_doneq_clear(&self->q);
    pthread_mutex_destroy(&self->q.mu);
    pthread_cond_destroy(&self->q.cv);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* 0 when self's pool can take a call from this thread, else -1 with an exception. */
static int need_pool(ppx_engine *self)
{
    if (ppx_reentry(self->pool)) return -1;
    if (self->pool) return 0;
    ppx_raise(PPOOL_ECLOSED, "the pool was released");
    return -1;
}

/* submit(item, token): runs one item (apply_async); its outcome comes out of
 * next_done() with the token. */
static PyObject *engine_submit(ppx_engine *self, PyObject *args)
{
    Py_buffer item;
    long long token;
    if (!PyArg_ParseTuple(args, "y*L", &item, &token)) return NULL;
    ppx_done *d = need_pool(self) ? NULL : PyMem_RawCalloc(1, sizeof *d);
    if (!d) {
        PyBuffer_Release(&item);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    d->token = token;
    d->q = &self->q;
    ppool_async *a;
    char msg[512] = "";
    PyThreadState *ts = PyEval_SaveThread();
    a = ppool_apply_async(self->pool, PPX_TASK, item.buf, (size_t)item.len);
    if (a)
        ppool_async_on_done(a, ppx_doneq_on_done, d);
    else
        snprintf(msg, sizeof msg, "%s", ppool_errmsg(self->pool));
    PyEval_RestoreThread(ts);
    PyBuffer_Release(&item);
    if (a) Py_RETURN_NONE;
    PyMem_RawFree(d);
    return ppx_raise(0, msg);
}

/* The outcome of a map's item: bytes, or (code, message). */
static PyObject *item_outcome(const ppool_buf *out, int code, const char *msg)
{
    if (!code) return PyBytes_FromStringAndSize(out->data, (Py_ssize_t)out->len);
    return Py_BuildValue("(is)", code, msg);
}

/* Codes of the failed items of the calling thread's last map, whose call
 * returned rc: all of them rc when none is listed (the map never ran). */
static int *failed_codes(ppool *p, size_t n, int rc)
{
    int *code = calloc(n ? n : 1, sizeof *code);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    int *st = malloc((n ? n : 1) * sizeof *st);
    size_t k = code && idx && st ? ppool_map_failed(p, idx, st, n) : 0;
    for (size_t i = 0; i < k && i < n; i++) code[idx[i]] = st[i];
    for (size_t i = 0; code && k == 0 && i < n; i++) code[i] = rc;
    free(idx);
    free(st);
    return code;
}

/* The list of outcomes of a finished map; frees every out[i]. */
static PyObject *map_outcomes(ppool_buf *out, size_t n, const int *code, const char *first)
{
    PyObject *list = PyList_New((Py_ssize_t)n);
    int lowest = 1;
    for (size_t i = 0; i < n; i++) {
        int c = code ? code[i] : 0;
        PyObject *o = list ? item_outcome(&out[i], c, lowest ? first : ppool_strerror(c)) : NULL;
        lowest &= !c;
        ppool_buf_free(&out[i]);
        if (!list) continue;
        if (!o)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, o);
    }
    return list;
}

/* map(items): runs every item (a sequence of bytes) and blocks until all are
 * done, without the GIL; a list of outcomes, bytes or (code, message). Call
 * it from a thread of its own: it cannot be interrupted. */
static PyObject *engine_map(ppx_engine *self, PyObject *items)
{
    if (need_pool(self)) return NULL;
    PyObject *tup = PySequence_Tuple(items); /* holds the bytes while the GIL is released */
    if (!tup) return NULL;
    size_t n = (size_t)PyTuple_GET_SIZE(tup);
    ppool_buf *in = PyMem_RawCalloc(n ? n : 1, sizeof *in),
              *out = PyMem_RawCalloc(n ? n : 1, sizeof *out);
    for (size_t i = 0; in && out && i < n; i++) {
        PyObject *b = PyTuple_GET_ITEM(tup, (Py_ssize_t)i);
        if (!PyBytes_Check(b)) {
            PyErr_SetString(PyExc_TypeError, "Engine.map: items must be bytes");
            break;
        }
        in[i] = (ppool_buf){PyBytes_AS_STRING(b), (size_t)PyBytes_GET_SIZE(b)};
    }
    PyObject *res = NULL;
    if (!in || !out) PyErr_NoMemory();
    if (!PyErr_Occurred()) {
        int rc, *code = NULL;
        char first[512] = "";
        ppool *p = self->pool;
        PyThreadState *ts = PyEval_SaveThread();
        rc = ppool_map_bufs(p, PPX_TASK, in, n, out);
        if (rc) {
            snprintf(first, sizeof first, "%s", ppool_errmsg(p));
            code = failed_codes(p, n, rc);
        }
        PyEval_RestoreThread(ts);
        res = map_outcomes(out, n, code, first);
        if (rc && !code) {
            Py_XDECREF(res);
            res = PyErr_NoMemory();
        }
        free(code);
    }
    PyMem_RawFree(in);
    PyMem_RawFree(out);
    Py_DECREF(tup);
    return res;
}

/* The outcome of a finished apply_async: (token, 0, bytes) or (token, code, message). */
static PyObject *async_outcome(ppx_done *d)
{
    ppool_buf r = {0};
    int rc;
    char msg[512] = "";
    PyThreadState *ts = PyEval_SaveThread();
    /* Done counts once on_done returned: that is a moment away, never a wait for work. */
    rc = ppool_async_get(d->a, &r, -1);
    const char *err = rc ? ppool_async_error(d->a) : NULL;
    if (rc) snprintf(msg, sizeof msg, "%s", err ? err : ppool_strerror(rc));
    PyEval_RestoreThread(ts);
    PyObject *o =
        rc ? Py_BuildValue("(Lis)", d->token, rc, msg)
           : Py_BuildValue("(Liy#)", d->token, 0, (const char *)r.data, (Py_ssize_t)r.len);
    ts = PyEval_SaveThread();
    ppool_async_free(d->a); /* r with it */
    PyEval_RestoreThread(ts);
    return o;
}

/* One entry of next_done()'s list; consumes d. */
static PyObject *done_outcome(ppx_done *d)
{
    PyObject *o = d->a ? async_outcome(d) : Py_BuildValue("(LOO)", d->token, Py_None, d->obj);
    Py_XDECREF(d->obj);
    PyMem_RawFree(d);
    return o;
}

/* next_done(timeout): waits up to timeout seconds (without the GIL) for
 * finished results; a list of (token, code, bytes | message) for
 * apply_async's, (token, None, obj) for post()'s; [] after the timeout. */
static PyObject *engine_next_done(ppx_engine *self, PyObject *arg)
{
    double timeout = PyFloat_AsDouble(arg);
    if (timeout == -1.0 && PyErr_Occurred()) return NULL;
    ppx_iter_reap();
    PyThreadState *ts = PyEval_SaveThread();
    ppx_done *all = ppx_doneq_take(&self->q, timeout);
    PyEval_RestoreThread(ts);
    PyObject *list = PyList_New(0);
    while (all) {
        ppx_done *next = all->next;
        PyObject *o = done_outcome(all);
        if (list && (!o || PyList_Append(list, o) < 0)) Py_CLEAR(list);
        Py_XDECREF(o);
        all = next;
    }
    return list;
}

/* post(token, obj): queues obj for next_done() behind what is there. */
static PyObject *engine_post(ppx_engine *self, PyObject *args)
{
    long long token;
    PyObject *obj;
    if (!PyArg_ParseTuple(args, "LO", &token, &obj)) return NULL;
    ppx_done *d = PyMem_RawCalloc(1, sizeof *d);
    if (!d) return PyErr_NoMemory();
    d->token = token;
    Py_INCREF(obj);
    d->obj = obj;
    ppx_doneq_push(&self->q, d);
    Py_RETURN_NONE;
}

static PyObject *engine_imap(ppx_engine *self, PyObject *args)
{
    PyObject *feeder;
    int ordered;
    if (!PyArg_ParseTuple(args, "Op", &feeder, &ordered) || need_pool(self)) return NULL;
    return ppx_iter_new(self, feeder, ordered);
}

/* close(), join(), terminate(): the C calls, without the GIL. */
static PyObject *lifecycle(ppx_engine *self, int (*call)(ppool *))
{
    if (ppx_reentry(self->pool)) return NULL;
    if (!self->pool) Py_RETURN_NONE;
    int rc;
    char msg[512] = "";
    ppool *p = self->pool;
    PyThreadState *ts = PyEval_SaveThread();
    rc = call(p);
    if (rc) snprintf(msg, sizeof msg, "%s", ppool_errmsg(p));
    PyEval_RestoreThread(ts);
    if (rc) return ppx_raise(rc, msg);
    Py_RETURN_NONE;
}

static PyObject *engine_close(ppx_engine *self, PyObject *unused)
{
    return lifecycle(self, ppool_close);
}

static PyObject *engine_join(ppx_engine *self, PyObject *unused)
{
    return lifecycle(self, ppool_join);
}

static PyObject *engine_terminate(ppx_engine *self, PyObject *unused)
{
    return lifecycle(self, ppool_terminate);
}

/* free(): terminates if running and releases the pool (next_done still works). */
static PyObject *engine_free(ppx_engine *self, PyObject *unused)
{
    release_pool(self);
    Py_RETURN_NONE;
}

static PyObject *engine_get_size(ppx_engine *self, void *c)
{
    return PyLong_FromLong(self->size);
}

static PyObject *engine_get_transport(ppx_engine *self, void *c)
{
    return PyUnicode_FromString(self->transport);
}

static PyMethodDef engine_methods[] = {
    {"submit", (PyCFunction)engine_submit, METH_VARARGS, "submit(item, token): apply_async"},
    {"map", (PyCFunction)engine_map, METH_O, "map(items): outcomes, blocking without the GIL"},
    {"imap", (PyCFunction)engine_imap, METH_VARARGS, "imap(feeder, ordered): an Iter"},
    {"next_done", (PyCFunction)engine_next_done, METH_O, "next_done(timeout): finished results"},
    {"post", (PyCFunction)engine_post, METH_VARARGS, "post(token, obj): queue obj for next_done"},
    {"close", (PyCFunction)engine_close, METH_NOARGS, "ppool_close"},
    {"join", (PyCFunction)engine_join, METH_NOARGS, "ppool_join"},
    {"terminate", (PyCFunction)engine_terminate, METH_NOARGS, "ppool_terminate"},
    {"free", (PyCFunction)engine_free, METH_NOARGS, "ppool_free"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef engine_getset[] = {
    {"size", (getter)engine_get_size, NULL, "number of workers", NULL},
    {"transport", (getter)engine_get_transport, NULL, "'local' or 'mpi'", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject ppx_EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "ppool._ppool.Engine",
    .tp_basicsize = sizeof(ppx_engine),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One ppool (internal: see ppool.Pool).",
    .tp_new = engine_new,
    .tp_init = (initproc)engine_init,
    .tp_dealloc = (destructor)engine_dealloc,
    .tp_methods = engine_methods,
    .tp_getset = engine_getset,
};
