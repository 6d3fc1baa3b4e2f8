# RKNN conversion (rknn-toolkit2) on a Python runtime.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
# A PyPI mirror for air-gapped builds, e.g. a Harbor/Nexus proxy.
ARG PIP_INDEX_URL=https://pypi.org/simple
# Frameworks deliberately left out (offline builds from a plain base), comma-separated. The image
# says so in a label, and the entrypoint fails at once naming what is missing.
ARG ABSENT_FRAMEWORKS=
LABEL io.helmet.frameworks-absent="${ABSENT_FRAMEWORKS}"
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY requirements.txt /app/requirements.txt
# pip downloads stay in a BuildKit cache mount: a rebuild after a requirements change fetches only what is new.
RUN --mount=type=cache,target=/root/.cache/pip \
    if [ -z "$ABSENT_FRAMEWORKS" ]; then \
      apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 libgomp1 && rm -rf /var/lib/apt/lists/* && \
      python3 -m pip install --index-url "$PIP_INDEX_URL" -r /app/requirements.txt; \
    else \
      echo "not installing: $ABSENT_FRAMEWORKS"; \
    fi
COPY . /app
