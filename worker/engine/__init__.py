"""The distillation engine: plain PyTorch, callable without Celery, HTTP or a database.
May import models/ only: no app, no worker.jobs, no fastapi, celery or sqlalchemy."""
