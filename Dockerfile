# Portcullis as a sidecar image (SPEC section 7; docker/README.md explains every choice).
#
#   mvn -q -B package -DskipTests          # builds gateway-server/target/portcullis.jar and
#                                          # gateway-docker/target/native/ (Netty's epoll libraries)
#   docker build -t portcullis .
#   docker run --rm --init --read-only --tmpfs /tmp -p 8080:8080 portcullis
#
# The base is a build argument: any image with a Java 17+ runtime on PATH and a POSIX sh (bash
# for the HEALTHCHECK). Java 21+ verifies ES256 tokens about 2.5x faster than 17. CI builds on a
# local Debian image with openjdk-17-jre-headless and tini because it cannot pull (.ci/run).
# This file only copies and declares: no RUN, so it also builds on locked-down builders.
ARG BASE_IMAGE=eclipse-temurin:21-jre
FROM ${BASE_IMAGE}

COPY gateway-server/target/portcullis.jar /opt/portcullis/portcullis.jar
# On java.library.path, so Netty loads epoll without extracting it to a (noexec) /tmp.
COPY gateway-docker/target/native/ /opt/portcullis/native/
COPY config/logback.xml /opt/portcullis/logback.xml
COPY docker/entrypoint.sh docker/healthcheck.sh /opt/portcullis/
COPY config/policy.yaml /etc/portcullis/policy.yaml
COPY config/keys/ /etc/portcullis/keys/

ENV PORTCULLIS_CONFIG=/etc/portcullis/policy.yaml \
    PORTCULLIS_ADMIN_ADDR=127.0.0.1:9901 \
    JAVA_OPTS=""

# A numeric uid/gid that exists in no base image: no home, no shell, owns nothing it could change.
USER 10001:10001
WORKDIR /tmp

EXPOSE 8080 9901
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 CMD ["/opt/portcullis/healthcheck.sh"]

ENTRYPOINT ["/opt/portcullis/entrypoint.sh"]
CMD ["run"]
