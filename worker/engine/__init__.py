"""The distillation engine: plain PyTorch, callable without Celery, HTTP or a database."""
