"""The worker side: the Celery application and its tasks, the job runner (jobs/) and the plain-PyTorch engine.
May import core (tables, sessions, store, settings) and models; app never imports it, and it never imports app."""
