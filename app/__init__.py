"""The HTTP edge of Distillery: settings, routes, schemas, the database and the artifact store."""
