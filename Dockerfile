# The cove engine. Not built or tested on the project's machines (no Docker
# engine runs there); kept minimal on purpose.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py constraints.txt README.md ./
COPY src ./src
COPY sdk ./sdk
# gcc only while installing: it builds the wasm fast path's C extension
# (without it cove runs the ctypes fast path; `cove check` says which).
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install --no-cache-dir -c constraints.txt . ./sdk/python \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
# Modules and the engine config are mounted at /srv/cove; data lives in a volume.
VOLUME ["/srv/cove", "/var/lib/cove"]
WORKDIR /srv/cove
EXPOSE 8788 9464
ENTRYPOINT ["cove", "run", "--config", "/srv/cove/cove-engine.toml"]
