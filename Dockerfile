# Annexa agent image: `annexa schedule --now` by default; config and store live in the /data volume.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY collector ./collector
COPY connectors ./connectors
COPY control_mappings ./control_mappings
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[all]"

FROM python:3.11-slim
LABEL org.opencontainers.image.title="annexa" \
      org.opencontainers.image.description="Automated evidence collector for ISO/IEC 27001:2022 Annex A" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --gid 10001 annexa && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin annexa \
    && mkdir /data && chown annexa:annexa /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels "annexa[all]==0.1.0" && rm -rf /wheels
ENV ANNEXA_CONFIG=/data/annexa.yaml \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# Healthy once a run finished in the last 26 hours; the first scheduled run may take a while.
HEALTHCHECK --interval=5m --timeout=30s --start-period=1h --retries=3 CMD ["annexa", "health"]
ENTRYPOINT ["annexa"]
CMD ["schedule", "--now"]
