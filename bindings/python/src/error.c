/* error.c: _ppool.EngineError, the exception every engine failure raises (code, message). */
#include "ext.h"

PyObject *ppx_EngineError;

PyObject *ppx_raise(int code, const char *msg)
{
    PyObject *v = Py_BuildValue("(is)", code, msg && *msg ? msg : ppool_strerror(code));
    if (v) {
        PyErr_SetObject(ppx_EngineError, v);
        Py_DECREF(v);
    }
    return NULL;
}
