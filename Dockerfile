# syntax=docker/dockerfile:1
# One image for the operator and the gateway: `buildpool operator`, `buildpool gateway`.
# It follows the cache practices BuildPool exists for: restore from the project files alone,
# keep NuGet's package folder in a cache mount, copy sources last, and keep volatile ARGs late.

# Where the .NET SDK and ASP.NET runtime images come from. The default is Microsoft's own
# path for them, so `docker build -t buildpool:dev .` works with no arguments; a mirror
# overrides it: docker build --build-arg DOTNET_IMAGES=<your-mirror>/dotnet -t buildpool:dev .
ARG DOTNET_IMAGES=mcr.microsoft.com/dotnet

FROM ${DOTNET_IMAGES}/sdk:10.0 AS build
WORKDIR /src
# Project files first: the restore layer is reused until a dependency changes.
COPY --link global.json Directory.Build.props Directory.Packages.props BuildPoolOperator.sln ./
COPY --link src/BuildPool.Api/BuildPool.Api.csproj src/BuildPool.Api/
COPY --link src/BuildPool.Runtime/BuildPool.Runtime.csproj src/BuildPool.Runtime/
COPY --link src/BuildPool.BuildKit/BuildPool.BuildKit.csproj src/BuildPool.BuildKit/
COPY --link src/BuildPool.Operator/BuildPool.Operator.csproj src/BuildPool.Operator/
COPY --link src/BuildPool.Http2/BuildPool.Http2.csproj src/BuildPool.Http2/
COPY --link src/BuildPool.Gateway/BuildPool.Gateway.csproj src/BuildPool.Gateway/
COPY --link src/BuildPool.LocalApi/BuildPool.LocalApi.csproj src/BuildPool.LocalApi/
COPY --link src/BuildPool.Lint/BuildPool.Lint.csproj src/BuildPool.Lint/
COPY --link src/BuildPool.Host/BuildPool.Host.csproj src/BuildPool.Host/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet restore src/BuildPool.Host/BuildPool.Host.csproj
COPY --link src/ src/
ARG VERSION=0.0.0-dev
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/BuildPool.Host/BuildPool.Host.csproj -c Release --no-restore \
      -p:Version=${VERSION} -o /out

FROM ${DOTNET_IMAGES}/aspnet:10.0 AS runtime
WORKDIR /app
COPY --link --from=build /out/ /app/
# The runtime image's unprivileged user (uid 1654).
USER 1654
ENTRYPOINT ["/app/buildpool"]
CMD ["operator"]
