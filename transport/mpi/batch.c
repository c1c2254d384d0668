/* batch.c: small frames the master sends a rank packed into one MPI message: [u32 LE
 * length][frame]... */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_impl.h"
#include "ppool.h"

int ppool__mpi_batch_add(ppool__mpi_batch *b, const void *frame, size_t len)
{
    size_t need = b->len + 4 + len;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < need) cap *= 2;
        char *buf = realloc(b->buf, cap);
        if (!buf) return PPOOL_ENOMEM;
        b->buf = buf;
        b->cap = cap;
    }
    for (int i = 0; i < 4; i++) b->buf[b->len + i] = (char)((uint32_t)len >> (8 * i));
    memcpy(b->buf + b->len + 4, frame, len);
    b->len = need;
    b->count++;
    return 0;
}

void *ppool__mpi_batch_take(ppool__mpi_batch *b, size_t *len)
{
    void *buf = b->buf;
    *len = b->len;
    *b = (ppool__mpi_batch){0};
    return buf;
}

void ppool__mpi_batch_clear(ppool__mpi_batch *b)
{
    free(b->buf);
    *b = (ppool__mpi_batch){0};
}

int ppool__mpi_batch_split(const void *msg, size_t len, ppool__mpi_batch_fn fn, void *user)
{
    const unsigned char *p = msg;
    size_t off = 0;
    while (off < len) {
        if (len - off < 4) return PPOOL_EPROTO;
        size_t n = 0;
        for (int i = 0; i < 4; i++) n |= (size_t)p[off + i] << (8 * i);
        off += 4;
        if (n == 0 || n > len - off) return PPOOL_EPROTO;
        void *frame = malloc(n); /* its own buffer: malloc's alignment, as a lone frame's */
        if (!frame) return PPOOL_ENOMEM;
        memcpy(frame, p + off, n);
        off += n;
        int rc = fn(user, frame, n);
        if (rc) return rc;
    }
    return 0;
}
