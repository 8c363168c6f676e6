# syntax=docker/dockerfile:1
#
# gcctl in a minimal image: a static musl binary on distroless/static (CA
# certificates, /tmp and /etc/passwd, no shell). The `*alpine` targets put
# the same binary on Alpine with a shell and curl, for CI systems that run
# scripts inside the image (GitLab CI). Two ways to fill them:
#
# - default target, from source:
#     docker build --build-arg GCCTL_COMMIT="$(git rev-parse --short HEAD)" -t gcctl .
# - `prebuilt`, from released binaries unpacked into dist/linux-<arch>/gcctl
#   (what .github/workflows/release.yml publishes to ghcr.io):
#     docker buildx build --target prebuilt --platform linux/amd64,linux/arm64 .
#
# Run it in the directory that holds the manifests:
#     docker run --rm -v "$PWD:/work" -w /work --user "$(id -u):$(id -g)" \
#       -e GENESYSCLOUD_OAUTHCLIENT_ID -e GENESYSCLOUD_OAUTHCLIENT_SECRET \
#       -e GENESYSCLOUD_REGION gcctl plan manifests/

ARG RUST_VERSION=1.95
ARG RUNTIME=gcr.io/distroless/static-debian12

FROM ${RUNTIME} AS prebuilt
ARG TARGETARCH
COPY dist/linux-${TARGETARCH}/gcctl /usr/local/bin/gcctl
ENTRYPOINT ["/usr/local/bin/gcctl"]

FROM alpine:3.22 AS prebuilt-alpine
RUN apk add --no-cache ca-certificates curl
ARG TARGETARCH
COPY dist/linux-${TARGETARCH}/gcctl /usr/local/bin/gcctl
ENTRYPOINT ["/usr/local/bin/gcctl"]

FROM rust:${RUST_VERSION}-alpine AS build
# ring (TLS) compiles C; on Alpine the Rust target is musl and links statically.
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
# .git is not in the build context: name the commit for `gcctl --version`.
ARG GCCTL_COMMIT=unknown
ARG SOURCE_DATE_EPOCH
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    GCCTL_COMMIT="${GCCTL_COMMIT}" cargo build --locked --profile dist --bin gcctl \
    && cp target/dist/gcctl /usr/local/bin/gcctl \
    && /usr/local/bin/gcctl --version

FROM alpine:3.22 AS alpine
RUN apk add --no-cache ca-certificates curl
COPY --from=build /usr/local/bin/gcctl /usr/local/bin/gcctl
ENTRYPOINT ["/usr/local/bin/gcctl"]

# The default target (last): distroless, from source.
FROM ${RUNTIME} AS gcctl
COPY --from=build /usr/local/bin/gcctl /usr/local/bin/gcctl
ENTRYPOINT ["/usr/local/bin/gcctl"]
