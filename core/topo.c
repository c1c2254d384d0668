/* topo.c: usable-core count and worker pinning plans, through hwloc (affinity and cgroup aware). */
#include <hwloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ppool_impl.h"
#include "topo.h"

static pthread_once_t topo_once = PTHREAD_ONCE_INIT;
static hwloc_topology_t topo; /* this machine, loaded once; NULL if hwloc failed */

static void topo_load(void)
{
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) < 0) return;
    if (hwloc_topology_load(t) < 0) {
        hwloc_topology_destroy(t);
        return;
    }
    topo = t;
}

static hwloc_topology_t machine(void)
{
    pthread_once(&topo_once, topo_load);
    return topo;
}

/* The PUs this process may run on: its binding within the allowed set. */
static hwloc_bitmap_t usable_set(hwloc_topology_t t, int real)
{
    hwloc_bitmap_t set = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(t));
    if (!set) return NULL;
    if (real) {
        hwloc_bitmap_t bound = hwloc_bitmap_alloc();
        if (bound && hwloc_get_cpubind(t, bound, HWLOC_CPUBIND_PROCESS) == 0 &&
            hwloc_bitmap_intersects(bound, set))
            hwloc_bitmap_and(set, set, bound);
        hwloc_bitmap_free(bound);
    }
    return set;
}

/* Objects of `type` that have at least one usable PU, in logical order. */
static int usable_objs(hwloc_topology_t t, hwloc_const_bitmap_t set, hwloc_obj_type_t type,
                       hwloc_obj_t **out)
{
    int total = hwloc_get_nbobjs_by_type(t, type);
    if (total <= 0) {
        *out = NULL;
        return 0;
    }
    hwloc_obj_t *objs = calloc((size_t)total, sizeof *objs);
    if (!objs) return PPOOL_ENOMEM;
    int n = 0;
    for (int i = 0; i < total; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(t, type, (unsigned)i);
        if (o && o->cpuset && hwloc_bitmap_intersects(o->cpuset, set)) objs[n++] = o;
    }
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

int ppool__topo_count(hwloc_topology_t t, int real)
{
    if (!t) return 1;
    hwloc_bitmap_t set = usable_set(t, real);
    if (!set) return 1;
    hwloc_obj_t *objs = NULL;
    int n = usable_objs(t, set, HWLOC_OBJ_CORE, &objs);
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

int ppool_cpu_count(void)
{
    return ppool__topo_count(machine(), 1);
}

int ppool__topo_plan_on(hwloc_topology_t t, int real, const char *bind, int workers, char ***sets,
                        char *err, size_t errlen)
{
    *sets = NULL;
    if (!bind || !*bind) bind = "auto";
    hwloc_obj_type_t type;
    if (strcmp(bind, "none") == 0)
        type = HWLOC_OBJ_TYPE_MAX;
    else if (strcmp(bind, "core") == 0 || strcmp(bind, "auto") == 0)
        type = HWLOC_OBJ_CORE;
    else if (strcmp(bind, "pu") == 0)
        type = HWLOC_OBJ_PU;
    else if (strcmp(bind, "numa") == 0)
        type = HWLOC_OBJ_NUMANODE;
    else {
        snprintf(err, errlen, "bind '%s' is not one of auto, core, pu, numa, none", bind);
        return PPOOL_EINVAL;
    }
    char **out = calloc((size_t)workers, sizeof *out);
    if (!out) return PPOOL_ENOMEM;
    int rc = 0;
    hwloc_bitmap_t set = NULL;
    hwloc_obj_t *objs = NULL;
    int n = 0;
    if (t && type != HWLOC_OBJ_TYPE_MAX) {
        set = usable_set(t, real);
        if (!set)
            rc = PPOOL_ENOMEM;
        else if (type == HWLOC_OBJ_NUMANODE) {
            /* NUMA nodes are memory children: walk their cpusets. */
            int total = hwloc_get_nbobjs_by_type(t, type);
            objs = calloc(total > 0 ? (size_t)total : 1, sizeof *objs);
            for (int i = 0; objs && i < total; i++) {
                hwloc_obj_t o = hwloc_get_obj_by_type(t, type, (unsigned)i);
                if (o && o->cpuset && hwloc_bitmap_intersects(o->cpuset, set)) objs[n++] = o;
            }
            if (!objs) rc = PPOOL_ENOMEM;
        } else {
            n = usable_objs(t, set, type, &objs);
            if (n < 0) rc = n;
        }
        /* auto pins only when every worker gets a core of its own. */
        if (strcmp(bind, "auto") == 0 && workers > n) n = 0;
    }
    for (int i = 0; rc == 0 && i < workers; i++) {
        if (n <= 0) {
            out[i] = strdup("");
        } else {
            /* Spread evenly when there are more objects than workers. */
            int k = workers <= n ? (int)((long long)i * n / workers) : i % n;
            hwloc_bitmap_t s = hwloc_bitmap_dup(objs[k]->cpuset);
            if (s) {
                hwloc_bitmap_and(s, s, set);
                hwloc_bitmap_list_asprintf(&out[i], s);
                hwloc_bitmap_free(s);
            }
        }
        if (!out[i]) rc = PPOOL_ENOMEM;
    }
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

int ppool__topo_plan(const char *bind, int workers, char ***sets, char *err, size_t errlen)
{
    return ppool__topo_plan_on(machine(), 1, bind, workers, sets, err, errlen);
}

void ppool__topo_plan_free(char **sets, int workers)
{
    if (!sets) return;
    for (int i = 0; i < workers; i++) free(sets[i]);
    free(sets);
}

int ppool__topo_bind(const char *list)
{
    hwloc_topology_t t = machine();
    if (!t || !list || !*list) return 0;
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    if (!s) return PPOOL_ENOMEM;
    int rc = 0;
    if (hwloc_bitmap_list_sscanf(s, list) < 0 || hwloc_set_cpubind(t, s, HWLOC_CPUBIND_PROCESS) < 0)
        rc = PPOOL_ESYS;
    hwloc_bitmap_free(s);
    return rc;
}

char *ppool__topo_current(void)
{
    hwloc_topology_t t = machine();
    char *str = NULL;
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    if (t && s && hwloc_get_cpubind(t, s, HWLOC_CPUBIND_PROCESS) == 0)
        hwloc_bitmap_list_asprintf(&str, s);
    hwloc_bitmap_free(s);
    return str ? str : strdup("");
}
