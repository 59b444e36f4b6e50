# syntax=docker/dockerfile:1
# One image holding every binary of the workspace: the four services, the single-process server
# (`chat-backend`, the default command) and the container health probe (`healthcheck`).
#
#   docker build -t chat-backend:dev .
#   docker run --rm -p 3000:3000 chat-backend:dev          # the single-process server
#
# Compose and the Kubernetes manifests pick the binary with `command:`.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src

# Dependencies first, from the manifests alone, so this layer is reused until they change. Every
# workspace member's Cargo.toml is listed here (scripts/check-deploy.sh checks that none is
# missing); each gets an empty lib.rs and main.rs for as long as Cargo loads the workspace.
COPY Cargo.toml Cargo.lock ./
COPY proto/Cargo.toml proto/
COPY service-runtime/Cargo.toml service-runtime/
COPY auth-service/Cargo.toml auth-service/
COPY chat-service/Cargo.toml chat-service/
COPY presence-service/Cargo.toml presence-service/
COPY gateway/Cargo.toml gateway/
COPY bench/Cargo.toml bench/
RUN find . -name Cargo.toml -execdir mkdir -p src \; -execdir touch src/lib.rs src/main.rs \; \
    && cargo fetch --locked \
    && find . -name Cargo.toml -execdir rm src/lib.rs src/main.rs \;

# Then the sources, built offline from what was fetched. The target directory is a build cache,
# so compiled dependencies survive source changes too; the binaries are copied out of it.
COPY . .
RUN --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --offline --workspace --bins \
    && mkdir /out \
    && for bin in chat-backend auth-service chat-service presence-service gateway healthcheck; do \
           cp "target/release/$bin" /out/; \
       done

FROM debian:bookworm-slim AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A fixed numeric user, so Kubernetes' runAsNonRoot can check it without a passwd lookup.
RUN groupadd --system --gid 10001 chat \
    && useradd --system --uid 10001 --gid chat --no-create-home --shell /usr/sbin/nologin chat \
    && mkdir /data \
    && chown 10001:10001 /data
COPY --from=build /out/ /usr/local/bin/
USER 10001:10001
WORKDIR /data
# gateway / chat-backend, auth-service, chat-service, presence-service
EXPOSE 3000 50051 50052 50053
CMD ["chat-backend", "--listen", "0.0.0.0:3000", "--data-dir", "/data"]
