# syntax=docker/dockerfile:1
# ecs-operator: a static, stripped musl binary on distroless/static, running as non-root.
#   docker build -t ecs-operator .        (CI: .github/workflows/ci.yml, job `image`)
# Builds natively for the platform being built (use buildx for arm64); no C toolchain beyond
# musl-gcc is needed: TLS is rustls with ring, shared by kube and the AWS SDK. Built without
# the `sandbox` feature: the image links neither the simulated AWS account nor local-apiserver.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add "$(uname -m)-unknown-linux-musl"
WORKDIR /src
COPY . .
# The release profile strips symbols (Cargo.toml: [profile.release] strip = true).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    target="$(uname -m)-unknown-linux-musl" \
 && cargo build --release --locked -p ecs-operator --no-default-features --bin ecs-operator --target "$target" \
 && cp "target/$target/release/ecs-operator" /ecs-operator \
 # Fail the build if the binary needs a dynamic loader: distroless/static has none.
 && if readelf -l /ecs-operator | grep -q 'INTERP'; then echo "not static" >&2; exit 1; fi \
 && /ecs-operator --version

# distroless/static: CA certificates, /etc/passwd with nonroot (65532), tzdata; no shell.
FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.source="https://github.com/ecs-operator/ecs-operator" \
      org.opencontainers.image.description="Runs Amazon ECS services from Kubernetes custom resources" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /ecs-operator /ecs-operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/ecs-operator"]
CMD ["run"]
