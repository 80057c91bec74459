"""Running jobs: lifecycle, sweeps, hooks, recording, exports, transfer-set kinds (database, store and engine).
May import app (tables, sessions, store, settings), models, worker.engine, worker.leases; the engine not this."""
