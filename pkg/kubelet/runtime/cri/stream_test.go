package cri

import (
	"context"
	"fmt"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// The fake runtime's streaming calls answer with a URL that names the call
// and its request, as containerd's streaming server URLs name a token.
func (f *fakeCRI) Exec(_ context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	return &runtimeapi.ExecResponse{Url: fmt.Sprintf("http://127.0.0.1:1/exec/%s?cmd=%s&tty=%v&stdin=%v", req.ContainerId, strings.Join(req.Cmd, "+"), req.Tty, req.Stdin)}, nil
}

func (f *fakeCRI) Attach(_ context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	return &runtimeapi.AttachResponse{Url: fmt.Sprintf("http://127.0.0.1:1/attach/%s?stdout=%v", req.ContainerId, req.Stdout)}, nil
}

func (f *fakeCRI) PortForward(_ context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	return &runtimeapi.PortForwardResponse{Url: fmt.Sprintf("http://127.0.0.1:1/portforward/%s?ports=%v", req.PodSandboxId, req.Port)}, nil
}

func TestStreamURLs(t *testing.T) {
	f := newFakeCRI()
	f.images["busybox:1.36"] = "sha256:bb"
	r := newTestRuntime(t, f, f.serve(t), "node-a")
	ctx := context.Background()
	u, err := r.ExecURL(ctx, "cid", []string{"ls", "-l"}, runtime.StreamOptions{Stdin: true, Stdout: true, TTY: true})
	if err != nil || u.String() != "http://127.0.0.1:1/exec/cid?cmd=ls+-l&tty=true&stdin=true" {
		t.Errorf("exec URL %v, %v", u, err)
	}
	u, err = r.AttachURL(ctx, "cid", runtime.StreamOptions{Stdout: true})
	if err != nil || u.String() != "http://127.0.0.1:1/attach/cid?stdout=true" {
		t.Errorf("attach URL %v, %v", u, err)
	}
	pod := testPod("web", container("app", "busybox:1.36", ""))
	if _, err := r.PortForwardURL(ctx, pod, []int32{80}); err == nil || !strings.Contains(err.Error(), "has no sandbox") {
		t.Errorf("port-forward to a pod without a sandbox: %v", err)
	}
	if _, err := r.StartContainer(ctx, pod, &pod.Spec.Containers[0], 0); err != nil {
		t.Fatal(err)
	}
	u, err = r.PortForwardURL(ctx, pod, []int32{80, 443})
	if err != nil || !strings.HasSuffix(u.String(), "?ports=[80 443]") || !strings.Contains(u.Path, "/portforward/") {
		t.Errorf("port-forward URL %v, %v", u, err)
	}
}
