"""__main__.py: `python3 -m ppool SCRIPT [ARGS]`, plainly or under `mpirun -n N` (see _launch.py)."""
import sys

from ppool._launch import main

sys.exit(main())
