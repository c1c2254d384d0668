/* ppoolrun.c: runs a program on a local or an MPI pool, or reports the topology (ppoolrun(1)). */
#include <errno.h>
#include <getopt.h>
#include <hwloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ppool.h>

#include "farm.h"

/* Internal to the library (core/topo.c), exported for this report only, not public API: the
 * CPUs granted by the tightest cgroup CPU quota (v2 cpu.max, v1 cpu.cfs_quota_us over
 * cpu.cfs_period_us) from the process's cgroup, read from proc_cgroup, up to the root of the
 * hierarchy mounted at root, rounded up; 0 when no quota applies. */
int ppool__cgroup_quota(const char *proc_cgroup, const char *root);

#ifndef PPOOL_DOCDIR /* CMake passes GNUInstallDirs' CMAKE_INSTALL_DOCDIR and _MANDIR */
#define PPOOL_DOCDIR "share/doc/ppool"
#endif
#ifndef PPOOL_MANDIR
#define PPOOL_MANDIR "share/man"
#endif
#ifndef PPOOL_MPIRUN_DEFAULT
#define PPOOL_MPIRUN_DEFAULT "mpirun" /* CMake found no mpiexec: look it up in PATH */
#endif
#define EXIT_USAGE 2

enum mode { MODE_NONE, MODE_INFO, MODE_LOCAL, MODE_MPI };

/* What the command line asks for. */
struct request {
    enum mode mode;
    int workers;           /* -n; 0 when not given */
    char **prog;           /* the program and its arguments, NULL-terminated; NULL when none */
    struct farm_opts farm; /* --farm FILE and its options (farm.file NULL: none) */
};

/* Writes to buf "<prefix>/dir", the prefix being the folder above this program's own when
 * <prefix>/dir/probe is there (an installed ppoolrun), else the words "<prefix>". */
static void installed_path(char *buf, size_t n, const char *dir, const char *probe)
{
    char exe[PATH_MAX], path[PATH_MAX + 256];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    snprintf(buf, n, "%s%s", dir[0] == '/' ? "" : "<prefix>/", dir);
    if (len <= 0) return;
    exe[len] = 0;
    for (int up = 0; up < 2; up++) { /* <prefix>/bin/ppoolrun: two levels up */
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
    }
    const char *prefix = dir[0] == '/' ? "" : exe;
    snprintf(path, sizeof path, "%s%s%s/%s", prefix, *prefix ? "/" : "", dir, probe);
    if (access(path, R_OK) == 0) snprintf(buf, n, "%s%s%s", prefix, *prefix ? "/" : "", dir);
}

static void usage(FILE *f)
{
    char doc[PATH_MAX + 64], man[PATH_MAX + 64];
    installed_path(doc, sizeof doc, PPOOL_DOCDIR, "README.md");
    installed_path(man, sizeof man, PPOOL_MANDIR, "man1/ppoolrun.1");
    fprintf(f,
            "usage: ppoolrun --local [-n N] [--] PROGRAM [ARGS...]\n"
            "       ppoolrun --mpi [-n N] [--] PROGRAM [ARGS...]\n"
            "       ppoolrun --local|--mpi [-n N] --farm FILE [--joblog LOG] [--resume |\n"
            "                --resume-failed] [--retries N] [--timeout S] [--keep-order]\n"
            "                [--results DIR] [--progress]\n"
            "       ppoolrun --info\n"
            "       ppoolrun --version\n"
            "       ppoolrun --help\n"
            "\n"
            "Runs PROGRAM, a program that opens a ppool pool, with a pool of N workers.\n"
            "  --local   exec PROGRAM with PPOOL_TRANSPORT=local and PPOOL_WORKERS=N: the pool\n"
            "            forks N local workers (no -n: PPOOL_WORKERS as set, else the usable\n"
            "            cores)\n"
            "  --mpi     exec mpirun with N+1 ranks of PROGRAM and PPOOL_TRANSPORT=mpi: rank 0\n"
            "            is the master, ranks 1..N the workers (no -n: N = the usable cores).\n"
            "            Adds --oversubscribe when N+1 exceeds the usable cores, exports every\n"
            "            PPOOL_* variable to the ranks (-x) and, as root, sets\n"
            "            OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n"
            "  -n N      the number of workers, a positive integer\n"
            "  --info    print the ppool version, the machine (hwloc packages, cores, PUs), the\n"
            "            allowed cpuset and binding, the cgroup CPU quota, the usable cores,\n"
            "            the transports built, and the default pool with its workers' cpusets\n"
            "  --farm FILE  each line of FILE (- for stdin) is a shell command run on the\n"
            "            pool's workers; --joblog LOG (GNU parallel's columns), --resume (skip\n"
            "            what LOG has), --resume-failed (run its failed ones again), --retries\n"
            "            N (tries in all), --timeout S (then the command's process group is\n"
            "            killed), --keep-order, --results DIR (SEQ.stdout, SEQ.stderr),\n"
            "            --progress; exit status the number of failed commands (at most 101)\n"
            "  --version print \"ppoolrun VERSION\", the version of the ppool library\n"
            "  --help    print this help\n"
            "  --        end of ppoolrun's options: what follows is PROGRAM\n"
            "\n"
            "Environment:\n"
            "  PPOOL_MPIRUN     the mpirun --mpi runs (default %s)\n"
            "  PPOOL_WORKERS, PPOOL_TRANSPORT, PPOOL_BIND, PPOOL_CHUNKSIZE, PPOOL_PROGRESS,\n"
            "  PPOOL_DEBUG      read by the pool in PROGRAM and by --info\n"
            "\n"
            "Exit status: PROGRAM's (under --mpi, mpirun's); 2 for a bad command line; 127\n"
            "when PROGRAM or mpirun is not found, 126 when it cannot be executed; 1 when\n"
            "--info cannot open a pool.\n"
            "\n"
            "Manual: man ppoolrun, man ppool (and man ppool_map, ...); where man does not\n"
            "find them: MANPATH=%s man ppoolrun.\n"
            "Guide, API reference and examples: %s/docs/ (guide.md first).\n",
            PPOOL_MPIRUN_DEFAULT, man, doc);
}

/* Parses -n's value into *n: 0, or EXIT_USAGE with a message naming the argument. */
static int parse_workers(const char *s, int *n)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v >= INT_MAX) {
        fprintf(stderr, "ppoolrun: -n: '%s' is not a positive integer (the number of workers)\n",
                s);
        return EXIT_USAGE;
    }
    *n = (int)v;
    return 0;
}

/* Sets r->mode once; EXIT_USAGE when a mode was already given. */
static int set_mode(struct request *r, enum mode m)
{
    if (r->mode != MODE_NONE && r->mode != m) {
        fprintf(stderr, "ppoolrun: give only one of --local, --mpi, --info\n");
        return EXIT_USAGE;
    }
    r->mode = m;
    return 0;
}

/* Checks that the mode, -n and PROGRAM fit together; 0 or EXIT_USAGE. */
static int check_request(const struct request *r)
{
    const char *why = NULL;
    if (r->mode == MODE_NONE)
        why = r->prog ? "give --local or --mpi before PROGRAM" : "give --local, --mpi or --info";
    else if (r->mode == MODE_INFO && (r->prog || r->workers))
        why = "--info takes neither -n nor a PROGRAM";
    else if (r->farm.file && (r->prog || r->mode == MODE_INFO))
        why = "--farm FILE takes --local or --mpi and no PROGRAM";
    else if (!r->farm.file &&
             (r->farm.joblog || r->farm.results || r->farm.resume || r->farm.resume_failed ||
              r->farm.retries || r->farm.timeout || r->farm.keep_order || r->farm.progress))
        why = "--joblog, --results, --resume, --resume-failed, --retries, --timeout, --keep-order "
              "and --progress go with --farm FILE";
    else if (r->mode != MODE_INFO && !r->prog && !r->farm.file)
        why = r->mode == MODE_MPI ? "--mpi needs a PROGRAM" : "--local needs a PROGRAM";
    if (!why) return 0;
    fprintf(stderr, "ppoolrun: %s (try --help)\n", why);
    return EXIT_USAGE;
}

/* A non-negative number of seconds or a count for `opt`; EXIT_USAGE naming it when not. */
static int parse_number(const char *opt, const char *s, double *x, int whole)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || v > 1e9 || (whole && v != (double)(long)v)) {
        fprintf(stderr, "ppoolrun: %s: '%s' is not a %s\n", opt, s,
                whole ? "count (0 or more)" : "number of seconds (0 or more)");
        return EXIT_USAGE;
    }
    *x = v;
    return 0;
}

/* The farm's options (GNU parallel's names); -1 when c is none of them. */
static int farm_option(int c, struct farm_opts *f)
{
    double x = 0;
    int rc = 0;
    switch (c) {
    case 'F':
        f->file = optarg;
        break;
    case 'J':
        f->joblog = optarg;
        break;
    case 'R':
        f->results = optarg;
        break;
    case 'r':
        f->resume = 1;
        break;
    case 'f':
        f->resume_failed = 1;
        break;
    case 'k':
        f->keep_order = 1;
        break;
    case 'p':
        f->progress = 1;
        break;
    case 'T':
        rc = parse_number("--timeout", optarg, &f->timeout, 0);
        break;
    case 'N':
        rc = parse_number("--retries", optarg, &x, 1);
        f->retries = (int)x;
        break;
    default:
        return -1;
    }
    return rc;
}

/* Fills *r from the command line. Returns -1 to go on, else the exit status (--help: 0). */
static int parse_args(int argc, char **argv, struct request *r)
{
    enum { OPT_LOCAL = 256, OPT_MPI, OPT_INFO, OPT_VERSION };
    static const struct option longopts[] = {
        {"local", no_argument, NULL, OPT_LOCAL},   {"mpi", no_argument, NULL, OPT_MPI},
        {"info", no_argument, NULL, OPT_INFO},     {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, 'h'},          {"farm", required_argument, NULL, 'F'},
        {"joblog", required_argument, NULL, 'J'},  {"results", required_argument, NULL, 'R'},
        {"resume", no_argument, NULL, 'r'},        {"resume-failed", no_argument, NULL, 'f'},
        {"keep-order", no_argument, NULL, 'k'},    {"progress", no_argument, NULL, 'p'},
        {"bar", no_argument, NULL, 'p'},           {"timeout", required_argument, NULL, 'T'},
        {"retries", required_argument, NULL, 'N'}, {NULL, 0, NULL, 0}};
    int c, rc = 0;
    /* '+': options end at PROGRAM, so its own options are left to it. */
    while (rc == 0 && (c = getopt_long(argc, argv, "+hn:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case OPT_VERSION:
            printf("ppoolrun %s\n", ppool_version());
            return 0;
        case 'n':
            rc = parse_workers(optarg, &r->workers);
            break;
        case OPT_LOCAL:
            rc = set_mode(r, MODE_LOCAL);
            break;
        case OPT_MPI:
            rc = set_mode(r, MODE_MPI);
            break;
        case OPT_INFO:
            rc = set_mode(r, MODE_INFO);
            break;
        default:
            if ((rc = farm_option(c, &r->farm)) >= 0) break;
            fprintf(stderr, "ppoolrun: try --help\n"); /* getopt said what is wrong */
            return EXIT_USAGE;
        }
    }
    if (rc) return rc;
    r->prog = optind < argc ? argv + optind : NULL;
    rc = check_request(r);
    return rc ? rc : -1;
}

/* Sets an environment variable or says why not; 0 or 1. */
static int put_env(const char *name, const char *value)
{
    if (setenv(name, value, 1) == 0) return 0;
    fprintf(stderr, "ppoolrun: setenv %s: %s\n", name, strerror(errno));
    return 1;
}

/* Replaces this process with argv[0] (searched in PATH); returns only on failure, with the
 * shell's status: 127 when it is not found, 126 when it cannot be executed. `what` names it in
 * the message, `hint` (or "") ends the message. */
static int exec_or_status(char **argv, const char *what, const char *hint)
{
    execvp(argv[0], argv);
    int err = errno;
    fprintf(stderr, "ppoolrun: cannot execute %s '%s': %s%s\n", what, argv[0], strerror(err), hint);
    return err == ENOENT || err == ENOTDIR ? 127 : 126;
}

/* --local: PROGRAM with a local pool of r->workers (when given). */
static int run_local(const struct request *r)
{
    char n[16];
    snprintf(n, sizeof n, "%d", r->workers);
    if (put_env("PPOOL_TRANSPORT", "local") || (r->workers && put_env("PPOOL_WORKERS", n)))
        return 1;
    return exec_or_status(r->prog, "program", "");
}

/* The mpirun to exec: PPOOL_MPIRUN, else the one CMake found, else "mpirun" in PATH. */
static const char *mpirun_path(void)
{
    const char *m = getenv("PPOOL_MPIRUN");
    return m && *m ? m : PPOOL_MPIRUN_DEFAULT;
}

/* Whether an environ entry ("NAME=value") is a PPOOL_* variable. */
static int is_ppool_var(const char *entry)
{
    return strncmp(entry, "PPOOL_", 6) == 0 && strchr(entry, '=');
}

static char dash_x[] = "-x"; /* the "-x" before each name export_ppool_vars allocates */

/* Appends "-x NAME" for every PPOOL_* variable of the environment at argv[*k]; 0 or 1. */
static int export_ppool_vars(char **argv, int *k)
{
    for (char **e = environ; *e; e++) {
        if (!is_ppool_var(*e)) continue;
        argv[(*k)++] = dash_x;
        if (!(argv[(*k)++] = strndup(*e, (size_t)(strchr(*e, '=') - *e)))) return 1;
    }
    return 0;
}

/* Frees a command line of mpirun_argv and the names it allocated. */
static void free_mpirun_argv(char **argv)
{
    for (int i = 1; argv[i]; i++)
        if (argv[i - 1] == dash_x) free(argv[i]);
    free(argv);
}

/* The command line of mpirun for `ranks` ranks of prog; NULL when out of memory. */
static char **mpirun_argv(int ranks, char **prog)
{
    static char np[16];
    size_t nenv = 0, nprog = 0;
    for (char **e = environ; *e; e++) nenv += is_ppool_var(*e);
    while (prog[nprog]) nprog++;
    char **argv = calloc(5 + 2 * nenv + nprog, sizeof *argv);
    if (!argv) return NULL;
    snprintf(np, sizeof np, "%d", ranks);
    int k = 0;
    argv[k++] = (char *)mpirun_path();
    argv[k++] = "-n";
    argv[k++] = np;
    if (ranks > ppool_cpu_count()) argv[k++] = "--oversubscribe";
    if (export_ppool_vars(argv, &k)) {
        free_mpirun_argv(argv);
        return NULL;
    }
    memcpy(argv + k, prog, nprog * sizeof *argv);
    return argv;
}

/* --mpi: mpirun with r->workers + 1 ranks of PROGRAM, rank 0 the master. */
static int run_mpi(const struct request *r)
{
    int workers = r->workers ? r->workers : ppool_cpu_count();
    if (put_env("PPOOL_TRANSPORT", "mpi")) return 1;
    /* Open MPI refuses root without both; only the launcher sets them, never the library. */
    if (geteuid() == 0 &&
        (put_env("OMPI_ALLOW_RUN_AS_ROOT", "1") || put_env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")))
        return 1;
    char **argv = mpirun_argv(workers + 1, r->prog);
    if (!argv) {
        fprintf(stderr, "ppoolrun: out of memory\n");
        return 1;
    }
    int rc = exec_or_status(argv, "mpirun", " (set PPOOL_MPIRUN to Open MPI's mpirun)");
    free_mpirun_argv(argv);
    return rc;
}

static int count_of(hwloc_topology_t t, hwloc_obj_type_t type)
{
    int n = hwloc_get_nbobjs_by_type(t, type);
    return n < 0 ? 0 : n;
}

/* Prints "label: list" for an hwloc cpuset. */
static void print_set(const char *label, hwloc_const_bitmap_t set)
{
    char *s = NULL;
    if (hwloc_bitmap_list_asprintf(&s, set) >= 0) printf("%s: %s\n", label, s);
    free(s);
}

/* The whole machine as hwloc sees it (disallowed PUs included), the allowed cpuset and the
 * process's binding. */
static void report_machine(void)
{
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) < 0) {
        printf("machine: hwloc cannot start\n");
        return;
    }
    hwloc_topology_set_flags(t, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
    if (hwloc_topology_load(t) == 0) {
        printf("machine: packages %d, cores %d, PUs %d\n", count_of(t, HWLOC_OBJ_PACKAGE),
               count_of(t, HWLOC_OBJ_CORE), count_of(t, HWLOC_OBJ_PU));
        print_set("allowed cpuset", hwloc_topology_get_allowed_cpuset(t));
        hwloc_bitmap_t bound = hwloc_bitmap_alloc();
        if (bound && hwloc_get_cpubind(t, bound, HWLOC_CPUBIND_PROCESS) == 0)
            print_set("process binding", bound);
        hwloc_bitmap_free(bound);
    } else {
        printf("machine: hwloc cannot load the topology\n");
    }
    hwloc_topology_destroy(t);
}

static void report_quota(void)
{
    int q = ppool__cgroup_quota("/proc/self/cgroup", "/sys/fs/cgroup");
    if (q > 0)
        printf("cgroup CPU quota: %d CPUs (rounded up)\n", q);
    else
        printf("cgroup CPU quota: none\n");
}

static void report_transports(void)
{
#ifdef PPOOL_HAVE_MPI
    printf("transports built: local mpi\n");
#else
    printf("transports built: local\n");
#endif
}

/* Copies the PPOOL_STATS table in tmp to stdout but its first line ("ppool stats: N workers,
 * transport T"), which the "default pool" line has said. */
static void copy_table(FILE *tmp)
{
    char line[512];
    int first = 1;
    rewind(tmp);
    while (fgets(line, sizeof line, tmp)) {
        if (!(first && strncmp(line, "ppool stats:", 12) == 0)) fputs(line, stdout);
        first = 0;
    }
}

/* Frees p; its PPOOL_STATS table (each worker's pid and cpuset, from its Hello), written on
 * stderr, goes to stdout with the rest of the report (through a temporary file when one can be
 * had): the public API has no per-worker query. */
static void free_pool_with_table(ppool *p)
{
    printf("workers (cpuset '-' is unbound):\n");
    fflush(stdout);
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    if (saved >= 0) dup2(tmp ? fileno(tmp) : STDOUT_FILENO, STDERR_FILENO);
    ppool_free(p);
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    if (tmp) {
        copy_table(tmp);
        fclose(tmp);
    }
}

/* --info: the topology report; 0, or 1 when the default pool cannot be opened. */
static int report(void)
{
    printf("ppool %s\n", ppool_version());
    report_machine();
    report_quota();
    printf("usable cores: %d (the default pool size)\n", ppool_cpu_count());
    report_transports();
    ppool_opts o = PPOOL_OPTS_INIT;
    o.flags = PPOOL_STATS;
    ppool *p;
    int rc = ppool_open(&p, &o);
    if (rc < 0) {
        fprintf(stderr, "ppoolrun: ppool_open: %s: %s\n", ppool_strerror(rc), ppool_errmsg(NULL));
        return 1;
    }
    int n = ppool_size(p);
    printf("default pool: %d worker%s, transport %s\n", n, n == 1 ? "" : "s", ppool_transport(p));
    free_pool_with_table(p);
    return 0;
}

/* --farm: locally, the farm runs here on a local pool; with --mpi, mpirun
 * runs this same command line on every rank (PPOOL__FARM_HERE set), whose
 * rank 0 runs the farm and the others serve. */
static int run_farm(struct request *r, int argc, char **argv)
{
    char n[16];
    snprintf(n, sizeof n, "%d", r->workers);
    if (getenv("PPOOL__FARM_HERE")) return farm_run(&r->farm);
    if (r->mode == MODE_LOCAL) {
        if (put_env("PPOOL_TRANSPORT", "local") || (r->workers && put_env("PPOOL_WORKERS", n)))
            return 255;
        return farm_run(&r->farm);
    }
    static char self[PATH_MAX];
    ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
    char **prog = calloc((size_t)argc + 1, sizeof *prog);
    if (l <= 0 || !prog || put_env("PPOOL__FARM_HERE", "1")) {
        fprintf(stderr, "ppoolrun: cannot run the farm under mpirun (%s)\n", strerror(errno));
        free(prog);
        return 255;
    }
    self[l] = 0;
    prog[0] = self;
    memcpy(prog + 1, argv + 1, (size_t)(argc - 1) * sizeof *prog);
    r->prog = prog;
    return run_mpi(r);
}

int main(int argc, char **argv)
{
    struct request r = {MODE_NONE, 0, NULL, {0}};
    int rc = parse_args(argc, argv, &r);
    if (rc >= 0) return rc;
    if (r.farm.file) return run_farm(&r, argc, argv);
    switch (r.mode) {
    case MODE_LOCAL:
        return run_local(&r);
    case MODE_MPI:
        return run_mpi(&r);
    default:
        return report(); /* MODE_INFO: check_request refused MODE_NONE */
    }
}
