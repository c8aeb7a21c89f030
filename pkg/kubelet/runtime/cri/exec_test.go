package cri

import (
	"context"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ExecSync of the fake runtime answers "sh -c exit N" with exit code N and
// echoes the command on stdout.
func (f *fakeCRI) ExecSync(_ context.Context, req *runtimeapi.ExecSyncRequest) (*runtimeapi.ExecSyncResponse, error) {
	f.mu.Lock()
	f.calls = append(f.calls, "ExecSync")
	f.mu.Unlock()
	code := int32(0)
	if n := len(req.Cmd); n > 0 && strings.HasPrefix(req.Cmd[n-1], "exit ") {
		code = int32(req.Cmd[n-1][5] - '0')
	}
	return &runtimeapi.ExecSyncResponse{Stdout: []byte(strings.Join(req.Cmd, " ")), Stderr: []byte("|timeout " + string(rune('0'+req.Timeout))), ExitCode: code}, nil
}

func TestExecSync(t *testing.T) {
	f := newFakeCRI()
	r := newTestRuntime(t, f, f.serve(t), "node-a")
	c := container("app", "busybox:1.36", "")
	tests := []struct {
		cmd      []string
		wantCode int32
		wantOut  string
	}{
		{[]string{"sh", "-c", "exit 0"}, 0, "sh -c exit 0|timeout 2"},
		{[]string{"sh", "-c", "exit 3"}, 3, "sh -c exit 3|timeout 2"},
	}
	for _, tt := range tests {
		out, code, err := r.ExecSync(context.Background(), nil, &c, "cid", tt.cmd, 1500*time.Millisecond)
		if err != nil || code != tt.wantCode || string(out) != tt.wantOut {
			t.Errorf("%q: got %q %d %v, want %q %d", tt.cmd, out, code, err, tt.wantOut, tt.wantCode)
		}
	}
}
