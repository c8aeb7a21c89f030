package process

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
)

func TestExecSync(t *testing.T) {
	root := t.TempDir()
	r := newRuntime(t, root)
	pod := testPod("execpod")
	c := sh("app", "sleep 60")
	c.WorkingDir = "/work"
	c.Env = []v1alpha1.EnvVar{{Name: "GREETING", Value: "hi"}}
	id, err := r.StartContainer(context.Background(), pod, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	wd := filepath.Join(root, "pods", string(pod.UID), "app", "work")
	tests := []struct {
		name     string
		cmd      []string
		timeout  time.Duration
		wantOut  string
		wantCode int32
		wantErr  string
	}{
		{name: "env and working dir", cmd: []string{"sh", "-c", `echo "$GREETING $(pwd)"`}, wantOut: "hi " + wd + "\n"},
		{name: "exit code", cmd: []string{"sh", "-c", "echo no >&2; exit 3"}, wantOut: "no\n", wantCode: 3},
		{name: "timeout", cmd: []string{"sh", "-c", "sleep 30"}, timeout: 200 * time.Millisecond, wantErr: "timed out"},
		{name: "no such command", cmd: []string{"no-such-command-here"}, wantErr: "no-such-command-here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.timeout == 0 {
				tt.timeout = 10 * time.Second
			}
			out, code, err := r.ExecSync(context.Background(), pod, c, id, tt.cmd, tt.timeout)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || code != tt.wantCode || string(out) != tt.wantOut {
				t.Fatalf("got %q %d %v, want %q %d", out, code, err, tt.wantOut, tt.wantCode)
			}
		})
	}
	if err := r.StopContainer(context.Background(), id, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ExecSync(context.Background(), pod, c, id, []string{"true"}, time.Second); err == nil {
		t.Error("exec in an exited container succeeded")
	}
	if _, _, err := r.ExecSync(context.Background(), pod, c, "nope", []string{"true"}, time.Second); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("exec in an unknown container: %v", err)
	}
}
