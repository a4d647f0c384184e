# The harbor-robot-operator image, from the shaded jar Maven builds. Build it from the repository
# root (the .dockerignore keeps the build context down to that one jar):
#
#   mvn -B package -DskipTests
#   docker build -t ghcr.io/harborrobot/harbor-robot-operator:$(mvn -q help:evaluate -Dexpression=project.version -DforceStdout) .
#
# The Jib profile of pom.xml (mvn -Pimage package -DskipTests) builds the same image without a
# Docker daemon: same base, user, port, JVM flags and labels. ImageDefinitionTest keeps the two,
# and this file's VERSION, in step with the pom.

# gcr.io/distroless/java17-debian12 with the nonroot user (65532): a JRE, CA certificates and
# nothing else (no shell, no package manager). The pom's image.base; override it only with a mirror
# of the same image: --build-arg BASE_IMAGE=my-mirror/distroless/java17-debian12:nonroot
ARG BASE_IMAGE=gcr.io/distroless/java17-debian12:nonroot
FROM ${BASE_IMAGE}

# The pom's version, for the version label (--build-arg VERSION=... for another build).
ARG VERSION=0.1.0-SNAPSHOT
ARG BASE_IMAGE

LABEL org.opencontainers.image.title="harbor-robot-operator" \
      org.opencontainers.image.description="Kubernetes operator that manages Harbor robot accounts and their pull Secrets" \
      org.opencontainers.image.source="https://github.com/harborrobot/harbor-robot-operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"

# Owned by root and not writable by the operator's user: the application cannot change itself.
COPY target/harbor-robot-operator.jar /app/harbor-robot-operator.jar

# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 65532:65532

# /metrics (Prometheus), /healthz (liveness) and /readyz (readiness): --metrics-port / METRICS_PORT.
EXPOSE 8080

# The heap follows the container's memory limit (75 % of it); an OutOfMemoryError ends the process
# so that Kubernetes restarts it instead of leaving it half alive; no hsperfdata file in /tmp;
# the C1 compiler only (the C2 compiler took half the CPU of a cold start: docs/performance.md).
# No arguments runs the operator (`run`); its options come from environment variables.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-jar", "/app/harbor-robot-operator.jar"]
