/* registry.c: the process-wide table of named task functions and its frozen snapshots. */
#include <stdlib.h>
#include <string.h>

#include "ppool_impl.h"

typedef struct entry {
    char *name;
    ppool_fn fn;
} entry;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static entry *reg;
static size_t reg_n, reg_cap;

int ppool_register(const char *name, ppool_fn fn)
{
    if (!name || !fn)
        return ppool__fail(NULL, PPOOL_EINVAL, "ppool_register: NULL %s",
                           name ? "function" : "name");
    size_t l = strlen(name);
    if (l == 0 || l >= PPOOL__NAME_MAX)
        return ppool__fail(NULL, PPOOL_EINVAL,
                           "ppool_register: name '%.40s' must have 1 to %d bytes", name,
                           PPOOL__NAME_MAX - 1);
    int open = ppool__open_here();
    if (open)
        return ppool__fail(NULL, PPOOL_EINVAL,
                           "ppool_register('%s') after ppool_open: %d open pool%s of this process "
                           "started %s workers without it; register every task before ppool_open",
                           name, open, open == 1 ? "" : "s", open == 1 ? "its" : "their");
    int rc = 0;
    pthread_mutex_lock(&reg_mu);
    for (size_t i = 0; i < reg_n; i++) {
        if (strcmp(reg[i].name, name) == 0) {
            rc =
                ppool__fail(NULL, PPOOL_EINVAL, "ppool_register: '%s' is already registered", name);
            goto out;
        }
    }
    if (reg_n == reg_cap) {
        size_t cap = reg_cap ? reg_cap * 2 : 16;
        entry *e = realloc(reg, cap * sizeof *e);
        if (!e) {
            rc = ppool__fail(NULL, PPOOL_ENOMEM, "ppool_register: out of memory");
            goto out;
        }
        reg = e;
        reg_cap = cap;
    }
    reg[reg_n].name = strdup(name);
    if (!reg[reg_n].name) {
        rc = ppool__fail(NULL, PPOOL_ENOMEM, "ppool_register: out of memory");
        goto out;
    }
    reg[reg_n++].fn = fn;
out:
    pthread_mutex_unlock(&reg_mu);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* FNV-1a over the sorted names, each with its terminating NUL. */
static uint64_t digest_of(char **names, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        for (const unsigned char *s = (const unsigned char *)names[i];; s++) {
            h = (h ^ *s) * 1099511628211ull;
            if (!*s) break;
        }
    return h;
}

int ppool__registry_snapshot(ppool__registry *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_lock(&reg_mu);
    size_t n = reg_n;
    entry *copy = malloc((n ? n : 1) * sizeof *copy);
    r->names = calloc(n ? n : 1, sizeof *r->names);
    r->fns = calloc(n ? n : 1, sizeof *r->fns);
    int ok = copy && r->names && r->fns;
    if (ok && n) memcpy(copy, reg, n * sizeof *copy);
    pthread_mutex_unlock(&reg_mu);
    if (!ok) {
        free(copy);
        ppool__registry_release(r);
        return PPOOL_ENOMEM;
    }
    qsort(copy, n, sizeof *copy, cmp_entry);
    for (size_t i = 0; i < n; i++) {
        r->names[i] = strdup(copy[i].name);
        r->fns[i] = copy[i].fn;
        if (!r->names[i]) ok = 0;
    }
    r->n = n;
    free(copy);
    if (!ok) {
        ppool__registry_release(r);
        return PPOOL_ENOMEM;
    }
    r->digest = digest_of(r->names, n);
    return 0;
}

void ppool__registry_release(ppool__registry *r)
{
    if (r->names)
        for (size_t i = 0; i < r->n; i++) free(r->names[i]);
    free(r->names);
    free(r->fns);
    memset(r, 0, sizeof *r);
}

ppool_fn ppool__registry_find(const ppool__registry *r, const char *name)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, r->names[mid]);
        if (c == 0) return r->fns[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
