# syntax=docker/dockerfile:1
#
# skiff's image: every binary in cmd/, statically linked, on a distroless base
# with CA certificates and a non-root user. Built by `make image`, which
# passes the version stamps from git; the same sources and build arguments
# give the same binaries (-trimpath, no VCS stamping, the build date taken
# from the commit rather than the clock).

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=v1.37.2-skiff.0
ARG GIT_COMMIT=unknown
ARG GIT_TREE_STATE=unknown
ARG BUILD_DATE=1970-01-01T00:00:00Z
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -tags fieldsv1string \
      -ldflags "-s -w \
        -X k8s.io/component-base/version.gitVersion=${VERSION} \
        -X k8s.io/component-base/version.gitMajor=1 \
        -X k8s.io/component-base/version.gitMinor=37 \
        -X k8s.io/component-base/version.gitCommit=${GIT_COMMIT} \
        -X k8s.io/component-base/version.gitTreeState=${GIT_TREE_STATE} \
        -X k8s.io/component-base/version.buildDate=${BUILD_DATE}" \
      -o /out/ ./cmd/...

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
USER 65532:65532
# The API server by default (`docker run skiff:dev --version`); the
# manifests name each container's binary with command:.
ENTRYPOINT ["/usr/local/bin/skiff-apiserver"]
