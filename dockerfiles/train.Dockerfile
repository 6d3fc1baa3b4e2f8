# Helmet detector trainer on a PyTorch runtime. The GPU request lives in pipeline.yaml.
# Two ways to its frameworks:
#   FRAMEWORKS_FROM=pypi (default): a CUDA PyTorch base, ultralytics and onnxruntime from PyPI or a mirror;
#   FRAMEWORKS_FROM=base: the base image already carries torch, torchvision, onnx and onnxruntime
#     (e.g. helmet/pytorch-cpu:2.6, made offline from Debian 13's packages by scripts/services.sh);
#     the trainer then uses torchvision's detector.
ARG BASE_IMAGE=pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime
FROM ${BASE_IMAGE}
ARG FRAMEWORKS_FROM=pypi
# A PyPI mirror for air-gapped builds, e.g. a Harbor/Nexus proxy.
ARG PIP_INDEX_URL=https://pypi.org/simple
# Frameworks deliberately left out (offline builds from a plain base), comma-separated. The image
# says so in a label, and the entrypoint fails at once naming what is missing.
ARG ABSENT_FRAMEWORKS=
LABEL io.helmet.frameworks-absent="${ABSENT_FRAMEWORKS}" io.helmet.frameworks-from="${FRAMEWORKS_FROM}"
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY requirements.txt /app/requirements.txt
# pip downloads stay in a BuildKit cache mount: a rebuild after a requirements change fetches only what is new.
RUN --mount=type=cache,target=/root/.cache/pip \
    if [ -n "$ABSENT_FRAMEWORKS" ]; then \
      echo "not installing: $ABSENT_FRAMEWORKS"; \
    elif [ "$FRAMEWORKS_FROM" = base ]; then \
      python3 -c "import torch, torchvision, onnx, onnxruntime" && echo "frameworks from the base image"; \
    else \
      apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 && rm -rf /var/lib/apt/lists/* && \
      python3 -m pip install --index-url "$PIP_INDEX_URL" -r /app/requirements.txt; \
    fi
COPY . /app
