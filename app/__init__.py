"""The HTTP edge of Distillery: routes, schemas, request checks, uploads, the dashboard and the reaper.
Stands on core/ (settings, database, store, queue) and models/; never imports worker/ (tasks are sent by name,
see core/broker.py)."""
