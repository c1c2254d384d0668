/* gen_constants.c: writes the Fortran module's constants from ppool.h at build time, so they
 * cannot drift from the C header: every PPOOL_ERRNO_MAP code, PPOOL_WORKER, the flags, the
 * version. usage: gen_constants OUT.inc */
#include <stdio.h>

#include <ppool.h>

#define CODE(name, val, msg)                                                                       \
    fprintf(f, "  integer(c_int), parameter, public :: PPOOL_%s = %d ! %s\n", #name, val, msg);
#define NAME(name, val, msg) fprintf(f, "%s &\n      PPOOL_%s", n++ ? "," : "", #name);

static void constant(FILE *f, const char *name, long val, const char *what)
{
    fprintf(f, "  integer(c_int), parameter, public :: %s = %ld ! %s\n", name, val, what);
}

int main(int argc, char **argv)
{
    FILE *f = argc == 2 ? fopen(argv[1], "w") : NULL;
    if (!f) return 1;
    int n = 0;
    fputs("! ppool_constants.inc: ppool.h's constants, written by gen_constants.c: do not edit.\n",
          f);
    PPOOL_ERRNO_MAP(CODE)
    fputs("  ! Every error code, in the header's order.\n", f);
    fputs("  integer(c_int), parameter, public :: PPOOL_ERRORS(*) = [", f);
    PPOOL_ERRNO_MAP(NAME)
    fputs("]\n", f);
    constant(f, "PPOOL_WORKER", PPOOL_WORKER, "ppool_open on a process that served as a worker");
    constant(f, "PPOOL_PROGRESS", PPOOL_PROGRESS, "flag: a progress bar of long maps on stderr");
    constant(f, "PPOOL_STATS", PPOOL_STATS, "flag: per-worker statistics on stderr at ppool_free");
    constant(f, "PPOOL_NO_RETRIES", PPOOL_NO_RETRIES, "flag: an item whose worker died fails");
    fprintf(f, "  character(*), parameter, public :: PPOOL_VERSION_STRING = \"%s\"\n",
            PPOOL_VERSION_STRING);
    return fclose(f) != 0;
}
