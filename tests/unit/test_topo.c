/* test_topo.c: core counts and pinning plans on synthetic machines, and affinity awareness. */
#include <sched.h>

#include "harness.h"
#include "ppool_impl.h"
#include "topo.h"

static hwloc_topology_t synth(const char *desc)
{
    hwloc_topology_t t;
    ASSERT_EQ(hwloc_topology_init(&t), 0);
    if (hwloc_topology_set_synthetic(t, desc) != 0) H_FAIL("synthetic '%s' rejected", desc);
    ASSERT_EQ(hwloc_topology_load(t), 0);
    return t;
}

static void counts(void)
{
    hwloc_topology_t t = synth("pack:2 core:4 pu:2");
    ASSERT_EQ(ppool__topo_count(t, 0), 8); /* cores, not hardware threads */
    hwloc_topology_destroy(t);
    t = synth("pack:1 core:3 pu:1");
    ASSERT_EQ(ppool__topo_count(t, 0), 3);
    hwloc_topology_destroy(t);
}

static void plans(void)
{
    hwloc_topology_t t = synth("pack:2 core:4 pu:2");
    char **s, err[200];
    /* 2 workers on cores: one per package (spread), each a whole core (2 PUs) */
    ASSERT_EQ(ppool__topo_plan_on(t, 0, "core", 2, &s, err, sizeof err), 0);
    ASSERT_STREQ(s[0], "0-1");
    ASSERT_STREQ(s[1], "8-9");
    ppool__topo_plan_free(s, 2);
    /* 8 workers on cores: all different */
    ASSERT_EQ(ppool__topo_plan_on(t, 0, "auto", 8, &s, err, sizeof err), 0);
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < i; k++) ASSERT_TRUE(strcmp(s[i], s[k]) != 0);
    ppool__topo_plan_free(s, 8);
    /* more workers than cores: auto leaves them unbound, core wraps around */
    ASSERT_EQ(ppool__topo_plan_on(t, 0, "auto", 9, &s, err, sizeof err), 0);
    ASSERT_STREQ(s[8], "");
    ppool__topo_plan_free(s, 9);
    ASSERT_EQ(ppool__topo_plan_on(t, 0, "core", 9, &s, err, sizeof err), 0);
    ASSERT_STREQ(s[8], s[0]);
    ppool__topo_plan_free(s, 9);
    /* pu: one hardware thread each */
    ASSERT_EQ(ppool__topo_plan_on(t, 0, "pu", 16, &s, err, sizeof err), 0);
    ASSERT_STREQ(s[0], "0");
    ASSERT_STREQ(s[15], "15");
    ppool__topo_plan_free(s, 16);
    /* none */
    ASSERT_EQ(ppool__topo_plan_on(t, 0, "none", 3, &s, err, sizeof err), 0);
    ASSERT_STREQ(s[2], "");
    ppool__topo_plan_free(s, 3);
    /* a bad word names itself */
    ASSERT_EQ(ppool__topo_plan_on(t, 0, "cores", 2, &s, err, sizeof err), PPOOL_EINVAL);
    ASSERT_CONTAINS(err, "'cores'");
    hwloc_topology_destroy(t);
    /* numa: a node's whole cpuset */
    t = synth("pack:2 [numa] core:2 pu:1");
    ASSERT_EQ(ppool__topo_plan_on(t, 0, "numa", 2, &s, err, sizeof err), 0);
    ASSERT_STREQ(s[0], "0-1");
    ASSERT_STREQ(s[1], "2-3");
    ppool__topo_plan_free(s, 2);
    hwloc_topology_destroy(t);
}

/* The real count follows this process's affinity. */
static void affinity(void)
{
    int n = ppool_cpu_count();
    ASSERT_GE(n, 1);
    ASSERT_LE(n, sysconf(_SC_NPROCESSORS_ONLN));
    cpu_set_t old, one;
    ASSERT_EQ(sched_getaffinity(0, sizeof old, &old), 0);
    int first = -1;
    for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
        if (CPU_ISSET(i, &old)) first = i;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    ASSERT_EQ(ppool_cpu_count(), 1);
    ASSERT_EQ(sched_setaffinity(0, sizeof old, &old), 0);
    ASSERT_EQ(ppool_cpu_count(), n);
}

/* Writes root/sub/file (creating the folders). */
static void put(const char *root, const char *sub, const char *file, const char *text)
{
    char dir[600], cmd[700], path[700];
    snprintf(dir, sizeof dir, "%s%s", root, sub);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    ASSERT_NOT_NULL(f);
    fputs(text, f);
    fclose(f);
}

/* cgroup CPU quotas, v2 and v1, on a fake hierarchy. */
static void cgroup_quotas(void)
{
    char tmp[] = "/tmp/ppool-cgroup.XXXXXX", proc[300], v1[300], v2[300];
    ASSERT_NOT_NULL(mkdtemp(tmp));
    snprintf(proc, sizeof proc, "%s/proc-cgroup", tmp);
    snprintf(v1, sizeof v1, "%s/v1", tmp);
    snprintf(v2, sizeof v2, "%s/v2", tmp);
    /* v2: 1.5 CPUs in a/b, unlimited in a: 2 */
    put(tmp, "", "proc-cgroup", "0::/a/b\n");
    put(v2, "/a/b", "cpu.max", "150000 100000\n");
    put(v2, "/a", "cpu.max", "max 100000\n");
    ASSERT_EQ(ppool__cgroup_quota(proc, v2), 2);
    /* the parent's tighter quota wins */
    put(v2, "/a", "cpu.max", "50000 100000\n");
    ASSERT_EQ(ppool__cgroup_quota(proc, v2), 1);
    /* v1: cfs quota of 3 CPUs on the cpu controller */
    put(tmp, "", "proc-cgroup", "5:memory:/m\n4:cpu,cpuacct:/x\n0::/\n");
    put(v1, "/cpu/x", "cpu.cfs_quota_us", "300000\n");
    put(v1, "/cpu/x", "cpu.cfs_period_us", "100000\n");
    ASSERT_EQ(ppool__cgroup_quota(proc, v1), 3);
    /* no quota (-1) and no files: 0 */
    put(v1, "/cpu/x", "cpu.cfs_quota_us", "-1\n");
    ASSERT_EQ(ppool__cgroup_quota(proc, v1), 0);
    ASSERT_EQ(ppool__cgroup_quota("/nonexistent/cgroup", v1), 0);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    ASSERT_EQ(system(cmd), 0);
}

int main(void)
{
    RUN(counts);
    RUN(plans);
    RUN(affinity);
    RUN(cgroup_quotas);
    return 0;
}
