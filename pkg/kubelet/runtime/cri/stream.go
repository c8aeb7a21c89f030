package cri

import (
	"context"
	"fmt"
	"net/url"

	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

var _ runtime.StreamURLer = &Runtime{}

// ExecURL implements runtime.StreamURLer with the CRI Exec call: the
// runtime's streaming server (containerd's) serves the exec at the URL it
// returns, which the kubelet proxies to.
func (r *Runtime) ExecURL(ctx context.Context, id string, cmd []string, o runtime.StreamOptions) (*url.URL, error) {
	cctx, cancel := r.call(ctx)
	defer cancel()
	resp, err := r.rt.Exec(cctx, &runtimeapi.ExecRequest{ContainerId: id, Cmd: cmd, Tty: o.TTY, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr})
	if err != nil {
		return nil, fmt.Errorf("exec in container %s: %s", id, status.Convert(err).Message())
	}
	return parseStreamURL(resp.GetUrl())
}

// AttachURL implements runtime.StreamURLer with the CRI Attach call.
func (r *Runtime) AttachURL(ctx context.Context, id string, o runtime.StreamOptions) (*url.URL, error) {
	cctx, cancel := r.call(ctx)
	defer cancel()
	resp, err := r.rt.Attach(cctx, &runtimeapi.AttachRequest{ContainerId: id, Tty: o.TTY, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr})
	if err != nil {
		return nil, fmt.Errorf("attach to container %s: %s", id, status.Convert(err).Message())
	}
	return parseStreamURL(resp.GetUrl())
}

// PortForwardURL implements runtime.StreamURLer with the CRI PortForward
// call on the pod's newest sandbox.
func (r *Runtime) PortForwardURL(ctx context.Context, pod *v1alpha1.Pod, ports []int32) (*url.URL, error) {
	sandboxes, err := r.podSandboxes(ctx, pod.UID)
	if err != nil {
		return nil, err
	}
	if len(sandboxes) == 0 {
		return nil, fmt.Errorf("pod %s/%s has no sandbox", pod.Namespace, pod.Name)
	}
	cctx, cancel := r.call(ctx)
	defer cancel()
	resp, err := r.rt.PortForward(cctx, &runtimeapi.PortForwardRequest{PodSandboxId: sandboxes[0].Id, Port: ports})
	if err != nil {
		return nil, fmt.Errorf("port-forward to pod %s/%s: %s", pod.Namespace, pod.Name, status.Convert(err).Message())
	}
	return parseStreamURL(resp.GetUrl())
}

func parseStreamURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the runtime's streaming URL %q: %w", raw, err)
	}
	return u, nil
}
