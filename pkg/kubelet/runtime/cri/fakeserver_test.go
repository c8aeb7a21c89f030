package cri

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeCRI is a small in-memory CRI runtime and image service, served over
// a unix socket, the edge the CRI runtime is tested against. Containers
// "run" without processes; a test ends them with exit. It writes a CRI log
// line when a container starts, as containerd would write its output.
type fakeCRI struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer

	mu         sync.Mutex
	seq        int
	sandboxes  map[string]*runtimeapi.PodSandbox
	sandboxCfg map[string]*runtimeapi.PodSandboxConfig
	containers map[string]*runtimeapi.ContainerStatus
	sandboxOf  map[string]string
	images     map[string]string // name -> id
	pullable   map[string]bool
	failStart  map[string]bool // container names whose start fails
	calls      []string
	stops      map[string]int64 // container -> stop timeout
}

func newFakeCRI() *fakeCRI {
	return &fakeCRI{
		sandboxes: map[string]*runtimeapi.PodSandbox{}, sandboxCfg: map[string]*runtimeapi.PodSandboxConfig{},
		containers: map[string]*runtimeapi.ContainerStatus{}, sandboxOf: map[string]string{},
		images: map[string]string{}, pullable: map[string]bool{}, failStart: map[string]bool{}, stops: map[string]int64{},
	}
}

// serve starts the fake on a unix socket and returns its endpoint.
func (f *fakeCRI) serve(t *testing.T) string {
	sock := filepath.Join(t.TempDir(), "cri.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	runtimeapi.RegisterRuntimeServiceServer(srv, f)
	runtimeapi.RegisterImageServiceServer(srv, f)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return "unix://" + sock
}

func (f *fakeCRI) record(call string) {
	f.calls = append(f.calls, call)
}

func (f *fakeCRI) id(prefix string) string {
	f.seq++
	return prefix + strconv.Itoa(f.seq)
}

func matches(labels, selector map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (f *fakeCRI) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{Version: "0.1.0", RuntimeName: "fakecri", RuntimeVersion: "1.2.3", RuntimeApiVersion: "v1"}, nil
}

func (f *fakeCRI) RunPodSandbox(_ context.Context, req *runtimeapi.RunPodSandboxRequest) (*runtimeapi.RunPodSandboxResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RunPodSandbox")
	id := f.id("sb")
	f.sandboxes[id] = &runtimeapi.PodSandbox{Id: id, Metadata: req.Config.Metadata, State: runtimeapi.PodSandboxState_SANDBOX_READY,
		CreatedAt: time.Now().UnixNano(), Labels: req.Config.Labels}
	f.sandboxCfg[id] = req.Config
	return &runtimeapi.RunPodSandboxResponse{PodSandboxId: id}, nil
}

func (f *fakeCRI) StopPodSandbox(_ context.Context, req *runtimeapi.StopPodSandboxRequest) (*runtimeapi.StopPodSandboxResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("StopPodSandbox")
	s, ok := f.sandboxes[req.PodSandboxId]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such sandbox")
	}
	s.State = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	for cid, sb := range f.sandboxOf {
		if sb == s.Id {
			f.exitLocked(cid, 137)
		}
	}
	return &runtimeapi.StopPodSandboxResponse{}, nil
}

func (f *fakeCRI) RemovePodSandbox(_ context.Context, req *runtimeapi.RemovePodSandboxRequest) (*runtimeapi.RemovePodSandboxResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemovePodSandbox")
	delete(f.sandboxes, req.PodSandboxId)
	for cid, sb := range f.sandboxOf {
		if sb == req.PodSandboxId {
			delete(f.containers, cid)
			delete(f.sandboxOf, cid)
		}
	}
	return &runtimeapi.RemovePodSandboxResponse{}, nil
}

func (f *fakeCRI) ListPodSandbox(_ context.Context, req *runtimeapi.ListPodSandboxRequest) (*runtimeapi.ListPodSandboxResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*runtimeapi.PodSandbox
	for _, s := range f.sandboxes {
		if matches(s.Labels, req.GetFilter().GetLabelSelector()) {
			out = append(out, s)
		}
	}
	return &runtimeapi.ListPodSandboxResponse{Items: out}, nil
}

func (f *fakeCRI) CreateContainer(_ context.Context, req *runtimeapi.CreateContainerRequest) (*runtimeapi.CreateContainerResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("CreateContainer")
	sb, ok := f.sandboxes[req.PodSandboxId]
	if !ok || sb.State != runtimeapi.PodSandboxState_SANDBOX_READY {
		return nil, status.Error(codes.FailedPrecondition, "sandbox not ready")
	}
	for _, c := range f.containers {
		if f.sandboxOf[c.Id] == sb.Id && c.Metadata.Name == req.Config.Metadata.Name && c.Metadata.Attempt == req.Config.Metadata.Attempt {
			return nil, status.Errorf(codes.AlreadyExists, "container %s attempt %d already exists", c.Metadata.Name, c.Metadata.Attempt)
		}
	}
	id := f.id("c")
	f.containers[id] = &runtimeapi.ContainerStatus{
		Id: id, Metadata: req.Config.Metadata, State: runtimeapi.ContainerState_CONTAINER_CREATED, CreatedAt: time.Now().UnixNano(),
		Image: req.Config.Image, ImageRef: req.Config.Image.Image, Labels: req.Config.Labels, Annotations: req.Config.Annotations,
		LogPath: filepath.Join(f.sandboxCfg[sb.Id].LogDirectory, req.Config.LogPath),
	}
	f.sandboxOf[id] = sb.Id
	return &runtimeapi.CreateContainerResponse{ContainerId: id}, nil
}

func (f *fakeCRI) StartContainer(_ context.Context, req *runtimeapi.StartContainerRequest) (*runtimeapi.StartContainerResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("StartContainer")
	c, ok := f.containers[req.ContainerId]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such container")
	}
	now := time.Now().UnixNano()
	if f.failStart[c.Metadata.Name] {
		c.State, c.StartedAt, c.FinishedAt, c.ExitCode, c.Reason = runtimeapi.ContainerState_CONTAINER_EXITED, now, now, 128, "StartError"
		c.Message = `exec: "nope": executable file not found in $PATH`
		return nil, status.Error(codes.Unknown, c.Message)
	}
	c.State, c.StartedAt = runtimeapi.ContainerState_CONTAINER_RUNNING, now
	line := fmt.Sprintf("%s stdout F %s started\n", time.Now().UTC().Format(time.RFC3339Nano), c.Metadata.Name)
	_ = os.WriteFile(c.LogPath, []byte(line), 0o644)
	return &runtimeapi.StartContainerResponse{}, nil
}

func (f *fakeCRI) exitLocked(id string, code int32) {
	c := f.containers[id]
	if c == nil || c.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return
	}
	c.State, c.FinishedAt, c.ExitCode = runtimeapi.ContainerState_CONTAINER_EXITED, time.Now().UnixNano(), code
	c.Reason = "Completed"
	if code != 0 {
		c.Reason = "Error"
	}
}

// exit ends a running container with code, as its process would.
func (f *fakeCRI) exit(id string, code int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exitLocked(id, code)
}

func (f *fakeCRI) StopContainer(_ context.Context, req *runtimeapi.StopContainerRequest) (*runtimeapi.StopContainerResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("StopContainer")
	if _, ok := f.containers[req.ContainerId]; !ok {
		return nil, status.Error(codes.NotFound, "no such container")
	}
	f.stops[req.ContainerId] = req.Timeout
	f.exitLocked(req.ContainerId, 143)
	return &runtimeapi.StopContainerResponse{}, nil
}

func (f *fakeCRI) RemoveContainer(_ context.Context, req *runtimeapi.RemoveContainerRequest) (*runtimeapi.RemoveContainerResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemoveContainer")
	delete(f.containers, req.ContainerId)
	delete(f.sandboxOf, req.ContainerId)
	return &runtimeapi.RemoveContainerResponse{}, nil
}

func (f *fakeCRI) ListContainers(_ context.Context, req *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*runtimeapi.Container
	for _, c := range f.containers {
		if matches(c.Labels, req.GetFilter().GetLabelSelector()) {
			out = append(out, &runtimeapi.Container{Id: c.Id, PodSandboxId: f.sandboxOf[c.Id], Metadata: c.Metadata, Image: c.Image,
				ImageRef: c.ImageRef, State: c.State, CreatedAt: c.CreatedAt, Labels: c.Labels, Annotations: c.Annotations})
		}
	}
	return &runtimeapi.ListContainersResponse{Containers: out}, nil
}

func (f *fakeCRI) ContainerStatus(_ context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("ContainerStatus")
	c, ok := f.containers[req.ContainerId]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such container")
	}
	return &runtimeapi.ContainerStatusResponse{Status: proto.Clone(c).(*runtimeapi.ContainerStatus)}, nil
}

func (f *fakeCRI) ImageStatus(_ context.Context, req *runtimeapi.ImageStatusRequest) (*runtimeapi.ImageStatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.images[req.Image.Image]
	if !ok {
		return &runtimeapi.ImageStatusResponse{}, nil
	}
	return &runtimeapi.ImageStatusResponse{Image: &runtimeapi.Image{Id: id, RepoTags: []string{req.Image.Image}}}, nil
}

func (f *fakeCRI) PullImage(_ context.Context, req *runtimeapi.PullImageRequest) (*runtimeapi.PullImageResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("PullImage")
	name := req.Image.Image
	if !f.pullable[name] {
		return nil, status.Errorf(codes.NotFound, "failed to resolve reference %q: %q: not found", name, name)
	}
	f.images[name] = "sha256:" + name
	return &runtimeapi.PullImageResponse{ImageRef: "sha256:" + name}, nil
}
