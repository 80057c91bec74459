"""The HTTP edge of Distillery: settings, routes, schemas, the database, the artifact store and the reaper.
May import models/; never worker/ (tasks are sent by name, see broker.py)."""
