package runtime

import (
	"context"
	"time"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// CommandRunner is a runtime that can run a command inside one of its
// running containers, as an exec probe needs. It is optional: the prober
// fails an exec probe on a runtime without it.
type CommandRunner interface {
	// ExecSync runs cmd in container id (spec c of pod) and waits at most
	// timeout for it. It returns the command's combined output and exit
	// code; err is for a command that could not be run or timed out.
	ExecSync(ctx context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, id string, cmd []string, timeout time.Duration) (output []byte, exitCode int32, err error)
}

// ProbeSimulator is a runtime whose containers do not really run (the fake
// runtime of simulated nodes), so it decides the outcome of some probes
// itself.
type ProbeSimulator interface {
	// SimulateProbe returns the outcome of the probe of kind probeType
	// ("liveness", "readiness" or "startup") of container name in pod, and
	// simulated=false when the probe should be run for real.
	SimulateProbe(pod *v1alpha1.Pod, name, probeType string, handler *v1alpha1.ProbeHandler) (success bool, message string, simulated bool)
}

// Wrapper is a runtime that adds something (a cache, metrics) to another
// runtime, which Unwrap returns.
type Wrapper interface {
	Unwrap() Runtime
}

// As finds, in rt or the runtimes it wraps, one that implements T: the
// optional interfaces above are implemented by the innermost runtime only.
func As[T any](rt Runtime) (T, bool) {
	for rt != nil {
		if t, ok := rt.(T); ok {
			return t, true
		}
		w, ok := rt.(Wrapper)
		if !ok {
			break
		}
		rt = w.Unwrap()
	}
	var zero T
	return zero, false
}
