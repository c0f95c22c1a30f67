"""The ``forgesyte`` command line: job commands, ``smoke`` and ``up`` (see ``main``)."""
