/* farm.h: ppoolrun --farm: shell commands as a pool's items, with GNU parallel's joblog and resume.
 */
#ifndef PPOOLRUN_FARM_H
#define PPOOLRUN_FARM_H

/* The farm's options, named as GNU parallel names them. */
struct farm_opts {
    const char *file;    /* the commands, one per line; "-" is standard input */
    const char *joblog;  /* --joblog FILE, or NULL */
    const char *results; /* --results DIR, or NULL */
    int resume;          /* --resume: skip the commands the joblog has */
    int resume_failed;   /* --resume-failed: ... but run again those that failed */
    int retries;         /* --retries N: tries in all (0: 1) */
    double timeout;      /* --timeout SECONDS (0: none): the command's process group is killed */
    int keep_order;      /* --keep-order: output in input order */
    int progress;        /* --progress / --bar: done/total, rate and ETA on stderr */
};

/* Registers the farm's task; every process, before the pool opens. */
int farm_register(void);
/* Registers the farm's task and runs the farm on a pool opened as the
 * environment says (ppoolrun set PPOOL_TRANSPORT and PPOOL_WORKERS). Returns
 * the exit status, as GNU parallel's: 0 when every command succeeded, else
 * the number that failed (at most 101), 255 on an error of the farm itself;
 * on an MPI worker rank, 0 once released. */
int farm_run(const struct farm_opts *o);

#endif
