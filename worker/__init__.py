"""The worker side: the Celery application and its tasks, the job runner (jobs/) and the plain-PyTorch engine."""
