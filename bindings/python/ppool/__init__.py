"""ppool: multiprocessing.Pool's API on ppool's C engine, with forked workers or, under
`mpirun -n N python3 -m ppool script.py`, one MPI rank per worker."""
from multiprocessing import TimeoutError

from . import _ppool
from .pool import (ApplyResult, AsyncResult, IMapIterator, IMapUnorderedIterator, MapResult, Pool,
                   PoolError, TaskTimeoutError, WorkerLostError)

__version__ = _ppool.version()
__all__ = ["Pool", "AsyncResult", "ApplyResult", "MapResult", "IMapIterator",
           "IMapUnorderedIterator", "TimeoutError", "PoolError", "WorkerLostError",
           "TaskTimeoutError", "cpu_count"]


def cpu_count():
    """The usable cores (hwloc, affinity and cgroup aware): the size of Pool() with no
    processes, outside MPI."""
    return _ppool.cpu_count()
