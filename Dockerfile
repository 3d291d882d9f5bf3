# The engine's image for docker-compose.yml; the locked dependencies, no dev tools.
FROM python:3.11-slim
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock README.md ./
COPY domain ./domain
COPY commands ./commands
COPY projections ./projections
COPY api ./api
COPY workers ./workers
COPY db ./db
COPY simulator ./simulator
COPY orderengine ./orderengine
RUN uv sync --frozen --no-dev
ENV PATH="/app/.venv/bin:$PATH" HOST=0.0.0.0
EXPOSE 8000
CMD ["orderengine", "up"]
