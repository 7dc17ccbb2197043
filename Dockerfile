# One image for the API, the workers, the migration job and the dashboard.
# TORCH_INDEX_URL picks the torch build: the CPU wheel index (default) or a CUDA one for GPU
# workers (docker-compose.yml builds both).
FROM python:3.11-slim

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 libxrender1 libxext6 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/mdval
COPY pyproject.toml README.md alembic.ini ./
COPY mdval ./mdval
COPY app ./app
COPY workers ./workers
COPY dashboard ./dashboard
COPY migrations ./migrations
RUN pip install --extra-index-url "${TORCH_INDEX_URL}" ".[all]"

RUN useradd --create-home --uid 1000 mdval \
    && mkdir -p /data/artifacts \
    && chown -R mdval /data
USER mdval
ENV MDVAL_ARTIFACTS_DIR=/data/artifacts
EXPOSE 8000
CMD ["uvicorn", "--factory", "app.main:create_app", "--host", "0.0.0.0", "--port", "8000"]
