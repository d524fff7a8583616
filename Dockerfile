# syntax=docker/dockerfile:1
# Tether's image: built from this repository with Maven, run on a JRE.
#   docker build -t tether .
#   docker run -p 8080:8080 -v "$PWD/conf/tether.yaml:/etc/tether/tether.yaml:ro" tether
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
# the documented example; docker-compose.yml mounts conf/compose.yaml over it
COPY conf/tether.yaml /etc/tether/tether.yaml
USER tether
EXPOSE 8080 9090
# SIGTERM (docker stop) drains in-flight requests for up to shutdown_timeout, then exits 0
ENTRYPOINT ["java", "-jar", "tether.jar"]
CMD ["run", "--config", "/etc/tether/tether.yaml"]
