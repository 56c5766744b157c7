# Sluice node image. Every stage starts from debian:bookworm-slim and uses
# Debian packages only.
#
#   docker build -t sluice:node .                         # default target: compile inside the image
#   docker build --target prebuilt -t sluice:prebuilt \
#       --build-arg SLUICE_BINARY=build/sluice .     # package a binary built on a bookworm host
#
# Both targets end in the same runtime stage: a non-root user, the binary at
# /usr/local/bin/sluice, the example project at /srv/sluice/project, HTTP on
# 3000 and the node-to-node listener on 4100. docs/cluster.md has the details.

############################################################################
# runtime: only the shared libraries the binary loads (see `ldd`).
FROM debian:bookworm-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates curl \
      libstdc++6 libssl3 libsqlite3-0 libpq5 libpqxx-6.4 \
      libcaf-core0.17 libcaf-io0.17 libcaf-openssl0.17 libboost-system1.74.0 \
      libspdlog1.10 libfmt9 libtomlplusplus3 libprometheus-cpp-core1.0 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 sluice \
 && useradd --system --uid 10001 --gid sluice --home-dir /srv/sluice --no-create-home \
      --shell /usr/sbin/nologin sluice \
 && mkdir -p /srv/sluice/project /srv/sluice/data \
 && chown sluice:sluice /srv/sluice/data
COPY examples/ /srv/sluice/project/
ENV HOST=0.0.0.0 \
    PORT=3000 \
    SLUICE_CLUSTER_PORT=4100
WORKDIR /srv/sluice/data
EXPOSE 3000 4100
STOPSIGNAL SIGTERM
# Docker uses this; podman keeps it only with `--format docker` (compose does
# not need it: HAProxy checks /readyz itself).
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT:-3000}/readyz" || exit 1
USER sluice
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["serve", "--project", "/srv/sluice/project"]

############################################################################
# build: the toolchain and -dev packages of scripts/install-deps.sh.
FROM debian:bookworm-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
ARG BUILD_JOBS=2
RUN cmake -S . -B /tmp/build -DCMAKE_BUILD_TYPE=Release \
      -DSLUICE_BUILD_TESTS=OFF -DSLUICE_BUILD_BENCH=OFF \
 && cmake --build /tmp/build -j"${BUILD_JOBS}" --target sluice \
 && binary=$(find /tmp/build -type f -name sluice -perm -u+x | head -n1) \
 && test -n "$binary" \
 && install -D -m 0755 "$binary" /out/sluice \
 && strip /out/sluice \
 && rm -rf /tmp/build

############################################################################
# prebuilt: package a binary that was built outside (CI builds it anyway).
# It must have been built on Debian bookworm so the libraries above match.
FROM runtime AS prebuilt
ARG SLUICE_BINARY=build/sluice
USER root
COPY ${SLUICE_BINARY} /usr/local/bin/sluice
RUN test -x /usr/local/bin/sluice \
 && if ldd /usr/local/bin/sluice | grep 'not found'; then \
      echo "the runtime stage lacks the libraries above" >&2; exit 1; fi
USER sluice

############################################################################
# node (default): compiled from source in the build stage.
FROM runtime AS node
USER root
COPY --from=build /out/sluice /usr/local/bin/sluice
RUN if ldd /usr/local/bin/sluice | grep 'not found'; then \
      echo "the runtime stage lacks the libraries above" >&2; exit 1; fi
USER sluice
