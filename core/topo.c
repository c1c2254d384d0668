/* topo.c: usable-core count and worker pinning plans, through hwloc (affinity and cgroup aware). */
#include <hwloc.h>
#include <hwloc/glibc-sched.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "ppool_impl.h"
#include "topo.h"

/* What ppool keeps of a machine: the allowed cpuset and the cpusets of its
 * cores, PUs and NUMA nodes in logical order, copied out of an hwloc topology.
 * The machine's own topology is destroyed once copied: hwloc loads plugins for
 * it (I/O, GL, OpenCL, XML: a hundred mappings) that every fork of the master,
 * fork server and workers would otherwise copy, and unloads them with it. */
enum { K_CORE, K_PU, K_NUMA, K_KINDS };
typedef struct machine_sets {
    hwloc_bitmap_t allowed;
    hwloc_bitmap_t *objs[K_KINDS];
    int n[K_KINDS];
} machine_sets;

static const hwloc_obj_type_t kind_type[K_KINDS] = {HWLOC_OBJ_CORE, HWLOC_OBJ_PU,
                                                    HWLOC_OBJ_NUMANODE};

static void sets_free(machine_sets *m)
{
    hwloc_bitmap_free(m->allowed);
    for (int k = 0; k < K_KINDS; k++) {
        for (int i = 0; i < m->n[k]; i++) hwloc_bitmap_free(m->objs[k][i]);
        free(m->objs[k]);
    }
    memset(m, 0, sizeof *m);
}

/* Copies t's sets into *m. 0, or PPOOL_ENOMEM (*m empty). */
static int sets_from(hwloc_topology_t t, machine_sets *m)
{
    memset(m, 0, sizeof *m);
    m->allowed = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(t));
    int rc = m->allowed ? 0 : PPOOL_ENOMEM;
    for (int k = 0; rc == 0 && k < K_KINDS; k++) {
        int total = hwloc_get_nbobjs_by_type(t, kind_type[k]);
        m->objs[k] = calloc(total > 0 ? (size_t)total : 1, sizeof *m->objs[k]);
        if (!m->objs[k]) rc = PPOOL_ENOMEM;
        for (int i = 0; rc == 0 && i < total; i++) {
            hwloc_obj_t o = hwloc_get_obj_by_type(t, kind_type[k], (unsigned)i);
            if (!o || !o->cpuset) continue;
            if (!(m->objs[k][m->n[k]] = hwloc_bitmap_dup(o->cpuset)))
                rc = PPOOL_ENOMEM;
            else
                m->n[k]++;
        }
    }
    if (rc) sets_free(m);
    return rc;
}

static pthread_once_t topo_once = PTHREAD_ONCE_INIT;
static machine_sets here; /* this machine, copied once */
static int here_ok;       /* 0 if hwloc failed: one core, no pinning */

static void topo_load(void)
{
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) < 0) return;
    hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_NONE); /* cores are enough */
    if (hwloc_topology_load(t) == 0) here_ok = sets_from(t, &here) == 0;
    hwloc_topology_destroy(t);
}

static const machine_sets *machine(void)
{
    pthread_once(&topo_once, topo_load);
    return here_ok ? &here : NULL;
}

/* The calling thread's binding (what the workers it forks inherit); NULL on failure. */
static hwloc_bitmap_t bound_now(void)
{
    cpu_set_t cs;
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    if (b && sched_getaffinity(0, sizeof cs, &cs) == 0 &&
        hwloc_cpuset_from_glibc_sched_affinity(NULL, b, &cs, sizeof cs) == 0)
        return b;
    hwloc_bitmap_free(b);
    return NULL;
}

/* The PUs this process may run on: its binding within the allowed set. */
static hwloc_bitmap_t usable_set(const machine_sets *m, int real)
{
    hwloc_bitmap_t set = hwloc_bitmap_dup(m->allowed);
    if (!set) return NULL;
    if (real) {
        hwloc_bitmap_t bound = bound_now();
        if (bound && hwloc_bitmap_intersects(bound, set)) hwloc_bitmap_and(set, set, bound);
        hwloc_bitmap_free(bound);
    }
    return set;
}

/* The sets of kind k that have at least one usable PU, in logical order
 * (borrowed from m). */
static int usable_objs(const machine_sets *m, hwloc_const_bitmap_t set, int k,
                       hwloc_const_bitmap_t **out)
{
    hwloc_const_bitmap_t *objs = calloc(m->n[k] > 0 ? (size_t)m->n[k] : 1, sizeof *objs);
    if (!objs) return PPOOL_ENOMEM;
    int n = 0;
    for (int i = 0; i < m->n[k]; i++)
        if (hwloc_bitmap_intersects(m->objs[k][i], set)) objs[n++] = m->objs[k][i];
    *out = objs;
    return n;
}

/* Exported (not public API) for ppoolrun --info, which reports it. */
__attribute__((visibility("default"))) int ppool__cgroup_quota(const char *proc_cgroup,
                                                               const char *root)
{
    FILE *f = fopen(proc_cgroup, "r");
    if (!f) return 0;
    char line[512], v2[400] = "", v1[400] = "";
    int have_v2 = 0, have_v1 = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "0::", 3) == 0) {
            ppool__strlcpy(v2, line + 3, sizeof v2);
            have_v2 = 1;
        } else {
            char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (c1 && c2 && (strstr(c1, "cpu,") || strstr(c1, ":cpu:") || strstr(c1, ",cpu:"))) {
                ppool__strlcpy(v1, c2 + 1, sizeof v1);
                have_v1 = 1;
            }
        }
    }
    fclose(f);
    double best = 0;
    char path[1024], dir[400];
    /* Walk from the process's cgroup up to the root: the tightest quota wins. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0 ? !have_v2 : !have_v1) continue;
        ppool__strlcpy(dir, pass == 0 ? v2 : v1, sizeof dir);
        for (;;) {
            long long quota = -1, period = 0;
            if (pass == 0) {
                snprintf(path, sizeof path, "%s%s/cpu.max", root, dir);
                FILE *q = fopen(path, "r");
                if (q) {
                    char qs[32] = "";
                    if (fscanf(q, "%31s %lld", qs, &period) == 2 && strcmp(qs, "max") != 0)
                        quota = atoll(qs);
                    fclose(q);
                }
            } else {
                snprintf(path, sizeof path, "%s/cpu%s/cpu.cfs_quota_us", root, dir);
                FILE *q = fopen(path, "r");
                if (q) {
                    if (fscanf(q, "%lld", &quota) != 1) quota = -1;
                    fclose(q);
                }
                snprintf(path, sizeof path, "%s/cpu%s/cpu.cfs_period_us", root, dir);
                q = fopen(path, "r");
                if (q) {
                    if (fscanf(q, "%lld", &period) != 1) period = 0;
                    fclose(q);
                }
            }
            if (quota > 0 && period > 0) {
                double c = (double)quota / (double)period;
                if (best == 0 || c < best) best = c;
            }
            char *slash = strrchr(dir, '/');
            if (!slash || dir[0] == 0 || (slash == dir && dir[1] == 0)) break;
            if (slash == dir)
                dir[1] = 0;
            else
                *slash = 0;
        }
    }
    if (best <= 0) return 0;
    int n = (int)ceil(best - 1e-9);
    return n < 1 ? 1 : n;
}

/* Usable cores of m (see ppool__topo_count). */
static int count_sets(const machine_sets *m, int real)
{
    if (!m) return 1;
    hwloc_bitmap_t set = usable_set(m, real);
    if (!set) return 1;
    hwloc_const_bitmap_t *objs = NULL;
    int n = usable_objs(m, set, K_CORE, &objs);
    free(objs);
    if (n <= 0) {
        n = hwloc_bitmap_weight(set);
        if (n <= 0) n = 1;
    }
    hwloc_bitmap_free(set);
    if (real) {
        int q = ppool__cgroup_quota("/proc/self/cgroup", "/sys/fs/cgroup");
        if (q > 0 && q < n) n = q;
    }
    return n;
}

int ppool__topo_count(hwloc_topology_t t, int real)
{
    machine_sets m;
    if (!t || sets_from(t, &m) != 0) return 1;
    int n = count_sets(&m, real);
    sets_free(&m);
    return n;
}

int ppool_cpu_count(void)
{
    return count_sets(machine(), 1);
}

/* The kind of object `bind` pins to: K_KINDS for none, -1 for a wrong word. */
static int bind_kind(const char *bind)
{
    if (strcmp(bind, "none") == 0) return K_KINDS;
    if (strcmp(bind, "core") == 0 || strcmp(bind, "auto") == 0) return K_CORE;
    if (strcmp(bind, "pu") == 0) return K_PU;
    if (strcmp(bind, "numa") == 0) return K_NUMA;
    return -1;
}

/* Per worker, the cpuset list of the object it is pinned to ("" unbound), from objs[0..n). */
static int plan_lists(hwloc_const_bitmap_t *objs, int n, hwloc_const_bitmap_t set, int workers,
                      char **out)
{
    for (int i = 0; i < workers; i++) {
        if (n <= 0) {
            out[i] = strdup("");
        } else {
            /* Spread evenly when there are more objects than workers. */
            int k = workers <= n ? (int)((long long)i * n / workers) : i % n;
            hwloc_bitmap_t s = hwloc_bitmap_dup(objs[k]);
            if (s) {
                hwloc_bitmap_and(s, s, set);
                hwloc_bitmap_list_asprintf(&out[i], s);
                hwloc_bitmap_free(s);
            }
        }
        if (!out[i]) return PPOOL_ENOMEM;
    }
    return 0;
}

/* The pinning plan on m (see ppool__topo_plan_on). */
static int plan_sets(const machine_sets *m, int real, const char *bind, int workers, char ***sets,
                     char *err, size_t errlen)
{
    *sets = NULL;
    if (!bind || !*bind) bind = "auto";
    int kind = bind_kind(bind);
    if (kind < 0) {
        snprintf(err, errlen, "bind '%s' is not one of auto, core, pu, numa, none", bind);
        return PPOOL_EINVAL;
    }
    char **out = calloc((size_t)workers, sizeof *out);
    if (!out) return PPOOL_ENOMEM;
    int rc = 0, n = 0;
    hwloc_bitmap_t set = NULL;
    hwloc_const_bitmap_t *objs = NULL;
    if (m && kind != K_KINDS) {
        set = usable_set(m, real);
        n = set ? usable_objs(m, set, kind, &objs) : PPOOL_ENOMEM;
        if (n < 0) rc = n;
        /* auto pins only when every worker gets a core of its own. */
        if (strcmp(bind, "auto") == 0 && workers > n) n = 0;
    }
    if (rc == 0) rc = plan_lists(objs, n, set, workers, out);
    free(objs);
    hwloc_bitmap_free(set);
    if (rc) {
        ppool__topo_plan_free(out, workers);
        if (rc == PPOOL_ENOMEM) snprintf(err, errlen, "out of memory planning the binding");
        return rc;
    }
    *sets = out;
    return 0;
}

int ppool__topo_plan_on(hwloc_topology_t t, int real, const char *bind, int workers, char ***sets,
                        char *err, size_t errlen)
{
    machine_sets m;
    int have = t && sets_from(t, &m) == 0;
    int rc = plan_sets(have ? &m : NULL, real, bind, workers, sets, err, errlen);
    if (have) sets_free(&m);
    return rc;
}

int ppool__topo_plan(const char *bind, int workers, char ***sets, char *err, size_t errlen)
{
    return plan_sets(machine(), 1, bind, workers, sets, err, errlen);
}

void ppool__topo_plan_free(char **sets, int workers)
{
    if (!sets) return;
    for (int i = 0; i < workers; i++) free(sets[i]);
    free(sets);
}

int ppool__topo_bind(const char *list)
{
    if (!machine() || !list || !*list) return 0;
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    if (!s) return PPOOL_ENOMEM;
    cpu_set_t cs;
    int rc = 0;
    /* A worker binds right after its fork, with one thread: the process's binding. */
    if (hwloc_bitmap_list_sscanf(s, list) < 0 ||
        hwloc_cpuset_to_glibc_sched_affinity(NULL, s, &cs, sizeof cs) != 0 ||
        sched_setaffinity(0, sizeof cs, &cs) != 0)
        rc = PPOOL_ESYS;
    hwloc_bitmap_free(s);
    return rc;
}

char *ppool__topo_current(void)
{
    char *str = NULL;
    hwloc_bitmap_t s = bound_now();
    if (s) hwloc_bitmap_list_asprintf(&str, s);
    hwloc_bitmap_free(s);
    return str ? str : strdup("");
}
