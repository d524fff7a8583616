# syntax=docker/dockerfile:1
# Tether's image: built from this repository with Maven, run on a JRE.
#   docker build -t tether .
#   docker run -p 8080:8080 -v "$PWD/conf/tether.yaml:/etc/tether/tether.yaml:ro" tether
# JVM flags: conf/jvm.options (README, "JVM settings"); mount another file over /opt/tether/jvm.options to change
# one (JAVA_TOOL_OPTIONS can add flags, but the file's win over it).
# docker-compose.yml uses it with conf/compose.yaml (docs/php-memcached.md).

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml ./
COPY src/main ./src/main
# the tests need Apache, PHP, memcached and a browser: they run in CI (`mvn -B verify`), not in the image build
RUN --mount=type=cache,target=/root/.m2 mvn -B -q package -Dmaven.test.skip=true

FROM eclipse-temurin:17-jre
RUN groupadd --system tether && useradd --system --gid tether --no-create-home --home-dir /opt/tether tether
WORKDIR /opt/tether
COPY --from=build /src/target/tether.jar ./tether.jar
COPY conf/jvm.options ./jvm.options
# the documented example; docker-compose.yml mounts conf/compose.yaml over it
COPY conf/tether.yaml /etc/tether/tether.yaml
USER tether
EXPOSE 8080 9901
# liveness from the admin listener (no token needed; 503 while draining): curl comes with the temurin image. A
# config whose admin listener is off or on another port needs its own HEALTHCHECK (or HEALTHCHECK NONE).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:9901/healthz || exit 1
# SIGTERM (docker stop) drains in-flight requests for up to shutdown_timeout, then exits 0: give docker stop a longer
# grace period (--time, compose stop_grace_period) than that. Java as PID 1 is fine: Tether handles TERM and INT.
# A fixed heap (-Xmx128m in jvm.options), not a share of the container's limit (-XX:MaxRAMPercentage, which -Xmx
# overrides anyway): Tether's memory follows its connections, not the limit. Out of memory, the JVM exits
# (-XX:+ExitOnOutOfMemoryError) and the restart policy brings it back.
ENTRYPOINT ["java", "@/opt/tether/jvm.options", "-jar", "tether.jar"]
CMD ["run", "--config", "/etc/tether/tether.yaml"]
