/* error.c: the error table, per-thread error messages, debug output and small helpers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ppool_impl.h"

/* The calling thread's last message and the pool it is about. */
static __thread char tl_msg[PPOOL__ERRMSG];
static __thread const ppool *tl_pool;

const char *ppool_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define XX(name, val, msg)                                                                         \
    case val:                                                                                      \
        return msg;
        PPOOL_ERRNO_MAP(XX)
#undef XX
    default:
        return "unknown error";
    }
}

const char *ppool_errname(int err)
{
    switch (err) {
    case 0:
        return "PPOOL_OK";
#define XX(name, val, msg)                                                                         \
    case val:                                                                                      \
        return "PPOOL_" #name;
        PPOOL_ERRNO_MAP(XX)
#undef XX
    default:
        return "PPOOL_EUNKNOWN";
    }
}

/* Records the calling thread's message about p; `keep` also copies it into
 * the pool, for other threads (a torn read there is only text). */
static int vfail(const ppool *p, int keep, int err, const char *fmt, va_list ap)
{
    vsnprintf(tl_msg, sizeof tl_msg, fmt, ap);
    tl_pool = p;
    if (p && keep) ppool__strlcpy(((ppool *)p)->errmsg, tl_msg, sizeof p->errmsg);
    ppool__debug("error %s: %s", ppool_errname(err), tl_msg);
    return err;
}

int ppool__fail(const ppool *p, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(p, 1, err, fmt, ap);
    va_end(ap);
    return err;
}

int ppool__fail_unowned(const ppool *p, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(p, 0, err, fmt, ap);
    va_end(ap);
    return err;
}

const char *ppool_errmsg(const ppool *p)
{
    /* NULL: this thread's last message ("" on a thread that never failed). */
    if (!p || (tl_pool == p && tl_msg[0])) return tl_msg;
    return p->errmsg;
}

void ppool__debug(const char *fmt, ...)
{
    static int level = -1;
    if (level < 0) {
        const char *e = getenv("PPOOL_DEBUG");
        level = (e && *e && strcmp(e, "0") != 0) ? 1 : 0;
    }
    if (!level) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ppool[%d]: %s\n", (int)getpid(), line);
}

void ppool__strlcpy(char *dst, const char *src, size_t n)
{
    if (!n) return;
    size_t l = strnlen(src, n - 1);
    memcpy(dst, src, l);
    dst[l] = 0;
}

void ppool_buf_free(ppool_buf *b)
{
    if (!b) return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

const char *ppool_version(void)
{
    return PPOOL_VERSION_STRING;
}
