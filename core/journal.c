/* journal.c: the master's record of finished items (opts.journal): read at open, appended in
 * batches. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "ppool.pb-c.h"
#include "ppool_impl.h"

/* On disk: a 16-byte header, then records [u32 LE length][u32 LE length ^
 * LEN_MAGIC][u64 LE XXH3-64 of the record][packed Ppool__JournalRecord]: a
 * damaged length is told from a record cut short by a kill. */
#define MAGIC      "PPOOLJNL"
#define HEADER     16
#define REC_HEAD   16
#define LEN_MAGIC  0x4a6e6c50u
#define VERSION    1u
#define MAX_RECORD (PPOOL__MAX_ITEM + 4096u)

struct ppool__journal {
    int fd;
    char *path;
    int keep_failed;       /* PPOOL_JOURNAL_FAILED=keep: failed records are served too */
    ppool__jentry **table; /* open addressing, cap a power of two */
    size_t cap, n;
    char *wbuf; /* records not written yet */
    size_t wlen, wcap;
    double written; /* when the buffer last went out */
    size_t served, recorded;
};

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

ppool__jkey ppool__journal_key(const char *fn, const void *item, size_t len)
{
    XXH3_state_t st;
    XXH3_128bits_reset(&st);
    XXH3_128bits_update(&st, fn, strlen(fn) + 1);
    if (len) XXH3_128bits_update(&st, item, len);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
    ppool__jkey k;
    memcpy(k.b, c.digest, sizeof k.b);
    return k;
}

static size_t slot_of(const ppool__journal *jn, const ppool__jkey *k)
{
    return (size_t)get_le(k->b, 8) & (jn->cap - 1);
}

static int table_grow(ppool__journal *jn)
{
    size_t cap = jn->cap ? 2 * jn->cap : 1024;
    ppool__jentry **t = calloc(cap, sizeof *t), **old = jn->table;
    if (!t) return PPOOL_ENOMEM;
    size_t oldcap = jn->cap;
    jn->table = t;
    jn->cap = cap;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i]) continue;
        size_t s = slot_of(jn, &old[i]->key);
        while (t[s]) s = (s + 1) & (cap - 1);
        t[s] = old[i];
    }
    free(old);
    return 0;
}

/* Keeps a recorded outcome (a later record of the same key replaces it). */
static int table_put(ppool__journal *jn, ppool__jentry *e)
{
    if ((jn->n + 1) * 2 > jn->cap && table_grow(jn)) return PPOOL_ENOMEM;
    size_t s = slot_of(jn, &e->key);
    while (jn->table[s] && memcmp(jn->table[s]->key.b, e->key.b, sizeof e->key.b) != 0)
        s = (s + 1) & (jn->cap - 1);
    if (jn->table[s]) {
        free(jn->table[s]);
    } else {
        jn->n++;
    }
    jn->table[s] = e;
    return 0;
}

const ppool__jentry *ppool__journal_find(ppool__journal *jn, const ppool__jkey *k)
{
    if (!jn->n) return NULL;
    for (size_t s = slot_of(jn, k); jn->table[s]; s = (s + 1) & (jn->cap - 1)) {
        ppool__jentry *e = jn->table[s];
        if (memcmp(e->key.b, k->b, sizeof k->b) == 0) {
            if (e->status && !jn->keep_failed) return NULL; /* failed: run again */
            jn->served++;
            return e;
        }
    }
    return NULL;
}

/* One record read back: into the table. PPOOL_EPROTO if it does not unpack. */
static int load_record(ppool__journal *jn, const unsigned char *p, size_t len)
{
    Ppool__JournalRecord *r = ppool__journal_record__unpack(NULL, len, p);
    if (!r || r->key.len != sizeof(ppool__jkey)) {
        if (r) ppool__journal_record__free_unpacked(r, NULL);
        return PPOOL_EPROTO;
    }
    size_t elen = r->error ? strlen(r->error) + 1 : 1;
    ppool__jentry *e = malloc(sizeof *e + r->result.len + elen);
    int rc = e ? 0 : PPOOL_ENOMEM;
    if (e) {
        memcpy(e->key.b, r->key.data, sizeof e->key.b);
        e->status = r->status;
        e->len = r->result.len;
        e->data = (char *)(e + 1);
        if (e->len) memcpy(e->data, r->result.data, e->len);
        e->err = e->data + e->len;
        memcpy(e->err, r->error ? r->error : "", elen);
        rc = table_put(jn, e);
        if (rc) free(e);
    }
    ppool__journal_record__free_unpacked(r, NULL);
    return rc;
}

/* Reads the whole file into memory (*buf malloc'd). */
static int slurp(int fd, unsigned char **buf, size_t *len)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0) return PPOOL_ESYS;
    *len = (size_t)sb.st_size;
    *buf = malloc(*len ? *len : 1);
    if (!*buf) return PPOOL_ENOMEM;
    for (size_t off = 0; off < *len;) {
        ssize_t r = pread(fd, *buf + off, *len - off, (off_t)off);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            free(*buf);
            return PPOOL_ESYS;
        }
        off += (size_t)r;
    }
    return 0;
}

/* Checks the header (writing one into an empty file). */
static int check_header(ppool__journal *jn, const unsigned char *b, size_t len)
{
    if (len == 0) {
        unsigned char h[HEADER] = MAGIC;
        put_le(h + 8, VERSION, 4);
        if (write(jn->fd, h, HEADER) != HEADER)
            return ppool__fail(NULL, PPOOL_ESYS, "journal %s: cannot write its header: %s",
                               jn->path, strerror(errno));
        return 0;
    }
    if (len < HEADER || memcmp(b, MAGIC, 8) != 0)
        return ppool__fail(NULL, PPOOL_EPROTO, "journal %s: not a ppool journal (offset 0)",
                           jn->path);
    uint32_t v = (uint32_t)get_le(b + 8, 4);
    if (v != VERSION)
        return ppool__fail(NULL, PPOOL_EPROTO,
                           "journal %s: written by journal version %u, this ppool reads version %u "
                           "(offset 8)",
                           jn->path, v, VERSION);
    return 0;
}

/* Reads every record; a torn last one (cut, or checksum wrong at the very
 * end) is cut off; damage before the end is PPOOL_EPROTO with its offset. */
static int load(ppool__journal *jn)
{
    unsigned char *b;
    size_t len, off = HEADER;
    int rc = slurp(jn->fd, &b, &len);
    if (rc)
        return ppool__fail(NULL, rc, "journal %s: cannot read it: %s", jn->path, strerror(errno));
    rc = check_header(jn, b, len);
    while (rc == 0 && len > HEADER && off < len) {
        size_t left = len - off, n = left < 8 ? 0 : (size_t)get_le(b + off, 4);
        int head = left >= 8 && (get_le(b + off + 4, 4) ^ LEN_MAGIC) == n && n <= MAX_RECORD;
        int whole = head && left >= REC_HEAD && n <= left - REC_HEAD;
        int good = whole && XXH3_64bits(b + off + REC_HEAD, n) == get_le(b + off + 8, 8);
        int torn = left < 8 || (head && (!whole || off + REC_HEAD + n == len));
        if (!good && torn) { /* cut short by a kill mid-write: the rest is dropped */
            ppool__debug("journal %s: torn last record at offset %zu cut off", jn->path, off);
            if (ftruncate(jn->fd, (off_t)off) != 0) rc = PPOOL_ESYS;
            break;
        }
        if (!good)
            rc = ppool__fail(NULL, PPOOL_EPROTO, "journal %s: record at offset %zu is damaged",
                             jn->path, off);
        else if ((rc = load_record(jn, b + off + REC_HEAD, n)) == PPOOL_EPROTO)
            ppool__fail(NULL, rc, "journal %s: record at offset %zu is not a journal record",
                        jn->path, off);
        else if (rc)
            ppool__fail(NULL, rc, "journal %s: out of memory reading it", jn->path);
        off += REC_HEAD + n;
    }
    free(b);
    return rc;
}

int ppool__journal_open(const char *path, ppool__journal **out)
{
    *out = NULL;
    ppool__journal *jn = calloc(1, sizeof *jn);
    if (!jn || !(jn->path = strdup(path))) {
        free(jn);
        return ppool__fail(NULL, PPOOL_ENOMEM, "out of memory for the journal");
    }
    const char *kf = getenv("PPOOL_JOURNAL_FAILED");
    jn->keep_failed = kf && strcmp(kf, "keep") == 0;
    jn->written = ppool__now();
    jn->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int rc = jn->fd < 0 ? ppool__fail(NULL, PPOOL_ESYS, "journal %s: cannot open it: %s", path,
                                      strerror(errno))
                        : load(jn);
    if (rc) {
        ppool__journal_close(jn);
        return rc;
    }
    ppool__debug("journal %s: %zu items recorded", path, jn->n);
    *out = jn;
    return 0;
}

void ppool__journal_add(ppool__journal *jn, const ppool__jkey *k, int status, const void *data,
                        size_t len, const char *err)
{
    Ppool__JournalRecord r = PPOOL__JOURNAL_RECORD__INIT;
    r.key.data = (uint8_t *)k->b;
    r.key.len = sizeof k->b;
    r.status = status;
    r.result.data = (uint8_t *)data;
    r.result.len = status ? 0 : len;
    r.error = (char *)(status && err ? err : "");
    size_t n = ppool__journal_record__get_packed_size(&r), need = jn->wlen + REC_HEAD + n;
    if (n > MAX_RECORD) return; /* cannot be read back: not kept */
    if (need > jn->wcap) {
        size_t cap = jn->wcap ? jn->wcap : 65536;
        while (cap < need) cap *= 2;
        char *w = realloc(jn->wbuf, cap);
        if (!w) return; /* not recorded: it runs again next time */
        jn->wbuf = w;
        jn->wcap = cap;
    }
    unsigned char *h = (unsigned char *)jn->wbuf + jn->wlen;
    ppool__journal_record__pack(&r, h + REC_HEAD);
    put_le(h, n, 4);
    put_le(h + 4, n ^ LEN_MAGIC, 4);
    put_le(h + 8, XXH3_64bits(h + REC_HEAD, n), 8);
    jn->wlen = need;
    jn->recorded++;
}

double ppool__journal_tick(ppool__journal *jn, double now, int force)
{
    if (!jn->wlen) return -1;
    double due = jn->written + PPOOL__JOURNAL_SECONDS;
    if (!force && now < due) return due - now;
    size_t off = 0;
    while (off < jn->wlen) { /* one write each time, unless the disk takes less */
        ssize_t w = write(jn->fd, jn->wbuf + off, jn->wlen - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            ppool__debug("journal %s: write failed (%s): %zu bytes not kept", jn->path,
                         strerror(errno), jn->wlen - off);
            break;
        }
        off += (size_t)w;
    }
    jn->wlen = 0;
    jn->written = now;
    return -1;
}

void ppool__journal_close(ppool__journal *jn)
{
    if (!jn) return;
    if (jn->fd >= 0) {
        ppool__journal_tick(jn, ppool__now(), 1);
        ppool__debug("journal %s: %zu served, %zu recorded", jn->path, jn->served, jn->recorded);
        close(jn->fd);
    }
    for (size_t i = 0; i < jn->cap; i++) free(jn->table[i]);
    free(jn->table);
    free(jn->wbuf);
    free(jn->path);
    free(jn);
}
