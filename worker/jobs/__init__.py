"""The job runner: a job's lifecycle, sweeps, hooks, recording, exports and transfer-set kinds.
May import core (tables, sessions, store, settings), models, worker.engine and worker.leases; never worker.tasks."""
