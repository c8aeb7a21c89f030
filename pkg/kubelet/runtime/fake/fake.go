// Package fake is a runtime without processes: a started container is
// running at once and stays running until it is stopped or a test makes it
// exit. It backs simulated nodes (--runtime fake) and the kubelet's tests.
package fake

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// Type is the runtime's name in container IDs and node info.
const Type = "fake"

// StopCall records one StopContainer call.
type StopCall struct {
	ID    string
	Grace time.Duration
}

// Runtime is the fake runtime.
type Runtime struct {
	// Now stamps container times; tests may replace it before use.
	Now func() time.Time

	mu          sync.Mutex
	containers  map[string]*runtime.Container
	seq         int
	startErrors map[string]error
	versionErr  error
	stops       []StopCall
	onChange    func(types.UID)
}

var _ runtime.Runtime = &Runtime{}

// New returns an empty fake runtime.
func New() *Runtime {
	return &Runtime{Now: time.Now, containers: map[string]*runtime.Container{}}
}

// SetOnChange sets the function told when a test changes a container.
func (f *Runtime) SetOnChange(fn func(types.UID)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onChange = fn
}

// SetStartError makes every start of the named container fail with err until
// it is cleared with nil. A RunContainerError leaves an exited attempt behind
// (exit code 128, reason StartError) as real runtimes do; other errors, such
// as image pull failures, leave nothing.
func (f *Runtime) SetStartError(uid types.UID, name string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErrors == nil {
		f.startErrors = map[string]error{}
	}
	if err == nil {
		delete(f.startErrors, string(uid)+"/"+name)
		return
	}
	f.startErrors[string(uid)+"/"+name] = err
}

// SetVersionError makes Version fail, as a runtime that is down.
func (f *Runtime) SetVersionError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.versionErr = err
}

// Exit makes a running container exit with code.
func (f *Runtime) Exit(id string, code int32) {
	f.mu.Lock()
	c, ok := f.containers[id]
	if ok && c.State == runtime.StateRunning {
		f.exitLocked(c, code)
	}
	notify := f.onChange
	f.mu.Unlock()
	if ok && notify != nil {
		notify(c.PodUID)
	}
}

// Stops returns the StopContainer calls so far.
func (f *Runtime) Stops() []StopCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]StopCall(nil), f.stops...)
}

func (f *Runtime) exitLocked(c *runtime.Container, code int32) {
	c.State, c.ExitCode, c.FinishedAt = runtime.StateExited, code, f.Now()
	c.Reason = "Completed"
	if code != 0 {
		c.Reason = "Error"
	}
}

// Type implements runtime.Runtime.
func (f *Runtime) Type() string { return Type }

// Version implements runtime.Runtime.
func (f *Runtime) Version(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return "0.1.0", f.versionErr
}

// StartContainer implements runtime.Runtime.
func (f *Runtime) StartContainer(_ context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, attempt uint32) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	now := f.Now()
	ct := &runtime.Container{
		ID: strconv.Itoa(f.seq), PodUID: pod.UID, PodNamespace: pod.Namespace, PodName: pod.Name,
		Name: c.Name, Attempt: attempt, Image: c.Image, State: runtime.StateRunning, CreatedAt: now, StartedAt: now,
		Hash: runtime.HashContainer(c),
	}
	if err := f.startErrors[string(pod.UID)+"/"+c.Name]; err != nil {
		var se *runtime.StartError
		if !errors.As(err, &se) || se.Reason != runtime.ReasonRunContainerError {
			return "", err
		}
		ct.State, ct.ExitCode, ct.Reason, ct.Message, ct.FinishedAt = runtime.StateExited, 128, "StartError", se.Message, now
		f.containers[ct.ID] = ct
		return ct.ID, err
	}
	f.containers[ct.ID] = ct
	return ct.ID, nil
}

// StopContainer implements runtime.Runtime: a container stops on SIGTERM
// (exit code 143), or is killed (137) with no grace.
func (f *Runtime) StopContainer(_ context.Context, id string, grace time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[id]
	if !ok {
		return fmt.Errorf("stop container %s: %w", id, runtime.ErrNotFound)
	}
	f.stops = append(f.stops, StopCall{ID: id, Grace: grace})
	if c.State == runtime.StateRunning {
		code := int32(143)
		if grace <= 0 {
			code = 137
		}
		f.exitLocked(c, code)
	}
	return nil
}

// RemoveContainer implements runtime.Runtime.
func (f *Runtime) RemoveContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.containers[id]; ok && c.State == runtime.StateRunning {
		return fmt.Errorf("remove container %s: it is running", id)
	}
	delete(f.containers, id)
	return nil
}

// ListContainers implements runtime.Runtime.
func (f *Runtime) ListContainers(context.Context) ([]runtime.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]runtime.Container, 0, len(f.containers))
	for _, c := range f.containers {
		out = append(out, *c)
	}
	return out, nil
}

// RemovePod implements runtime.Runtime.
func (f *Runtime) RemovePod(_ context.Context, uid types.UID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, c := range f.containers {
		if c.PodUID == uid {
			delete(f.containers, id)
		}
	}
	return nil
}
