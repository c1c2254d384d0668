/* frames.c: the local transport's framing: checked headers, whole writes, a reader that reads
 * ahead.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "local.h"

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* 1 when len bytes were read, 0 at EOF before any, < 0 on error or a torn read. */
static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, p + got, len - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) return got ? -EPIPE : 0;
        got += (size_t)r;
    }
    return 1;
}

static void put32(unsigned char *h, uint32_t v)
{
    for (int i = 0; i < 4; i++) h[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *h)
{
    return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
}

void ppool__frame_hdr_put(unsigned char h[PPOOL__FRAME_HDR], size_t len)
{
    put32(h, (uint32_t)len);
    put32(h + 4, (uint32_t)len ^ PPOOL__FRAME_MAGIC);
}

long long ppool__frame_hdr_get(const unsigned char h[PPOOL__FRAME_HDR])
{
    uint32_t l = get32(h);
    return (get32(h + 4) ^ PPOOL__FRAME_MAGIC) == l ? (long long)l : -1;
}

int ppool__write_frame(int fd, const void *frame, size_t len)
{
    unsigned char h[PPOOL__FRAME_HDR];
    ppool__frame_hdr_put(h, len);
    struct iovec iov[2] = {{h, sizeof h}, {(void *)frame, len}};
    ssize_t w; /* one system call for both, most of the time */
    while ((w = writev(fd, iov, len ? 2 : 1)) < 0 && errno == EINTR) {
    }
    if (w < 0) return -errno;
    size_t done = (size_t)w;
    if (done < sizeof h) {
        int rc = write_all(fd, h + done, sizeof h - done);
        return rc ? rc : write_all(fd, frame, len);
    }
    return write_all(fd, (const char *)frame + (done - sizeof h), len - (done - sizeof h));
}

int ppool__read_frame(int fd, void **frame, size_t *len, size_t max)
{
    unsigned char h[PPOOL__FRAME_HDR];
    int rc = read_all(fd, h, sizeof h);
    if (rc <= 0) return rc;
    long long hl = ppool__frame_hdr_get(h);
    if (hl < 0) return -EPROTO;
    size_t l = (size_t)hl;
    if (l > max) return -EMSGSIZE;
    void *f = malloc(l ? l : 1);
    if (!f) return -ENOMEM;
    rc = read_all(fd, f, l);
    if (l && rc <= 0) {
        free(f);
        return rc < 0 ? rc : -EPIPE;
    }
    *frame = f;
    *len = l;
    return 1;
}

/* Moves read-ahead bytes into the frame being assembled: PPOOL__FIN_FRAME once
 * one is whole, PPOOL__FIN_AGAIN when the read-ahead ran out first, < 0 for a
 * bad header. */
static int assemble(ppool__frame_in *in, size_t max, void **frame, size_t *len)
{
    while (in->pos < in->end || (in->hdr_got == PPOOL__FRAME_HDR && in->body_got == in->body_len)) {
        if (in->hdr_got < PPOOL__FRAME_HDR) {
            size_t k = PPOOL__FRAME_HDR - in->hdr_got, have = in->end - in->pos;
            if (k > have) k = have;
            memcpy(in->hdr + in->hdr_got, in->ahead + in->pos, k);
            in->pos += k;
            in->hdr_got += k;
            if (in->hdr_got < PPOOL__FRAME_HDR) break;
            long long l = ppool__frame_hdr_get(in->hdr);
            if (l < 0) return -EPROTO;
            if ((size_t)l > max) return -EMSGSIZE;
            in->body_len = (size_t)l;
            in->body_got = 0;
            if (!(in->body = malloc(in->body_len ? in->body_len : 1))) return -ENOMEM;
        }
        size_t k = in->body_len - in->body_got, have = in->end - in->pos;
        if (k > have) k = have;
        memcpy(in->body + in->body_got, in->ahead + in->pos, k);
        in->pos += k;
        in->body_got += k;
        if (in->body_got < in->body_len) break;
        *frame = in->body;
        *len = in->body_len;
        in->body = NULL;
        in->hdr_got = in->body_len = in->body_got = 0;
        return PPOOL__FIN_FRAME;
    }
    return PPOOL__FIN_AGAIN;
}

int ppool__frame_next(ppool__frame_in *in, int fd, size_t max, int may_read, void **frame,
                      size_t *len)
{
    in->read_short = 0;
    for (;;) {
        int rc = assemble(in, max, frame, len);
        if (rc != PPOOL__FIN_AGAIN || !may_read) return rc;
        size_t want;
        ssize_t r;
        int direct = in->hdr_got == PPOOL__FRAME_HDR &&
                     in->body_len - in->body_got >= PPOOL__READ_AHEAD; /* big: no copy */
        if (direct) {
            want = in->body_len - in->body_got;
            r = read(fd, in->body + in->body_got, want);
        } else {
            if (!in->ahead && !(in->ahead = malloc(PPOOL__READ_AHEAD))) return -ENOMEM;
            want = PPOOL__READ_AHEAD;
            r = read(fd, in->ahead, want);
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EAGAIN) {
            in->read_short = 1;
            return PPOOL__FIN_AGAIN;
        }
        if (r < 0) return -errno;
        if (r == 0) return in->hdr_got ? -EPIPE : PPOOL__FIN_EOF;
        in->read_short = (size_t)r < want;
        if (direct) {
            in->body_got += (size_t)r;
        } else {
            in->pos = 0;
            in->end = (size_t)r;
        }
        may_read = 0; /* once: what it read is assembled, then the caller decides */
    }
}

void ppool__frame_in_clear(ppool__frame_in *in)
{
    free(in->ahead);
    free(in->body);
    memset(in, 0, sizeof *in);
}
