// Package cri runs containers through the Container Runtime Interface
// (k8s.io/cri-api over gRPC), as upstream's kuberuntime does, against
// containerd or any CRI runtime: a pod sandbox per pod (host network, until
// skiff has pod networking), its image pulled through the image service,
// then create, start, stop and remove for each container. Logs are the CRI
// log files the runtime writes under the kubelet's root directory.
//
// Every sandbox and container carries labels naming its pod and this node,
// so a restarted kubelet finds what it started, and leaves alone what other
// kubelets sharing the runtime started.
package cri

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// Labels skiff puts on sandboxes and containers.
const (
	LabelNode          = "skiff.dev/node"
	LabelPodUID        = "skiff.dev/pod-uid"
	LabelPodName       = "skiff.dev/pod-name"
	LabelPodNamespace  = "skiff.dev/pod-namespace"
	LabelContainerName = "skiff.dev/container-name"
	// AnnotationContainerHash is the hash of the spec a container runs.
	AnnotationContainerHash = "skiff.dev/container-hash"
)

const maxMsgSize = 16 * 1024 * 1024

// Options configure the CRI runtime.
type Options struct {
	// Endpoint is the runtime's socket, such as
	// unix:///run/containerd/containerd.sock.
	Endpoint string
	// NodeName labels everything this kubelet creates.
	NodeName string
	// LogRoot holds the pods' log directories: <ns>_<name>_<uid>/<container>/<attempt>.log.
	LogRoot string
	// Timeout bounds each call except image pulls; zero means 2 minutes.
	Timeout time.Duration
	// PodSandboxImage, when set, is pulled before the first sandbox is run
	// if the runtime does not have it (upstream's
	// --pod-infra-container-image). The runtime's own configuration
	// (containerd's sandbox_image) names the image it runs; this makes a
	// missing one a clear error on the pod rather than the runtime's.
	PodSandboxImage string
}

// Runtime is the CRI runtime.
type Runtime struct {
	opts    Options
	conn    *grpc.ClientConn
	rt      runtimeapi.RuntimeServiceClient
	images  runtimeapi.ImageServiceClient
	name    string
	version string

	mu sync.Mutex
	// details caches what ContainerStatus said of a container: all of it
	// for an exited one (it no longer changes), the start time and log
	// path for a running one.
	details map[string]*runtimeapi.ContainerStatus
	// sandboxImageReady is set once the sandbox image is known present.
	sandboxImageReady atomic.Bool
	// podLocks serialize sandbox creation per pod.
	podLocks map[types.UID]*sync.Mutex
}

var _ runtime.Runtime = &Runtime{}

// New connects to the runtime at opts.Endpoint and checks that it answers.
func New(ctx context.Context, opts Options) (*Runtime, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Minute
	}
	conn, err := grpc.NewClient(opts.Endpoint,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize), grpc.MaxCallSendMsgSize(maxMsgSize)))
	if err != nil {
		return nil, fmt.Errorf("connect to CRI runtime %s: %w", opts.Endpoint, err)
	}
	r := &Runtime{
		opts: opts, conn: conn,
		rt: runtimeapi.NewRuntimeServiceClient(conn), images: runtimeapi.NewImageServiceClient(conn),
		details: map[string]*runtimeapi.ContainerStatus{}, podLocks: map[types.UID]*sync.Mutex{},
	}
	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := r.rt.Version(vctx, &runtimeapi.VersionRequest{})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("CRI runtime %s: version: %w", opts.Endpoint, err)
	}
	r.name, r.version = v.RuntimeName, v.RuntimeVersion
	klog.InfoS("Connected to CRI runtime", "endpoint", opts.Endpoint, "runtime", v.RuntimeName, "version", v.RuntimeVersion, "apiVersion", v.RuntimeApiVersion)
	return r, nil
}

// Close closes the connection.
func (r *Runtime) Close() error { return r.conn.Close() }

// Type implements runtime.Runtime: the runtime's own name (containerd).
func (r *Runtime) Type() string { return r.name }

// Version implements runtime.Runtime.
func (r *Runtime) Version(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	v, err := r.rt.Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		return "", fmt.Errorf("CRI version: %w", err)
	}
	return v.RuntimeVersion, nil
}

func (r *Runtime) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.opts.Timeout)
}

func (r *Runtime) podLabels(pod *v1alpha1.Pod) map[string]string {
	return map[string]string{
		LabelNode: r.opts.NodeName, LabelPodUID: string(pod.UID), LabelPodName: pod.Name, LabelPodNamespace: pod.Namespace,
	}
}

func (r *Runtime) podLogDir(pod *v1alpha1.Pod) string {
	return filepath.Join(r.opts.LogRoot, fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

// sandboxConfig is the pod's sandbox: host network, IPC and PID of its own.
func (r *Runtime) sandboxConfig(pod *v1alpha1.Pod, attempt uint32) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, Uid: string(pod.UID), Attempt: attempt},
		LogDirectory: r.podLogDir(pod),
		Labels:       r.podLabels(pod),
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{
					Network: runtimeapi.NamespaceMode_NODE,
					Pid:     runtimeapi.NamespaceMode_CONTAINER,
					Ipc:     runtimeapi.NamespaceMode_POD,
				},
			},
		},
	}
}

func (r *Runtime) podLock(uid types.UID) *sync.Mutex {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.podLocks[uid]
	if !ok {
		l = &sync.Mutex{}
		r.podLocks[uid] = l
	}
	return l
}

// ensureSandbox returns the pod's ready sandbox, creating one if there is none.
func (r *Runtime) ensureSandbox(ctx context.Context, pod *v1alpha1.Pod) (string, *runtimeapi.PodSandboxConfig, error) {
	l := r.podLock(pod.UID)
	l.Lock()
	defer l.Unlock()
	sandboxes, err := r.podSandboxes(ctx, pod.UID)
	if err != nil {
		return "", nil, err
	}
	for _, s := range sandboxes {
		if s.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			return s.Id, r.sandboxConfig(pod, s.GetMetadata().GetAttempt()), nil
		}
	}
	if err := r.ensureSandboxImage(ctx); err != nil {
		return "", nil, err
	}
	cfg := r.sandboxConfig(pod, uint32(len(sandboxes)))
	if err := os.MkdirAll(cfg.LogDirectory, 0o755); err != nil {
		return "", nil, fmt.Errorf("create pod log directory: %w", err)
	}
	cctx, cancel := r.call(ctx)
	defer cancel()
	resp, err := r.rt.RunPodSandbox(cctx, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		return "", nil, fmt.Errorf("run pod sandbox: %s", status.Convert(err).Message())
	}
	klog.V(2).InfoS("Started pod sandbox", "pod", klog.KObj(pod), "sandboxID", resp.PodSandboxId)
	return resp.PodSandboxId, cfg, nil
}

// removeSandbox stops and removes one sandbox, and with it its containers.
func (r *Runtime) removeSandbox(ctx context.Context, id string) error {
	cctx, cancel := r.call(ctx)
	defer cancel()
	if _, err := r.rt.StopPodSandbox(cctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("stop pod sandbox %s: %w", id, err)
	}
	if _, err := r.rt.RemovePodSandbox(cctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("remove pod sandbox %s: %w", id, err)
	}
	return nil
}

// RemoveAllSandboxes implements runtime.SandboxRemover: it stops and
// removes every sandbox of this node, with their containers, so a node that
// shuts down leaves no pause container running in the runtime. Pod logs
// stay on disk for the next start.
func (r *Runtime) RemoveAllSandboxes(ctx context.Context) error {
	cctx, cancel := r.call(ctx)
	resp, err := r.rt.ListPodSandbox(cctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{
		LabelSelector: map[string]string{LabelNode: r.opts.NodeName},
	}})
	cancel()
	if err != nil {
		return fmt.Errorf("list pod sandboxes: %w", err)
	}
	var errs []error
	for _, s := range resp.Items {
		if err := r.removeSandbox(ctx, s.Id); err != nil {
			errs = append(errs, err)
			continue
		}
		klog.V(2).InfoS("Removed pod sandbox at shutdown", "pod", klog.KRef(s.GetMetadata().GetNamespace(), s.GetMetadata().GetName()), "sandboxID", s.Id)
	}
	return errors.Join(errs...)
}

// ensureSandboxImage pulls --pod-infra-container-image if the runtime does
// not have it; once present it is not asked about again.
func (r *Runtime) ensureSandboxImage(ctx context.Context) error {
	img := r.opts.PodSandboxImage
	if img == "" || r.sandboxImageReady.Load() {
		return nil
	}
	spec := &runtimeapi.ImageSpec{Image: img, UserSpecifiedImage: img}
	cctx, cancel := r.call(ctx)
	st, err := r.images.ImageStatus(cctx, &runtimeapi.ImageStatusRequest{Image: spec})
	cancel()
	if err != nil {
		return fmt.Errorf("image status of pod sandbox image %q: %s", img, status.Convert(err).Message())
	}
	if st.GetImage() == nil {
		klog.InfoS("Pulling the pod sandbox image", "image", img)
		if _, err := r.images.PullImage(ctx, &runtimeapi.PullImageRequest{Image: spec}); err != nil {
			return fmt.Errorf("pod sandbox image %q is not in the runtime and cannot be pulled (import it, as hack/containerd-up.sh does): %s", img, status.Convert(err).Message())
		}
	}
	r.sandboxImageReady.Store(true)
	return nil
}

// Probe asks the runtime at endpoint for its version, once, within
// timeout: how `skiff up` checks that a runtime is there before it starts
// a kubelet on it.
func Probe(ctx context.Context, endpoint string, timeout time.Duration) (*runtimeapi.VersionResponse, error) {
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("connect to CRI runtime %s: %w", endpoint, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := runtimeapi.NewRuntimeServiceClient(conn).Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		return nil, fmt.Errorf("CRI runtime %s: version: %s", endpoint, status.Convert(err).Message())
	}
	return v, nil
}

func (r *Runtime) podSandboxes(ctx context.Context, uid types.UID) ([]*runtimeapi.PodSandbox, error) {
	cctx, cancel := r.call(ctx)
	defer cancel()
	resp, err := r.rt.ListPodSandbox(cctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{
		LabelSelector: map[string]string{LabelNode: r.opts.NodeName, LabelPodUID: string(uid)},
	}})
	if err != nil {
		return nil, fmt.Errorf("list pod sandboxes: %w", err)
	}
	items := resp.Items
	sort.Slice(items, func(i, j int) bool { return items[i].CreatedAt > items[j].CreatedAt })
	return items, nil
}

// ensureImage makes sure the container's image is present as its pull
// policy asks, and returns the image reference to create the container from.
func (r *Runtime) ensureImage(ctx context.Context, c *v1alpha1.Container, sandbox *runtimeapi.PodSandboxConfig) (string, error) {
	spec := &runtimeapi.ImageSpec{Image: c.Image, UserSpecifiedImage: c.Image}
	cctx, cancel := r.call(ctx)
	st, err := r.images.ImageStatus(cctx, &runtimeapi.ImageStatusRequest{Image: spec})
	cancel()
	if err != nil {
		return "", &runtime.StartError{Reason: runtime.ReasonErrImagePull, Message: fmt.Sprintf("image status of %q: %s", c.Image, status.Convert(err).Message())}
	}
	present := st.GetImage() != nil
	switch {
	case present && c.ImagePullPolicy != v1alpha1.PullAlways:
		return st.Image.Id, nil
	case !present && c.ImagePullPolicy == v1alpha1.PullNever:
		return "", &runtime.StartError{Reason: runtime.ReasonErrImageNeverPull,
			Message: fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)}
	}
	klog.V(2).InfoS("Pulling image", "image", c.Image)
	resp, err := r.images.PullImage(ctx, &runtimeapi.PullImageRequest{Image: spec, SandboxConfig: sandbox})
	if err != nil {
		return "", &runtime.StartError{Reason: runtime.ReasonErrImagePull,
			Message: fmt.Sprintf("Failed to pull image %q: %s", c.Image, status.Convert(err).Message())}
	}
	return resp.ImageRef, nil
}

// StartContainer implements runtime.Runtime.
func (r *Runtime) StartContainer(ctx context.Context, pod *v1alpha1.Pod, c *v1alpha1.Container, attempt uint32) (string, error) {
	sandboxID, sandboxCfg, err := r.ensureSandbox(ctx, pod)
	if err != nil {
		return "", &runtime.StartError{Reason: runtime.ReasonCreateContainerError, Message: err.Error()}
	}
	imageRef, err := r.ensureImage(ctx, c, sandboxCfg)
	if err != nil {
		return "", err
	}
	env := runtime.ContainerEnv(c, nil)
	command, args := runtime.ContainerCommand(c, env)
	envs := make([]*runtimeapi.KeyValue, 0, len(env))
	for _, e := range env {
		envs = append(envs, &runtimeapi.KeyValue{Key: e.Name, Value: []byte(e.Value)})
	}
	labels := r.podLabels(pod)
	labels[LabelContainerName] = c.Name
	cfg := &runtimeapi.ContainerConfig{
		Metadata:   &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: attempt},
		Image:      &runtimeapi.ImageSpec{Image: imageRef, UserSpecifiedImage: c.Image},
		Command:    command,
		Args:       args,
		WorkingDir: c.WorkingDir,
		Envs:       envs,
		Labels:     labels,
		// The spec's hash rides with the container, as upstream's
		// io.kubernetes.container.hash does, so a restarted kubelet still
		// knows which spec a container runs.
		Annotations: map[string]string{AnnotationContainerHash: runtime.HashContainer(c)},
		LogPath:     filepath.Join(c.Name, strconv.Itoa(int(attempt))+".log"),
		Stdin:       c.Stdin,
		StdinOnce:   c.StdinOnce,
		Tty:         c.TTY,
	}
	if err := os.MkdirAll(filepath.Join(sandboxCfg.LogDirectory, c.Name), 0o755); err != nil {
		return "", fmt.Errorf("create container log directory: %w", err)
	}
	cctx, cancel := r.call(ctx)
	created, err := r.rt.CreateContainer(cctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sandboxID, Config: cfg, SandboxConfig: sandboxCfg})
	cancel()
	if err != nil {
		return "", &runtime.StartError{Reason: runtime.ReasonCreateContainerError, Message: status.Convert(err).Message()}
	}
	cctx, cancel = r.call(ctx)
	_, err = r.rt.StartContainer(cctx, &runtimeapi.StartContainerRequest{ContainerId: created.ContainerId})
	cancel()
	if err != nil {
		// The container exists and has exited (StartError, 128).
		return created.ContainerId, &runtime.StartError{Reason: runtime.ReasonRunContainerError, Message: status.Convert(err).Message()}
	}
	klog.V(2).InfoS("Started container", "pod", klog.KObj(pod), "container", c.Name, "attempt", attempt, "containerID", created.ContainerId)
	return created.ContainerId, nil
}

// StopContainer implements runtime.Runtime: the runtime sends the stop
// signal and kills the container when grace runs out.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	cctx, cancel := context.WithTimeout(ctx, grace+r.opts.Timeout)
	defer cancel()
	_, err := r.rt.StopContainer(cctx, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: int64(grace / time.Second)})
	if status.Code(err) == codes.NotFound {
		return fmt.Errorf("stop container %s: %w", id, runtime.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	r.forget(id)
	return nil
}

// RemoveContainer implements runtime.Runtime.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	cctx, cancel := r.call(ctx)
	defer cancel()
	_, err := r.rt.RemoveContainer(cctx, &runtimeapi.RemoveContainerRequest{ContainerId: id})
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	r.forget(id)
	return nil
}

func (r *Runtime) forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.details, id)
}

// RemovePod implements runtime.Runtime: stopping and removing the pod's
// sandboxes removes its containers too.
func (r *Runtime) RemovePod(ctx context.Context, uid types.UID) error {
	sandboxes, err := r.podSandboxes(ctx, uid)
	if err != nil {
		return err
	}
	var logDir string
	for _, s := range sandboxes {
		if err := r.removeSandbox(ctx, s.Id); err != nil {
			return err
		}
		m := s.GetMetadata()
		logDir = filepath.Join(r.opts.LogRoot, fmt.Sprintf("%s_%s_%s", m.GetNamespace(), m.GetName(), m.GetUid()))
	}
	// Containers whose sandbox is already gone.
	all, err := r.list(ctx, map[string]string{LabelNode: r.opts.NodeName, LabelPodUID: string(uid)})
	if err != nil {
		return err
	}
	for _, c := range all {
		if err := r.StopContainer(ctx, c.Id, 0); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			return err
		}
		if err := r.RemoveContainer(ctx, c.Id); err != nil {
			return err
		}
	}
	if logDir != "" {
		if err := os.RemoveAll(logDir); err != nil {
			klog.ErrorS(err, "Removing pod logs", "podUID", uid)
		}
	}
	r.mu.Lock()
	delete(r.podLocks, uid)
	r.mu.Unlock()
	return nil
}

func (r *Runtime) list(ctx context.Context, labels map[string]string) ([]*runtimeapi.Container, error) {
	cctx, cancel := r.call(ctx)
	defer cancel()
	resp, err := r.rt.ListContainers(cctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{LabelSelector: labels}})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	return resp.Containers, nil
}

// ListContainers implements runtime.Runtime.
func (r *Runtime) ListContainers(ctx context.Context) ([]runtime.Container, error) {
	cs, err := r.list(ctx, map[string]string{LabelNode: r.opts.NodeName})
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Container, 0, len(cs))
	seen := make(map[string]bool, len(cs))
	for _, c := range cs {
		seen[c.Id] = true
		rc := runtime.Container{
			ID:           c.Id,
			PodUID:       types.UID(c.Labels[LabelPodUID]),
			PodNamespace: c.Labels[LabelPodNamespace],
			PodName:      c.Labels[LabelPodName],
			Name:         c.GetMetadata().GetName(),
			Attempt:      c.GetMetadata().GetAttempt(),
			Image:        c.GetImage().GetUserSpecifiedImage(),
			ImageID:      c.ImageRef,
			CreatedAt:    time.Unix(0, c.CreatedAt),
			Hash:         c.Annotations[AnnotationContainerHash],
		}
		if rc.Image == "" {
			rc.Image = c.GetImage().GetImage()
		}
		switch c.State {
		case runtimeapi.ContainerState_CONTAINER_RUNNING:
			rc.State = runtime.StateRunning
		case runtimeapi.ContainerState_CONTAINER_EXITED:
			rc.State = runtime.StateExited
		default:
			rc.State = runtime.StateCreated
		}
		st, err := r.status(ctx, c.Id, c.State)
		if err != nil {
			if status.Code(err) == codes.NotFound {
				continue // removed since the list
			}
			return nil, err
		}
		if st != nil {
			rc.LogPath = st.LogPath
			rc.StartedAt = timeOf(st.StartedAt)
			if rc.State == runtime.StateExited {
				rc.FinishedAt, rc.ExitCode, rc.Reason, rc.Message = timeOf(st.FinishedAt), st.ExitCode, st.Reason, st.Message
			}
		}
		out = append(out, rc)
	}
	r.mu.Lock()
	for id := range r.details {
		if !seen[id] {
			delete(r.details, id)
		}
	}
	r.mu.Unlock()
	return out, nil
}

// status returns a container's details, asking the runtime only when what
// it knows may have changed: once while it runs, once after it exited.
func (r *Runtime) status(ctx context.Context, id string, state runtimeapi.ContainerState) (*runtimeapi.ContainerStatus, error) {
	r.mu.Lock()
	cached := r.details[id]
	r.mu.Unlock()
	if cached != nil && cached.State == state {
		return cached, nil
	}
	cctx, cancel := r.call(ctx)
	defer cancel()
	resp, err := r.rt.ContainerStatus(cctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.details[id] = resp.Status
	r.mu.Unlock()
	return resp.Status, nil
}

func timeOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}
