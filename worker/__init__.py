"""The worker side: the Celery application and its tasks, and the plain-PyTorch engine."""
