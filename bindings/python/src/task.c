/* task.c: the worker side: the registered task and initializer that run Python in a worker. */
#include <string.h>
#include <unistd.h>

#include "ext.h"

static pid_t master_pid;           /* the process that last opened a pool here (0: none) */
static int forked_ready;           /* PyOS_AfterFork_Child ran in this worker */
static int stop_seen;              /* an MPI worker rank ran the stop initializer */
static PyObject *run_fn, *init_fn; /* ppool._worker.run and .init */

void ppx_task_note_master(void)
{
    master_pid = getpid();
    forked_ready = 0; /* the workers about to be forked from here have not run it */
}

int ppx_task_take_stop(void)
{
    int s = stop_seen;
    stop_seen = 0;
    return s;
}

/* A forked worker (a child of the fork server, itself forked from the master
 * inside ppool_open while it held the GIL) holds the master's interpreter as
 * it was then: made whole once, as os.fork() does, before any Python runs.
 * MPI ranks and the master itself skip it. */
static void after_fork_once(void)
{
    if (forked_ready || master_pid == 0 || getpid() == master_pid) return;
    forked_ready = 1;
    PyOS_AfterFork_Child();
}

/* ppool._worker.<name>, looked up once per process; NULL with an exception. */
static PyObject *worker_fn(PyObject **cache, const char *name)
{
    if (*cache) return *cache;
    PyObject *mod = PyImport_ImportModule("ppool._worker");
    if (!mod) return NULL;
    *cache = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return *cache;
}

/* Fails the running item with the pending Python exception ("what: Type: text"). */
static int fail_with_exception(ppool_task *t, const char *what)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *s = value ? PyObject_Str(value) : NULL;
    const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
    const char *tname = type ? ((PyTypeObject *)type)->tp_name : "error";
    int rc = ppool_task_fail(t, "%s: %s: %s", what, tname, text ? text : "?");
    PyErr_Clear();
    Py_XDECREF(s);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return rc;
}

/* Calls fn(bytes of arg); a new reference, or NULL with an exception. */
static PyObject *call_on_bytes(PyObject *fn, const void *arg, size_t len)
{
    PyObject *b = PyBytes_FromStringAndSize(arg, (Py_ssize_t)len);
    if (!b) return NULL;
    PyObject *r = PyObject_CallOneArg(fn, b);
    Py_DECREF(b);
    return r;
}

/* PPX_TASK: one pickled call (see ppool/_worker.py); its result is the
 * pickled outcome, a task's own exception included. Fails only when Python
 * itself cannot go on (no memory, no ppool package). */
static int py_task(ppool_task *t, const void *arg, size_t len)
{
    after_fork_once();
    PyObject *fn = worker_fn(&run_fn, "run");
    PyObject *out = fn ? call_on_bytes(fn, arg, len) : NULL;
    if (!out) return fail_with_exception(t, "ppool worker");
    int rc = PyBytes_Check(out)
                 ? ppool_task_return(t, PyBytes_AS_STRING(out), (size_t)PyBytes_GET_SIZE(out))
                 : PPOOL_EINVAL;
    Py_DECREF(out);
    return rc ? ppool_task_fail(t, "ppool worker: cannot return the result (%s)",
                                ppool_strerror(rc))
              : 0;
}

/* PPX_INIT: makes a forked worker's Python whole, then runs the pool's
 * initializer (ppool._worker.init: None, or the failure as text). The stop
 * argument only marks an MPI worker rank as done. */
static int py_init(ppool_task *t, const void *arg, size_t len)
{
    after_fork_once();
    if (len == PPX_STOP_LEN && memcmp(arg, PPX_STOP, PPX_STOP_LEN) == 0) {
        stop_seen = 1;
        return 0;
    }
    PyObject *fn = worker_fn(&init_fn, "init");
    PyObject *out = fn ? call_on_bytes(fn, arg, len) : NULL;
    if (!out) return fail_with_exception(t, "initializer");
    int rc = 0;
    if (out != Py_None) {
        const char *text = PyUnicode_Check(out) ? PyUnicode_AsUTF8(out) : NULL;
        rc = ppool_task_fail(t, "%s", text ? text : "initializer failed");
        PyErr_Clear();
    }
    Py_DECREF(out);
    return rc;
}

int ppx_task_register(void)
{
    static const struct {
        const char *name;
        ppool_fn fn;
    } tasks[] = {{PPX_TASK, py_task}, {PPX_INIT, py_init}};
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++) {
        int rc = ppool_register(tasks[i].name, tasks[i].fn);
        if (rc && !strstr(ppool_errmsg(NULL), "already registered")) {
            ppx_raise(rc, ppool_errmsg(NULL));
            return -1;
        }
    }
    return 0;
}
