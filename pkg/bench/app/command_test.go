package app

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"skiff.dev/skiff/pkg/bench/report"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
)

// execute runs skiff-bench with args against a fake cluster.
func execute(args ...string) (stdout, stderr string, err error) {
	cmd := newCommand(func(*globalOptions) (clientset.Interface, error) { return fake.NewClientset(), nil }, nil)
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestCreatePrintsJSONForMachines(t *testing.T) {
	out, _, err := execute("create", "--pods", "6", "--workers", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r report.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	f, ok := r.Figure("pods created")
	if r.Scenario != "create" || !ok || f.Value != 6 || f.Unit != report.Pods {
		t.Errorf("result %+v, want create with 6 pods created", r)
	}
	if r.Parameters["namespace"] != "skiff-bench-create" {
		t.Errorf("namespace %v, want skiff-bench-create by default", r.Parameters["namespace"])
	}
}

func TestCreatePrintsATableForPeopleAndProgressOnStderr(t *testing.T) {
	out, errOut, err := execute("create", "--pods", "3", "--namespace", "mine")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"skiff-bench create (namespace=mine pods=3 workers=8)", "FIGURE", "pods created", "errors: none"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Not a terminal: plain lines, no bar redraws.
	if !strings.Contains(errOut, "create pods: 3/3 (100%)") || strings.Contains(errOut, "\r") {
		t.Errorf("progress on stderr %q, want a plain final line", errOut)
	}
	if strings.Contains(out, "create pods:") {
		t.Errorf("progress leaked into stdout:\n%s", out)
	}
}

func TestBadArgumentsAreRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"positional arguments", []string{"create", "extra"}, "unknown command"},
		{"no pods", []string{"create", "--pods", "0"}, "--pods"},
		{"more pods than the nodes hold", []string{"schedule", "--nodes", "1", "--pods", "500"}, "do not fit"},
		{"unknown flag", []string{"list", "--pod", "3"}, "unknown flag"},
		{"a content type other than protobuf or JSON", []string{"create", "--kube-api-content-type", "application/yaml"}, "--kube-api-content-type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := execute(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	tests := []struct {
		name      string
		qps       float32
		burst     int
		wantQPS   float32
		wantBurst int
	}{
		{"no --qps means no client-side limit (client-go reads 0 as 5/s)", 0, 0, -1, 0},
		{"--qps alone bursts to twice the rate", 100, 0, 100, 200},
		{"--burst is kept when given", 100, 10, 100, 10},
		{"a tiny rate still bursts one", 0.2, 0, 0.2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &rest.Config{QPS: 5, Burst: 10}
			applyRateLimit(cfg, tt.qps, tt.burst)
			if cfg.QPS != tt.wantQPS || cfg.Burst != tt.wantBurst {
				t.Errorf("QPS %v burst %d, want %v and %d", cfg.QPS, cfg.Burst, tt.wantQPS, tt.wantBurst)
			}
		})
	}
}
