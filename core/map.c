/* map.c: the blocking calls: ppool_map, ppool_map_bufs and ppool_apply. */
#include <stdlib.h>
#include <string.h>

#include "ppool_impl.h"

/* Submits a filled job (p->mu held), waits for it, takes its result (apply)
 * and releases it. The call holds a pool reference meanwhile, so a
 * ppool_free from another thread cannot pull the pool from under it. */
static int run_and_wait(ppool__job *j, ppool_buf *result)
{
    ppool *p = j->pool;
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
    ppool__job_submit(p, j);
    int rc = ppool__job_wait(j);
    if (result) {
        *result = j->result;
        j->result = (ppool_buf){0};
    }
    if (j->kind == JOB_APPLY) j->arg = NULL; /* borrowed */
    if (j->kind != JOB_APPLY) ppool__failed_keep(p, j);
    ppool__job_abandon(j);
    ppool__job_unref(j);
    pthread_mutex_unlock(&p->mu);
    ppool__pool_unref(p);
    return rc;
}

int ppool_map_chunked(ppool *p, const char *fn, const void *in, size_t n, size_t in_size, void *out,
                      size_t out_size, size_t chunksize)
{
    int rc = ppool__check_array(p, fn, in, n, in_size, out, out_size);
    if (rc == 0) rc = ppool__on_dispatcher(p, "ppool_map");
    if (rc) return rc;
    ppool__job *j = ppool__job_open(p, JOB_MAP, fn, &rc);
    if (!j) return rc;
    j->in = in;
    j->in_size = in_size;
    j->n = n;
    j->out = out;
    j->out_size = out_size;
    if (chunksize) j->chunksize = chunksize;
    return run_and_wait(j, NULL);
}

int ppool_map(ppool *p, const char *fn, const void *in, size_t n, size_t in_size, void *out,
              size_t out_size)
{
    return ppool_map_chunked(p, fn, in, n, in_size, out, out_size, 0);
}

int ppool_map_bufs_chunked(ppool *p, const char *fn, const ppool_buf *in, size_t n, ppool_buf *out,
                           size_t chunksize)
{
    int rc = ppool__check_array(p, fn, in, n, sizeof *in, out, sizeof *out);
    if (rc == 0) rc = ppool__on_dispatcher(p, "ppool_map_bufs");
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].data && in[i].len)
            return ppool__fail(p, PPOOL_EINVAL, "'%s': item %zu has NULL data and %zu bytes", fn, i,
                               in[i].len);
        if (ppool__check_item_size(p, fn, i, in[i].len)) return PPOOL_EINVAL;
    }
    for (size_t i = 0; i < n; i++) out[i] = (ppool_buf){0};
    ppool__job *j = ppool__job_open(p, JOB_BUFS, fn, &rc);
    if (!j) return rc;
    j->inb = in;
    j->n = n;
    j->outb = out;
    if (chunksize) j->chunksize = chunksize;
    return run_and_wait(j, NULL);
}

int ppool_map_bufs(ppool *p, const char *fn, const ppool_buf *in, size_t n, ppool_buf *out)
{
    return ppool_map_bufs_chunked(p, fn, in, n, out, 0);
}
int ppool_apply(ppool *p, const char *fn, const void *arg, size_t len, ppool_buf *out)
{
    if (out) *out = (ppool_buf){0};
    int rc = ppool__check_arg(p, fn, arg, len);
    if (rc == 0) rc = ppool__on_dispatcher(p, "ppool_apply");
    if (rc) return rc;
    ppool__job *j = ppool__job_open(p, JOB_APPLY, fn, &rc);
    if (!j) return rc;
    j->arg = (void *)arg; /* borrowed: this call waits */
    j->arg_len = len;
    j->n = 1;
    return run_and_wait(j, out);
}
