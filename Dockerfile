# wirefeed: build in the Rust image, run in a slim Debian of the same
# release (bookworm on both sides: same glibc).

FROM rust:1-slim-bookworm AS build
WORKDIR /src
# Dependencies first, in their own layer: a source change does not
# rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/pipeline.rs \
    && cargo build --release --locked \
    && rm -rf src target/release/deps/wirefeed-* target/release/deps/libwirefeed-* target/release/.fingerprint/wirefeed-*
COPY src ./src
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 wirefeed \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin wirefeed \
    && mkdir -p /articles /media /var/lib/wirefeed /etc/wirefeed \
    && chown 10001:10001 /articles /media /var/lib/wirefeed
COPY --from=build /src/target/release/wirefeed /usr/local/bin/wirefeed
COPY config/wirefeed.toml /etc/wirefeed/wirefeed.toml
# Inside the container: all interfaces, articles, media and state on volumes.
ENV WIREFEED_CONFIG=/etc/wirefeed/wirefeed.toml \
    WIREFEED_ARTICLES_DIR=/articles \
    WIREFEED_MEDIA_DIR=/media \
    WIREFEED_STATE_DIR=/var/lib/wirefeed \
    WIREFEED_SERVER_LISTEN=0.0.0.0:8080
VOLUME ["/articles", "/media", "/var/lib/wirefeed"]
EXPOSE 8080
USER 10001:10001
# Slim images have no curl: the binary probes /healthz itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["wirefeed", "healthcheck"]
ENTRYPOINT ["wirefeed"]
CMD ["serve"]
