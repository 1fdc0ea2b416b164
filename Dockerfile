# The cove engine. Not built or tested on the project's machines (no Docker
# engine runs there); kept minimal on purpose.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
COPY sdk ./sdk
RUN pip install --no-cache-dir -c constraints.txt . ./sdk/python
# Modules and the engine config are mounted at /srv/cove; data lives in a volume.
VOLUME ["/srv/cove", "/var/lib/cove"]
WORKDIR /srv/cove
EXPOSE 8788 9464
ENTRYPOINT ["cove", "run", "--config", "/srv/cove/cove-engine.toml"]
