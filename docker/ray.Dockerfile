# syntax=docker/dockerfile:1.7
# The image of every ai2text Ray pod: the serving RayService (head and workers) and the training
# RayJobs the operator creates. KubeRay supplies the commands (ray start ...), so the image keeps
# Ray's own entrypoint; `ai2text` is on PATH for the job entrypoints.
#
#   docker build -f docker/ray.Dockerfile --build-arg VARIANT=gpu -t ghcr.io/ai2text/ai2text-ray:0.1.0-gpu .
#   docker build -f docker/ray.Dockerfile --build-arg VARIANT=cpu -t ghcr.io/ai2text/ai2text-ray:0.1.0-cpu .
#
# The bases are pinned by tag. Pin them by digest too (rayproject/ray:<tag>@sha256:...) where you
# build: resolving a digest needs registry access, which the environment this file was written in
# does not have. RAY_VERSION must equal the ray pin of pyproject.toml and the chart's rayVersion.

ARG RAY_VERSION=2.60.0
ARG VARIANT=gpu

# CUDA 12.8 base and the CUDA build of torch for the GPU variant...
FROM rayproject/ray:${RAY_VERSION}-py311-cu128 AS base-gpu
ENV AI2TEXT_TORCH_INDEX=https://download.pytorch.org/whl/cu128

# ...and the CPU base with the CPU build of torch (no CUDA libraries pulled in).
FROM rayproject/ray:${RAY_VERSION}-py311-cpu AS base-cpu
ENV AI2TEXT_TORCH_INDEX=https://download.pytorch.org/whl/cpu

# Builder: the ai2text wheel (the packages ai2text, deployments, training, operators and their
# data: migrations, the bootstrap model, the text corpus, serve_config.yaml).
FROM base-${VARIANT} AS builder
USER 1000:100
WORKDIR /home/ray/src
COPY --chown=1000:100 pyproject.toml constraints.txt README.md ./
COPY --chown=1000:100 ai2text ./ai2text
COPY --chown=1000:100 deployments ./deployments
COPY --chown=1000:100 training ./training
COPY --chown=1000:100 operators ./operators
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /home/ray/wheels . \
 && cp constraints.txt /home/ray/wheels/

FROM base-${VARIANT} AS runtime
ARG RAY_VERSION
# A writable AI2TEXT_HOME for the ray user (the chart mounts a scratch volume over it).
USER root
RUN mkdir -p /var/lib/ai2text && chown 1000:100 /var/lib/ai2text
# The ray user of the base image (uid 1000, group users); the chart runs Ray pods as 1000:100.
USER 1000:100
# THP_MEM_ALLOC_ENABLE and OMP_WAIT_POLICY: torch on CPU, see ai2text/allocator.py
ENV AI2TEXT_HOME=/var/lib/ai2text \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    THP_MEM_ALLOC_ENABLE=1 \
    OMP_WAIT_POLICY=PASSIVE
# torch first, from the variant's index (pip would otherwise pick whatever torch NeMo resolves
# to), then the project with its extras under the repository's constraints: asr (NeMo) for the
# models, train (Ray Train, Ray Data) for the RayJobs, serve (Ray Serve, FastAPI, JWT, metrics,
# embeddings) for the Serve application.
RUN --mount=type=bind,from=builder,source=/home/ray/wheels,target=/tmp/wheels \
    python -m pip install --no-cache-dir --index-url "${AI2TEXT_TORCH_INDEX}" torch==2.13.0 \
 && python -m pip install --no-cache-dir -c /tmp/wheels/constraints.txt \
      --find-links /tmp/wheels "ai2text[asr,train,serve]" \
 && ai2text --help > /dev/null \
 && python -c "import deployments.app, training, ray; assert ray.__version__ == '${RAY_VERSION}'"
# Serve HTTP, Ray dashboard, GCS.
EXPOSE 8000 8265 6379
