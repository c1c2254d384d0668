/* failed.c: which items of a map failed: ranges recorded per job, kept per thread after a blocking
 * map. */
#include <stdlib.h>
#include <string.h>

#include "ppool_impl.h"

void ppool__failed_add(ppool__job *j, size_t first, size_t count, int status)
{
    if (!count || j->kind == JOB_APPLY || j->kind >= JOB_ITER) return; /* those report inline */
    if (j->kind == JOB_MAP && j->out && j->out_size) /* a failed item's output is zeroed */
        memset(j->out + first * j->out_size, 0, count * j->out_size);
    ppool__frange *last = j->nfails ? &j->fails[j->nfails - 1] : NULL;
    if (last && last->status == status && last->first + last->count == first) {
        last->count += count;
        return;
    }
    if (j->nfails == j->capfails) {
        size_t cap = j->capfails ? 2 * j->capfails : 8;
        ppool__frange *f = realloc(j->fails, cap * sizeof *f);
        if (!f) { /* the count stays right in the job's status; the list is best effort */
            j->fails_lost += count;
            return;
        }
        j->fails = f;
        j->capfails = cap;
    }
    j->fails[j->nfails++] = (ppool__frange){first, count, status};
}

static int by_first(const void *a, const void *b)
{
    const ppool__frange *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Counts the failed items of `f` and lists the first `cap` of them, lowest index first. */
static size_t report(ppool__frange *f, size_t n, size_t lost, size_t *index, int *status,
                     size_t cap)
{
    if (n) qsort(f, n, sizeof *f, by_first);
    size_t total = lost, k = 0;
    for (size_t i = 0; i < n; i++) {
        total += f[i].count;
        for (size_t e = 0; e < f[i].count && k < cap; e++, k++) {
            if (index) index[k] = f[i].first + e;
            if (status) status[k] = f[i].status;
        }
    }
    return total;
}

/* ---------- the calling thread's last blocking map ---------- */

typedef struct last_map {
    const ppool *pool;
    ppool__frange *fails;
    size_t nfails, lost;
} last_map;

static pthread_key_t last_key;
static pthread_once_t last_once = PTHREAD_ONCE_INIT;

static void last_free(void *v)
{
    last_map *l = v;
    if (l) free(l->fails);
    free(l);
}

static void last_init(void)
{
    pthread_key_create(&last_key, last_free);
}

void ppool__failed_keep(const ppool *p, ppool__job *j)
{
    pthread_once(&last_once, last_init);
    last_map *l = pthread_getspecific(last_key);
    if (!l && !j->nfails && !j->fails_lost) return; /* nothing failed, nothing kept */
    if (!l && !(l = calloc(1, sizeof *l))) return;
    free(l->fails);
    *l = (last_map){p, j->fails, j->nfails, j->fails_lost};
    j->fails = NULL;
    j->nfails = j->capfails = 0;
    pthread_setspecific(last_key, l);
}

size_t ppool_map_failed(const ppool *p, size_t *index, int *status, size_t cap)
{
    pthread_once(&last_once, last_init);
    last_map *l = pthread_getspecific(last_key);
    if (!p || !l || l->pool != p) return 0;
    return report(l->fails, l->nfails, l->lost, index, status, cap);
}

size_t ppool__failed_report(ppool__job *j, size_t *index, int *status, size_t cap)
{
    return report(j->fails, j->nfails, j->fails_lost, index, status, cap);
}
