package app

import (
	"context"
	"path/filepath"

	"skiff.dev/skiff/pkg/kubelet/runtime"
	"skiff.dev/skiff/pkg/kubelet/runtime/cri"
)

// newCRIRuntime connects to the CRI runtime at --container-runtime-endpoint;
// pod logs go under <root-dir>/logs.
func newCRIRuntime(ctx context.Context, o *Options) (runtime.Runtime, error) {
	logRoot, err := filepath.Abs(filepath.Join(o.RootDir, "logs"))
	if err != nil {
		return nil, err
	}
	return cri.New(ctx, cri.Options{
		Endpoint: o.ContainerRuntimeEndpoint,
		NodeName: o.NodeName,
		LogRoot:  logRoot,
		Timeout:  o.RuntimeRequestTimeout,

		PodSandboxImage: o.PodInfraContainerImage,
	})
}
