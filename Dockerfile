# medianest-perf in a container: built on Debian 12 by the same scripts CI runs, shipped on
# Debian 12 slim with only the shared libraries the binary links.
#   docker build -t medianest-perf .
#   docker run -p 4000:4000 -v medianest-data:/var/lib/medianest medianest-perf
# docker-compose.yml at the root runs it with PostgreSQL, Redis, Prometheus, Alertmanager and
# Grafana (README, "Deployment").

# -- build ---------------------------------------------------------------------------------
FROM debian:12 AS build
WORKDIR /src
# The package list first, so that the layer with the -dev packages survives source changes.
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh --build-only && rm -rf /var/lib/apt/lists/*
COPY . .
RUN scripts/build.sh build medianest-perf \
 && strip --strip-debug -o /medianest-perf build/medianest-perf

# -- runtime -------------------------------------------------------------------------------
FROM debian:12-slim
# The packages of the libraries `readelf -d medianest-perf` lists as NEEDED (apt brings their
# own dependencies; libstdc++6, libgcc-s1 and libc6 are in the base image; SOCI, SQLite,
# hiredis, spdlog, Boost.JSON and Boost.System are built in) and of the two it loads with dlopen
# when configured: libcurl4 (notifications) and libssl3 (PostgreSQL over TLS);
# ca-certificates for https webhooks, smtps and sslrootcert=system; curl for the HEALTHCHECK.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcaf-core0.17 libcurl4 libfmt9 libssl3 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 medianest \
 && useradd --system --uid 10001 --gid medianest --home-dir /var/lib/medianest \
      --no-create-home --shell /usr/sbin/nologin medianest \
 && install -d -o medianest -g medianest -m 0750 /var/lib/medianest

COPY --from=build /medianest-perf /usr/local/bin/medianest-perf

# The environment as well as the command line: `docker run … medianest-perf token --role
# admin` then finds the same data directory (and JWT secret) as the daemon.
ENV MEDIANEST_LISTEN=0.0.0.0:4000 \
    MEDIANEST_DATA_DIR=/var/lib/medianest

USER medianest
WORKDIR /var/lib/medianest
VOLUME /var/lib/medianest
EXPOSE 4000

HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:4000/health || exit 1

ENTRYPOINT ["/usr/local/bin/medianest-perf"]
CMD ["serve", "--listen", "0.0.0.0:4000", "--data-dir", "/var/lib/medianest"]
