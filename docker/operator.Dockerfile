# syntax=docker/dockerfile:1.7
# The ai2text operator: kopf watching Datasets and TrainingRuns, creating RayJobs, evaluating
# candidates on the CPU (torch + NeMo) and promoting them into the serving RayService.
#
#   docker build -f docker/operator.Dockerfile -t ghcr.io/ai2text/ai2text-operator:0.1.0 .
#
# The base is pinned by tag. Pin it by digest too (python:3.11-slim-bookworm@sha256:...) where
# you build: resolving a digest needs registry access, which the environment this file was
# written in does not have.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Builder: every wheel the operator needs (compilers stay in this stage).
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY ai2text ./ai2text
COPY deployments ./deployments
COPY training ./training
COPY operators ./operators
# CPU torch first (the operator evaluates on the CPU), then ai2text and its asr and operator
# extras, all under the repository's constraints.
RUN python -m pip wheel --wheel-dir /wheels --index-url https://download.pytorch.org/whl/cpu \
      torch==2.13.0 \
 && python -m pip wheel --wheel-dir /wheels --find-links /wheels -c constraints.txt \
      ".[asr,operator]" \
 && cp constraints.txt /wheels/

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/ai2text/bin:${PATH} \
    AI2TEXT_HOME=/var/lib/ai2text
RUN groupadd --gid 10001 ai2text \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/ai2text --no-create-home \
      --shell /usr/sbin/nologin ai2text \
 && mkdir -p /var/lib/ai2text \
 && chown 10001:10001 /var/lib/ai2text
# Installed offline from the builder's wheels: nothing but the wheels' contents reaches this stage.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    python -m venv /opt/ai2text \
 && /opt/ai2text/bin/pip install --no-cache-dir --no-index --find-links /wheels torch==2.13.0 \
 && /opt/ai2text/bin/pip install --no-cache-dir --no-index --find-links /wheels \
      -c /wheels/constraints.txt "ai2text[asr,operator]" \
 && ai2text --help > /dev/null
USER 10001:10001
WORKDIR /var/lib/ai2text
# The liveness endpoint (/healthz); the chart passes --namespace and --liveness-port.
EXPOSE 8080
ENTRYPOINT ["ai2text", "operator", "run"]
