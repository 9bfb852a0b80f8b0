# stratus in a container: `docker build -t stratus . && docker run -p 4566:4566 stratus`.
# Every step calls scripts/setup.sh or CMake, the same calls CI makes (no Docker engine
# runs in CI; tests/packaging checks the runtime package list against the binary).
FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
RUN bash scripts/setup.sh
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSTRATUS_UNIT_ONLY=OFF \
 && cmake --build build -j"$(nproc)" --target stratus \
 && (cd lambda/runtimes && npm ci --no-audit --no-fund --silent) \
 && cmake --install build --prefix /opt/stratus

FROM debian:bookworm-slim
COPY scripts/setup.sh /tmp/setup.sh
RUN bash /tmp/setup.sh --runtime && rm -rf /var/lib/apt/lists/* /tmp/setup.sh
COPY --from=build /opt/stratus/bin/stratus /usr/local/bin/stratus
# The Lambda runtimes' bootstraps and the AWS SDK node handlers import.
COPY --from=build /src/lambda/runtimes /usr/local/share/stratus/runtimes
WORKDIR /app
EXPOSE 4566 3000 8080
ENTRYPOINT ["stratus","start","--host","0.0.0.0"]
