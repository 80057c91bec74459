"""``python -m models.bounded_child TASK MEMORY CPU``: see ``models.bounded``."""

import sys

from models.bounded import child_main

if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
