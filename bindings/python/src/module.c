/* module.c: the _ppool extension module: registration at import, helpers, an MPI rank's serving. */
#include "ext.h"

static PyObject *mod_cpu_count(PyObject *m, PyObject *unused)
{
    return PyLong_FromLong(ppool_cpu_count());
}

static PyObject *mod_version(PyObject *m, PyObject *unused)
{
    return PyUnicode_FromString(ppool_version());
}

static PyObject *mod_strerror(PyObject *m, PyObject *arg)
{
    int code = (int)PyLong_AsLong(arg);
    if (code == -1 && PyErr_Occurred()) return NULL;
    return PyUnicode_FromString(ppool_strerror(code));
}

/* serve(): on an MPI worker rank, serves one pool of the master's inside
 * ppool_open, holding the GIL (the tasks run Python on this thread). True
 * when that pool told this rank to stop serving, False otherwise;
 * EngineError if the open failed or this process turned out the master. */
static PyObject *mod_serve(PyObject *m, PyObject *unused)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    ppool *p = NULL;
    int rc = ppool_open(&p, &o);
    if (rc == PPOOL_WORKER) return PyBool_FromLong(ppx_task_take_stop());
    if (rc == 0) {
        PyThreadState *ts = PyEval_SaveThread();
        ppool_free(p);
        PyEval_RestoreThread(ts);
        return ppx_raise(0, "serve(): this process is the pool's master, not a worker rank");
    }
    return ppx_raise(rc, ppool_errmsg(NULL));
}

/* stop_workers(): on rank 0, opens and frees a pool whose initializer tells
 * every worker rank to leave its serve() loop. */
static PyObject *mod_stop_workers(PyObject *m, PyObject *unused)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.initializer = PPX_INIT;
    o.initarg = PPX_STOP;
    o.initarg_len = PPX_STOP_LEN;
    ppool *p = NULL;
    ppx_task_note_master();
    int rc = ppool_open(&p, &o);
    if (rc) return ppx_raise(rc, ppool_errmsg(NULL));
    PyThreadState *ts = PyEval_SaveThread();
    ppool_close(p);
    ppool_join(p);
    ppool_free(p);
    PyEval_RestoreThread(ts);
    Py_RETURN_NONE;
}

static PyMethodDef mod_methods[] = {
    {"cpu_count", mod_cpu_count, METH_NOARGS, "ppool_cpu_count(): usable cores"},
    {"version", mod_version, METH_NOARGS, "ppool_version()"},
    {"strerror", mod_strerror, METH_O, "ppool_strerror(code)"},
    {"serve", mod_serve, METH_NOARGS, "serve one pool on an MPI worker rank"},
    {"stop_workers", mod_stop_workers, METH_NOARGS, "tell MPI worker ranks to stop serving"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {
    PyModuleDef_HEAD_INIT, "ppool._ppool", "The C engine of ppool.Pool (internal).", -1,
    mod_methods,
};

/* Error codes and flags as module constants. */
static int add_constants(PyObject *m)
{
#define XX(name, val, msg)                                                                         \
    if (PyModule_AddIntConstant(m, #name, val) < 0) return -1;
    PPOOL_ERRNO_MAP(XX)
#undef XX
#ifdef PPOOL_PY_HAVE_MPI
    int mpi = 1;
#else
    int mpi = 0;
#endif
    if (PyModule_AddIntConstant(m, "HAVE_MPI", mpi) < 0) return -1;
    if (PyModule_AddIntConstant(m, "WORKER", PPOOL_WORKER) < 0) return -1;
    return PyModule_AddStringConstant(m, "TASK", PPX_TASK);
}

PyMODINIT_FUNC PyInit__ppool(void)
{
    if (PyType_Ready(&ppx_EngineType) < 0 || PyType_Ready(&ppx_IterType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (!m) return NULL;
    ppx_EngineError = PyErr_NewExceptionWithDoc("ppool._ppool.EngineError",
                                                "A ppool call failed: args are (code, message).",
                                                PyExc_RuntimeError, NULL);
    if (!ppx_EngineError || PyModule_AddObjectRef(m, "EngineError", ppx_EngineError) < 0 ||
        PyModule_AddObjectRef(m, "Engine", (PyObject *)&ppx_EngineType) < 0 ||
        PyModule_AddObjectRef(m, "Iter", (PyObject *)&ppx_IterType) < 0 || add_constants(m) < 0 ||
        ppx_task_register() < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
