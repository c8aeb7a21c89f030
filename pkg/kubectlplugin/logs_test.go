package kubectlplugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// fakeAPIServer serves one pod and its log, and records the log queries.
type fakeAPIServer struct {
	pod     v1alpha1.Pod
	queries []url.Values
}

func (f *fakeAPIServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base := "/apis/core.skiff.dev/v1alpha1/namespaces/" + f.pod.Namespace + "/pods/" + f.pod.Name
	switch r.URL.Path {
	case base:
		f.pod.APIVersion, f.pod.Kind = "core.skiff.dev/v1alpha1", "Pod"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(&f.pod)
	case base + "/log":
		f.queries = append(f.queries, r.URL.Query())
		fmt.Fprintf(w, "log of %s\n", r.URL.Query().Get("container"))
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"pods \"x\" not found"}`)
	}
}

func kubeconfig(t *testing.T, server, namespace string) string {
	path := filepath.Join(t.TempDir(), "config")
	data := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: %q}
users:
- name: u
  user: {token: secret}
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: %s}
current-context: ctx
`, server, namespace)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	cmd := NewCommand(genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestLogs(t *testing.T) {
	api := &fakeAPIServer{pod: v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "team"},
		Spec: v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "app"}, {Name: "sidecar"}}}}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	cfg := kubeconfig(t, srv.URL, "team")

	for _, tc := range []struct {
		name       string
		args       []string
		wantOut    string
		wantErrOut string
		wantQuery  url.Values
	}{
		{"first container by default, with a note", []string{"logs", "web"}, "log of app\n", `Defaulted container "app" out of: app, sidecar`,
			url.Values{"container": {"app"}}},
		{"named container, follow and tail", []string{"logs", "pod/web", "-c", "sidecar", "-f", "--tail", "20"}, "log of sidecar\n", "",
			url.Values{"container": {"sidecar"}, "follow": {"true"}, "tailLines": {"20"}}},
		{"previous, timestamps, limit", []string{"logs", "web", "-c", "app", "-p", "--timestamps", "--limit-bytes", "100"}, "log of app\n", "",
			url.Values{"container": {"app"}, "previous": {"true"}, "timestamps": {"true"}, "limitBytes": {"100"}}},
		{"namespace flag", []string{"logs", "-n", "team", "web", "-c", "app"}, "log of app\n", "",
			url.Values{"container": {"app"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api.queries = nil
			out, errOut, err := run(t, append(tc.args, "--kubeconfig", cfg)...)
			if err != nil {
				t.Fatal(err)
			}
			if out != tc.wantOut || !strings.Contains(errOut, tc.wantErrOut) {
				t.Errorf("out %q err %q", out, errOut)
			}
			if len(api.queries) != 1 {
				t.Fatalf("%d log requests", len(api.queries))
			}
			if got := api.queries[0]; fmt.Sprint(got) != fmt.Sprint(tc.wantQuery) {
				t.Errorf("query %v, want %v", got, tc.wantQuery)
			}
		})
	}

	if _, _, err := run(t, "logs", "nope", "--kubeconfig", cfg); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("a missing pod: %v", err)
	}
	if _, _, err := run(t, "logs", "node/n1", "--kubeconfig", cfg); err == nil {
		t.Error("logs of a node should be refused")
	}
	api.pod.Annotations = map[string]string{defaultContainerAnnotation: "sidecar"}
	if out, errOut, err := run(t, "logs", "web", "--kubeconfig", cfg); err != nil || out != "log of sidecar\n" || errOut != "" {
		t.Errorf("default-container annotation: %q %q %v", out, errOut, err)
	}
}
