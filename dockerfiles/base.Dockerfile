# Shared Python runtime for the light steps (ingest, prepare): the standard library is all they need.
# BASE_IMAGE lets offline users and tests build from a local or mirrored Python image.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY . /app
