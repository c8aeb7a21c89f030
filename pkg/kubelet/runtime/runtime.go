// Package runtime is the small interface the kubelet drives containers
// through, whatever runs them: host processes, a CRI runtime, or nothing at
// all. The kubelet decides what should run; a runtime only does what it is
// told and reports what it has.
package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// State is the coarse state of one container attempt.
type State string

const (
	// StateCreated: created but not (yet) started.
	StateCreated State = "Created"
	// StateRunning: its process runs.
	StateRunning State = "Running"
	// StateExited: its process has ended; ExitCode and FinishedAt are set.
	StateExited State = "Exited"
)

// Container is what a runtime knows about one attempt of one container of a
// pod. A runtime keeps exited attempts until they are removed, so the kubelet
// can count restarts and serve the previous attempt's logs.
type Container struct {
	// ID is unique within the runtime; the API shows it as <type>://<ID>.
	ID string
	// PodUID, PodNamespace and PodName name the pod the container belongs to.
	PodUID       types.UID
	PodNamespace string
	PodName      string
	// Name is the container's name in the pod spec.
	Name string
	// Attempt counts the container's starts from 0; it is the restart count.
	Attempt uint32
	// Image and ImageID are the image the container runs, as the runtime knows it.
	Image   string
	ImageID string

	State      State
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	// ExitCode, Signal, Reason and Message describe an exited container.
	ExitCode int32
	Signal   int32
	Reason   string
	Message  string

	// LogPath is the container's log file, in the CRI log format.
	LogPath string

	// Hash is HashContainer of the spec the container was started from, or
	// empty for a container started by a kubelet that did not record it.
	Hash string
}

// Runtime runs containers for the kubelet. Implementations are safe for
// concurrent use; calls for different pods may run in parallel.
type Runtime interface {
	// Type names the runtime: it prefixes container IDs in pod status
	// (process://abc) and the node's containerRuntimeVersion.
	Type() string
	// Version reports the runtime's version; an error means the runtime is
	// not usable and the node is not ready.
	Version(ctx context.Context) (string, error)
	// StartContainer creates and starts attempt number attempt of container c
	// of pod, creating whatever the pod needs first (a sandbox, a directory).
	// A failure the pod status should show is a *StartError.
	StartContainer(ctx context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, attempt uint32) (id string, err error)
	// StopContainer asks the container to stop (SIGTERM) and kills it
	// (SIGKILL) when it has not stopped after grace. It returns once the
	// container has exited; stopping an exited container is not an error.
	StopContainer(ctx context.Context, id string, grace time.Duration) error
	// RemoveContainer forgets an exited container and deletes its logs.
	RemoveContainer(ctx context.Context, id string) error
	// ListContainers returns every container the runtime has, running or not,
	// for every pod, including those started before the kubelet restarted.
	ListContainers(ctx context.Context) ([]Container, error)
	// RemovePod stops whatever is left of the pod and deletes everything the
	// runtime keeps for it.
	RemovePod(ctx context.Context, uid types.UID) error
}

// SandboxRemover is a runtime that keeps a sandbox per pod (a CRI
// runtime's pause container). A kubelet that stops its containers on exit
// also removes the sandboxes, so nothing of its pods keeps running.
type SandboxRemover interface {
	// RemoveAllSandboxes stops and removes every sandbox of this node.
	RemoveAllSandboxes(ctx context.Context) error
}

// Reasons a container fails to start, shown as its waiting reason. They are
// the reasons upstream's kubelet uses.
const (
	ReasonErrImagePull         = "ErrImagePull"
	ReasonErrImageNeverPull    = "ErrImageNeverPull"
	ReasonCreateContainerError = "CreateContainerError"
	ReasonRunContainerError    = "RunContainerError"
)

// StartError is a failure to start a container that the pod's status shows:
// Reason becomes the container's waiting reason and Message its message.
type StartError struct {
	Reason  string
	Message string
}

func (e *StartError) Error() string { return fmt.Sprintf("%s: %s", e.Reason, e.Message) }

// IsImageError reports whether err is a failure to get the container's image,
// which the kubelet retries with ImagePullBackOff whatever the restart policy.
func IsImageError(err error) bool {
	var se *StartError
	return errors.As(err, &se) && (se.Reason == ReasonErrImagePull || se.Reason == ReasonErrImageNeverPull)
}

// HashContainer returns a hash of a container's spec, which a runtime
// records with each container it starts: when the pod's spec of the container
// changes (a new image, a new command), the hash differs and the kubelet
// restarts the container, as upstream's kubelet does with its container hash.
func HashContainer(c *v1alpha1.Container) string {
	// Encoding a Container cannot fail: it holds only strings, numbers,
	// slices and maps of them.
	data, _ := json.Marshal(c)
	h := fnv.New64a()
	_, _ = h.Write(data)
	return strconv.FormatUint(h.Sum64(), 16)
}

// SpecChanged reports whether c was started from a spec other than spec.
// A container whose hash was not recorded has not changed.
func SpecChanged(c *Container, spec *v1alpha1.Container) bool {
	return c.Hash != "" && c.Hash != HashContainer(spec)
}

// ErrNotFound is returned (wrapped) for a container ID the runtime does not know.
var ErrNotFound = errors.New("container not found")

// ContainerID formats a container's ID as pod status shows it.
func ContainerID(runtimeType, id string) string { return runtimeType + "://" + id }

// PodContainers returns the containers of one pod from a runtime listing.
func PodContainers(all []Container, uid types.UID) []Container {
	var out []Container
	for _, c := range all {
		if c.PodUID == uid {
			out = append(out, c)
		}
	}
	return out
}

// Latest returns the newest attempt of the named container and the one
// before it (the "previous" one for logs), either of which may be nil.
func Latest(containers []Container, name string) (latest, previous *Container) {
	for i := range containers {
		c := &containers[i]
		if c.Name != name {
			continue
		}
		switch {
		case latest == nil || c.Attempt > latest.Attempt:
			previous, latest = latest, c
		case previous == nil || c.Attempt > previous.Attempt:
			previous = c
		}
	}
	return latest, previous
}
