# One image for the API and the worker; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# bubblewrap: the sandbox tenants' models run in (see docs/security.md; the container needs
# user namespaces, which docker-compose.yml allows).
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/distillery

# Dependencies first, so code changes do not reinstall torch. The packages are placeholders here: an editable
# install records where each package lives (every package pyproject.toml names, the client and the CLI
# included), and the COPY lines below fill those folders. tests/integration/test_image.py rehearses these steps.
COPY pyproject.toml README.md ./
RUN mkdir -p app core worker models clients/python/distillery_client clients/python/distillery_cli \
    && touch app/__init__.py core/__init__.py worker/__init__.py models/__init__.py \
       clients/python/distillery_client/__init__.py clients/python/distillery_cli/__init__.py \
    && pip install -e . \
    && rm -rf app core worker models clients

COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
COPY core ./core
COPY worker ./worker
COPY models ./models
COPY clients ./clients

RUN useradd --create-home --uid 10001 distillery && mkdir -p /data && chown distillery /data
USER distillery

ENV DISTILLERY_VAR_DIR=/data
EXPOSE 8000

CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
