"""_launch.py: where this process runs (an MPI rank or not, by the C library's test) and the
runner behind `python3 -m ppool script.py`: the script on rank 0, the other ranks serving."""
import io
import os
import runpy
import sys
import types
import weakref

from . import _ppool

USAGE = """usage: python3 -m ppool SCRIPT [ARGS...]   or   python3 -m ppool -m MODULE [ARGS...]

Runs a multiprocessing-style script whose pools are ppool.Pool. Plainly, the script runs with
forked local workers. Under `mpirun -n N python3 -m ppool script.py`, rank 0 runs the script as
__main__ and ranks 1..N-1 are its pools' workers (they import the script as __worker__, so its
functions resolve, and serve every pool it opens in turn)."""

# The launcher variables ppool's MPI transport reads (transport/mpi/mpi.c, mpi_detect).
_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS")
_RANK_VARS = ("PMIX_RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK", "SLURM_PROCID")

live = weakref.WeakSet()  # every pool's _Core not yet terminated or joined (pool.py fills it)
_role = None  # None: a plain program; "master": the runner's rank 0; "importing" then "worker"
_mpi_pools = False  # a plain program opened an MPI pool: its worker ranks wait for the end


def _env_number(names):
    """The first of these variables that is set (its leading integer, as strtol reads it)."""
    for name in names:
        value = os.environ.get(name)
        if value:
            digits = value.strip()
            end = 1 if digits[:1] in "+-" else 0
            while end < len(digits) and digits[end].isdigit():
                end += 1
            try:
                return int(digits[:end])
            except ValueError:
                return 0
    return None


def mpi_world():
    """(rank, size) when ppool's pools use MPI in this process, else None: PPOOL_TRANSPORT, else
    transport auto's test, an MPI launcher of 2 or more processes (its size, else a rank
    variable). size is 0 when no variable says it."""
    if not _ppool.HAVE_MPI:
        return None
    transport = os.environ.get("PPOOL_TRANSPORT") or "auto"
    if transport not in ("auto", "mpi"):
        return None
    size, rank = _env_number(_SIZE_VARS), _env_number(_RANK_VARS)
    if transport == "auto" and (size <= 1 if size else rank is None):
        return None
    return (rank or 0, size or 0)


def workers_for(processes):
    """ppool's worker count for Pool(processes): None is ppool's default (usable cores, or the
    ranks but rank 0); on MPI no more than there are worker ranks."""
    if processes is None:
        return 0
    world = mpi_world()
    if world and world[1] > 1:
        return min(processes, world[1] - 1)
    return processes


def before_pool():
    """Pool() is about to open: refused while a worker rank imports the script; on a worker
    rank of a plain `mpirun python3 script.py`, serves the master's pools until it is done,
    then leaves the program (SystemExit(0))."""
    if _role == "worker":
        raise RuntimeError("ppool: a task on an MPI worker rank cannot open a pool (the ranks "
                           "are rank 0's workers)")
    if _role == "importing":
        raise RuntimeError(
            "ppool: the script opened a Pool while an MPI worker rank imported it (as "
            "__worker__): put the script's main code under `if __name__ == '__main__':`")
    world = mpi_world()
    if world and world[0] > 0 and _role is None:
        code = _serve_until_stopped()
        raise SystemExit(code)


def opened(transport):
    global _mpi_pools
    if transport == "mpi" and _role is None:
        _mpi_pools = True


def at_exit():
    """A plain program that opened MPI pools tells its worker ranks (serving in Pool()) to go."""
    if _mpi_pools:
        try:
            _ppool.stop_workers()
        except Exception as e:
            sys.stderr.write("ppool: could not release the MPI worker ranks: %s\n" % (e,))


def _serve_until_stopped():
    """A worker rank: serves each pool rank 0 opens until rank 0 says it is done."""
    global _role
    _role = "worker"
    while True:
        try:
            if _ppool.serve():
                return 0
        except _ppool.EngineError as e:
            sys.stderr.write("ppool: MPI worker rank stops serving: %s\n" % (e.args[1],))
            return 1


def _adopt(module):
    """Classes and functions the script defined name __worker__ as their module: they are
    the master's __main__ ones, and pickle so (results of the script's classes, say)."""
    for value in list(vars(module).values()):
        if isinstance(value, (type, types.FunctionType)) and \
                getattr(value, "__module__", None) == "__worker__":
            try:
                value.__module__ = "__main__"
            except (AttributeError, TypeError):
                pass


def _import_script(path, module_name, rank):
    """A worker rank imports the script as __worker__ (its main code is not run) and makes it
    __main__, so functions pickled on rank 0 as __main__.f resolve here."""
    global _role
    main = types.ModuleType("__worker__")
    main.__file__ = path
    _role = "importing"
    try:
        if module_name:
            vars(main).update(runpy.run_module(module_name, run_name="__worker__"))
        else:
            with io.open_code(path) as f:
                code = compile(f.read(), path, "exec")
            sys.modules["__worker__"] = main
            exec(code, vars(main))
    except BaseException as e:
        sys.stderr.write("ppool: MPI rank %d could not import %s: %s: %s\n"
                         % (rank, path or module_name, type(e).__name__, e))
    finally:
        _role = "worker"
    _adopt(main)
    sys.modules["__main__"] = sys.modules["__worker__"] = main


def _stop_workers():
    """Rank 0, after the script: its pools are terminated, then the worker ranks told to go."""
    for core in list(live):
        try:
            core.terminate()
        except Exception:
            pass
    _ppool.stop_workers()


def main(argv=None):
    """`python3 -m ppool SCRIPT [ARGS]`; returns the exit status (the script's own SystemExit
    goes through)."""
    global _role
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help") or (argv[0] == "-m" and len(argv) < 2):
        (sys.stdout if argv[:1] in (["-h"], ["--help"]) else sys.stderr).write(USAGE + "\n")
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    module_name, path = (argv[1], None) if argv[0] == "-m" else (None, argv[0])
    args = argv[2:] if module_name else argv[1:]
    world = mpi_world()
    rank = world[0] if world else -1
    sys.argv = [path or module_name] + args
    if path:
        sys.path[0] = os.path.dirname(os.path.abspath(path))
    if rank > 0:
        _import_script(path, module_name, rank)
        return _serve_until_stopped()
    if rank == 0:
        _role = "master"
    try:
        if module_name:
            runpy.run_module(module_name, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(path, run_name="__main__")
    finally:
        if rank == 0:
            _stop_workers()
    return 0
