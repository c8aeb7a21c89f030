package cri

import (
	"context"
	"fmt"
	"math"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

var _ runtime.CommandRunner = &Runtime{}

// ExecSync implements runtime.CommandRunner with the CRI ExecSync call,
// which runs the command in the container and waits for it.
func (r *Runtime) ExecSync(ctx context.Context, _ *v1alpha1.Pod, c *v1alpha1.Container, id string, cmd []string, timeout time.Duration) ([]byte, int32, error) {
	// The runtime enforces the timeout; the call gets a little longer, so
	// its answer arrives rather than a deadline of our own.
	ctx, cancel := context.WithTimeout(ctx, timeout+2*time.Second)
	defer cancel()
	secs := int64(math.Ceil(timeout.Seconds()))
	resp, err := r.rt.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: secs})
	if err != nil {
		return nil, 0, fmt.Errorf("exec %q in container %s (%s): %w", cmd, c.Name, id, err)
	}
	out := append(resp.GetStdout(), resp.GetStderr()...)
	return out, resp.GetExitCode(), nil
}
