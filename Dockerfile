# faultline in a slim image, for sweeps on a batch cluster (see README.md, "Sweeps").
#
#   docker build -t faultline .
#   docker run --rm -v "$PWD:/work" faultline sweep /opt/faultline/scenarios/mmc.json \
#       --param /services/pool/concurrency=4..6:1 --out /work/sweep
#
# Stage 1 builds the release binary; stage 2 is Debian slim (the same glibc as the
# builder) with the binary, the example scenarios, and no compiler.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
# The manifests first, so that the dependencies stay cached while only src/ changes.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches tests/it \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && for b in engine hold sweep; do echo 'fn main() {}' > benches/$b.rs; done \
 && echo 'fn main() {}' > tests/it/main.rs \
 && cargo fetch --locked
COPY src ./src
COPY benches ./benches
COPY tests ./tests
RUN cargo build --release --locked --bin faultline \
 && cp target/release/faultline /usr/local/bin/faultline

FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/faultline /usr/local/bin/faultline
COPY scenarios /opt/faultline/scenarios
# An unprivileged user; the sweep folder must be writable by it (uid 10001).
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin faultline
USER 10001
WORKDIR /work
ENTRYPOINT ["faultline"]
CMD ["--help"]
