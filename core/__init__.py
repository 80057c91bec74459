"""What the API and the worker both stand on: settings, the database and its tables, the artifact store, ids,
logging, the queue and its broker, webhook addresses and the outbox, test pause points. May import models/;
never app/ (the HTTP edge) or worker/."""
