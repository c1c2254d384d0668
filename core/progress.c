/* progress.c: the progress bar and the statistics table, on stderr. */
#include <stdio.h>
#include <unistd.h>

#include "ppool_impl.h"

void ppool__draw_progress(ppool *p, int final)
{
    size_t done = 0, total = 0;
    for (ppool__job *j = p->jobs; j; j = j->nextjob)
        if (j->n != SIZE_MAX && j->kind != JOB_APPLY) {
            done += j->done;
            total += j->n;
        }
    if (final) {
        if (!p->progress_drawn) return;
        done = total = p->progress_total; /* what the last line showed has finished */
    } else if (total == 0) {
        return;
    }
    int width = 40, fill = (int)((double)done / (double)total * width);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "\rppool [%s] %3d%% %zu/%zu items%s", bar,
            (int)(100.0 * (double)done / (double)total), done, total, final ? "\n" : "");
    fflush(stderr);
    p->progress_drawn = !final;
    p->progress_total = total;
}

void ppool__print_stats(ppool *p)
{
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    if (p->sub)
        fprintf(stderr, "ppool stats: sub-master pid %d on %s: %d workers below it\n",
                (int)getpid(), host, p->nworkers);
    else
        fprintf(stderr, "ppool stats: %d worker%s, transport %s%s\n", p->capacity,
                p->capacity == 1 ? "" : "s", p->transport_name,
                p->capacity > p->nworkers ? ", behind sub-masters (the rows)" : "");
    fprintf(stderr, "  %-6s %-8s %10s %8s %10s %6s %6s %6s %8s %s\n", "worker", "pid", "items",
            "chunks", "busy s", "spawns", "deaths", "behind", "given", "cpuset");
    for (int i = 0; i < p->nworkers; i++) {
        ppool__wslot *w = &p->w[i];
        fprintf(stderr, "  %-6d %-8d %10zu %8zu %10.3f %6zu %6zu %6d %8zu %s\n", i, w->pid,
                w->items, w->chunks, w->busy, w->spawns, w->deaths,
                w->capacity > 1 ? w->capacity : 0, w->given, w->cpuset[0] ? w->cpuset : "-");
    }
}
