/* arena.c: the local transport's shared-memory rings, one per worker, that carry large frames in
 * one copy. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "local.h"

#define PAGE  4096u
#define ALIGN 64u /* a frame starts on a cache line: its bulk keeps the 16-byte alignment */

/* A slot's region: a page holding the worker's released word, then the ring. */
static volatile uint64_t *released_word(const ppool__arena *a, int slot)
{
    return (volatile uint64_t *)(a->base + (size_t)slot * a->slot_bytes);
}

static unsigned char *ring(const ppool__arena *a, int slot)
{
    return a->base + (size_t)slot * a->slot_bytes + PAGE;
}

static size_t ring_bytes(const ppool__arena *a)
{
    return a->slot_bytes - PAGE;
}

void ppool__arena_map(ppool__arena *a, int n)
{
    *a = (ppool__arena){.fd = -1};
    size_t per = PPOOL__ARENA_SLOT_BYTES;
    while (n > 0 && per > PPOOL__ARENA_MIN_SLOT && per * (size_t)n > PPOOL__ARENA_TOTAL) per /= 2;
    if (n <= 0 || per * (size_t)n > PPOOL__ARENA_TOTAL) return; /* too many workers: sockets only */
    size_t bytes = per * (size_t)n;
    ppool__fd_lock();
    int fd = memfd_create("ppool-arena", MFD_CLOEXEC);
    if (fd >= 0) ppool__fd_track_locked(fd);
    ppool__fd_unlock();
    void *m = fd >= 0 && ftruncate(fd, (off_t)bytes) == 0
                  ? mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                  : MAP_FAILED;
    if (m == MAP_FAILED) {
        if (fd >= 0) {
            ppool__fd_untrack(fd);
            close(fd);
        }
        return;
    }
    madvise(m, bytes, MADV_DONTFORK); /* not in other pools' servers, nor the program's children */
    *a = (ppool__arena){.base = m, .slot_bytes = per, .n = n, .fd = fd};
}

void ppool__arena_attach(ppool__arena *a, const ppool__arena *master)
{
    *a = (ppool__arena){.fd = -1};
    if (!master->base) return;
    void *m = mmap(NULL, master->slot_bytes * (size_t)master->n, PROT_READ | PROT_WRITE, MAP_SHARED,
                   master->fd, 0);
    if (m != MAP_FAILED)
        *a = (ppool__arena){.base = m, .slot_bytes = master->slot_bytes, .n = master->n, .fd = -1};
}

void ppool__arena_confine(const ppool__arena *a, int slot)
{
    if (!a->base || slot < 0 || slot >= a->n) return;
    size_t before = (size_t)slot * a->slot_bytes, mine = before + a->slot_bytes;
    if (before) mprotect(a->base, before, PROT_NONE); /* two calls, however many workers */
    if (slot + 1 < a->n) mprotect(a->base + mine, a->slot_bytes * (size_t)a->n - mine, PROT_NONE);
}

void ppool__arena_unmap(ppool__arena *a)
{
    if (a->base) { /* a zeroed arena (no map) owns nothing, not even fd 0 */
        munmap(a->base, a->slot_bytes * (size_t)a->n);
        if (a->fd >= 0) {
            ppool__fd_untrack(a->fd);
            close(a->fd);
        }
    }
    *a = (ppool__arena){.fd = -1};
}

/* What of the ring the worker has let go: its released word, believed only
 * between what it could have released and what it was given. */
static uint64_t released(const ppool__arena *a, int slot, const ppool__ring *r)
{
    uint64_t rel = __atomic_load_n(released_word(a, slot), __ATOMIC_ACQUIRE);
    if (rel > r->pos) rel = r->floor; /* nonsense (a task wrote there): assume nothing */
    return rel > r->floor ? rel : r->floor;
}

unsigned char *ppool__arena_take(const ppool__arena *a, int slot, ppool__ring *r, size_t len,
                                 uint64_t *end)
{
    if (!a->base || slot < 0 || slot >= a->n || len == 0 || len > ring_bytes(a)) return NULL;
    size_t size = ring_bytes(a);
    uint64_t start = (r->pos + ALIGN - 1) / ALIGN * ALIGN;
    size_t off = (size_t)(start % size);
    if (off + len > size) { /* it does not fit before the end: it starts over at 0 */
        start += size - off;
        off = 0;
    }
    uint64_t rel = released(a, slot, r);
    if (rel == r->pos) rel = start;            /* empty: the gaps skipped are free too */
    if (start + len - rel > size) return NULL; /* the worker still reads there */
    r->pos = start + len;
    *end = r->pos;
    return ring(a, slot) + off;
}

void ppool__arena_restart(const ppool__arena *a, int slot, ppool__ring *r)
{
    r->floor = r->pos; /* a dead worker's frames are all let go; its late stores are ignored */
    if (a->base && slot >= 0 && slot < a->n)
        __atomic_store_n(released_word(a, slot), r->floor, __ATOMIC_RELEASE);
}

void ppool__arena_mark(unsigned char m[PPOOL__ARENA_MARK], uint64_t end, uint64_t len)
{
    const uint32_t w[2] = {UINT32_MAX, PPOOL__ARENA_MAGIC};
    memcpy(m, w, sizeof w);
    memcpy(m + 8, &end, sizeof end);
    memcpy(m + 16, &len, sizeof len);
}

int ppool__arena_frame(const ppool__arena *a, int slot, const void *frame, size_t len, void **data,
                       size_t *dlen, uint64_t *end)
{
    uint32_t w[2];
    if (len != PPOOL__ARENA_MARK) return 0;
    memcpy(w, frame, sizeof w);
    if (w[0] != UINT32_MAX || w[1] != PPOOL__ARENA_MAGIC) return 0; /* an ordinary frame */
    uint64_t e, l;
    memcpy(&e, (const char *)frame + 8, sizeof e);
    memcpy(&l, (const char *)frame + 16, sizeof l);
    if (!a || !a->base || slot < 0 || slot >= a->n) return -1;
    size_t size = ring_bytes(a);
    if (l == 0 || l > size || e < l || (e - l) % size + l > size) return -1;
    *data = ring(a, slot) + (size_t)((e - l) % size);
    *dlen = (size_t)l;
    *end = e;
    return 1;
}

void ppool__arena_release(const ppool__arena *a, int slot, uint64_t end)
{
    __atomic_store_n(released_word(a, slot), end, __ATOMIC_RELEASE);
}
