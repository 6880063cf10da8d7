# newsdedup: one image for the scheduler and the workers (`newsdedup schedule` / `newsdedup worker`).
FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY docqueue ./docqueue
COPY dedup ./dedup
COPY crawler ./crawler
COPY scheduler ./scheduler
COPY newsdedup ./newsdedup
RUN python -m venv /opt/venv && /opt/venv/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 NEWSDEDUP_DATA=/data
COPY --from=build /opt/venv /opt/venv
RUN useradd --system --uid 10001 --home-dir /data --create-home newsdedup
USER newsdedup
WORKDIR /data
# SIGTERM: the worker finishes (or hands back) its tasks in flight; compose gives it 30 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["newsdedup"]
CMD ["worker"]
