# One image recipe for the four services and the operator: they share the SDK, the runtime, the user and the
# hardening, and differ only in the project they publish. Pick it with --build-arg PROJECT=<folder/project>,
# e.g. services/Platform.Auth or operator/Platform.Operator (skaffold.yaml and `make images` do).
#
#   docker build --build-arg PROJECT=services/Platform.Tasks -t platform-tasks .
#   docker run platform-tasks migrate        # the schema step; no argument: serve on :8080
ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
ARG PROJECT
RUN test -n "$PROJECT" || { echo "--build-arg PROJECT=services/Platform.X is required" >&2; exit 1; }
WORKDIR /src
# Project files first: the restore layer is reused until a dependency changes, not on every source edit.
COPY global.json nuget.config Directory.Build.props Directory.Packages.props ./
COPY libraries/Platform.Api/Platform.Api.csproj libraries/Platform.Api/
COPY libraries/Platform.Authentication/Platform.Authentication.csproj libraries/Platform.Authentication/
COPY libraries/Platform.Broker/Platform.Broker.csproj libraries/Platform.Broker/
COPY libraries/Platform.Contracts/Platform.Contracts.csproj libraries/Platform.Contracts/
COPY libraries/Platform.Data/Platform.Data.csproj libraries/Platform.Data/
COPY libraries/Platform.Hosting/Platform.Hosting.csproj libraries/Platform.Hosting/
COPY libraries/Platform.Messaging/Platform.Messaging.csproj libraries/Platform.Messaging/
COPY libraries/Platform.Redis/Platform.Redis.csproj libraries/Platform.Redis/
COPY ${PROJECT}/*.csproj ${PROJECT}/
RUN dotnet restore "${PROJECT}"
COPY libraries/ libraries/
COPY ${PROJECT}/ ${PROJECT}/
RUN dotnet publish "${PROJECT}" -c Release --no-restore -o /out -p:UseAppHost=true \
 && ln -s "$(basename "${PROJECT}")" /out/entrypoint

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}
# The runtime writes nothing outside /tmp (the charts mount an emptyDir there), so the root filesystem can be
# read-only; the diagnostics IPC socket is off because nobody attaches a debugger in a cluster.
# A thread-pool worker with nothing to do sleeps at once instead of spinning: below saturation the spinning cost up
# to half the CPU per request, at saturation nothing (make bench, scenario "runtime"; scripts/platform.sh sets the same).
ENV DOTNET_EnableDiagnostics=0 \
    DOTNET_gcServer=1 \
    DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 \
    ASPNETCORE_HTTP_PORTS=8080
WORKDIR /app
COPY --from=build /out/ ./
# APP_UID is the unprivileged "app" user the official .NET images define.
USER $APP_UID
# 8081: auth and tasks also listen there for the gateway, HTTP/2 only, when the chart configures it (edge.http2Upstreams).
EXPOSE 8080 8081
# The apphost behind this symlink resolves its own real path, so `<image> migrate` runs that binary's command.
ENTRYPOINT ["/app/entrypoint"]
