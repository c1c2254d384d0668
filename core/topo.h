/* topo.h: hwloc-facing entry points of topo.c, for the core and the unit tests (internal). */
#ifndef PPOOL_TOPO_H
#define PPOOL_TOPO_H

#include <hwloc.h>
#include <stddef.h>

/* Usable cores of topology t (real: also this process's binding and cgroup quota). */
int ppool__topo_count(hwloc_topology_t t, int real);
/* Pinning plan on topology t: per worker, a cpuset list string ("" unbound).
 * bind is auto|core|pu|numa|none; auto pins to cores only when each worker
 * gets its own. PPOOL_EINVAL for another word. */
int ppool__topo_plan_on(hwloc_topology_t t, int real, const char *bind, int workers, char ***sets,
                        char *err, size_t errlen);

/* CPUs granted by a cgroup CPU quota, rounded up: cgroup v2 cpu.max or v1
 * cpu.cfs_quota_us / cpu.cfs_period_us, the tightest from the process's
 * cgroup (read from proc_cgroup) up to the root of the hierarchy mounted at
 * root. 0 if there is no quota. */
int ppool__cgroup_quota(const char *proc_cgroup, const char *root);

#endif
