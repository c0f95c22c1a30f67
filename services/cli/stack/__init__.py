"""``forgesyte up``: the local stack as supervised child processes.

``restart_policy`` decides (purely) whether and when to restart,
``children`` starts and stops one process, ``readiness`` knows what
"healthy" means for each service, ``supervisor`` keeps a set of them
running, and ``local_stack`` describes the three ForgeSyte services.
"""
