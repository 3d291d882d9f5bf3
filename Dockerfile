# One image for every process of the engine: docker-compose.yml runs each as a service
# of its own (`orderengine api`, `worker`, ...), so the entrypoint is the console script
# and the command names the role. Production dependencies only: no dev tools, no
# embedded PostgreSQL or Redis (DATABASE_URL and REDIS_URL name real servers).
FROM python:3.11-slim
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9 \
    && useradd --system --create-home --home-dir /home/engine engine
# The locked dependencies first, in a layer of their own (rebuilt only with the lock).
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-default-groups --no-install-project
COPY domain ./domain
COPY commands ./commands
COPY projections ./projections
COPY api ./api
COPY workers ./workers
COPY db ./db
COPY simulator ./simulator
COPY orderengine ./orderengine
RUN uv sync --frozen --no-default-groups \
    && mkdir -p /app/.data /journal && chown engine /app/.data /journal
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 LOG_FORMAT=json
USER engine
EXPOSE 8000 8900
ENTRYPOINT ["orderengine"]
CMD ["api", "--host", "0.0.0.0"]
