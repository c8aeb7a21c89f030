package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"skiff.dev/skiff/test/e2e/framework"
)

const podManifest = `apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sleep", "3600"]
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 200m, memory: 128Mi}
`

const nodeManifest = `apiVersion: core.skiff.dev/v1alpha1
kind: Node
metadata:
  name: %s
  labels: {kubernetes.io/hostname: %s}
`

// TestAPIServerWithKubectl walks a newcomer's session: start the server with
// only a data dir and a port, then use it with the stock kubectl.
func TestAPIServerWithKubectl(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	port := framework.FreePort(t)
	server := framework.StartAPIServer(t, dataDir, port)
	k := framework.NewKubectl(t, server.Kubeconfig)

	t.Run("api-resources lists skiff's kinds with short names", func(t *testing.T) {
		out := k.MustRun(t, "", "api-resources", "--api-group=core.skiff.dev")
		for _, want := range []string{"pods", "po", "nodes", "no", "bindings", "leases"} {
			if !regexp.MustCompile(`\b` + want + `\b`).MatchString(out) {
				t.Errorf("api-resources lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("version is stamped and parsable", func(t *testing.T) {
		out := k.MustRun(t, "", "version", "-o", "yaml")
		if !strings.Contains(out, "gitVersion: v1.37") {
			t.Errorf("server version not in the v1.37 line:\n%s", out)
		}
	})

	t.Run("apply, get, wide, yaml, describe", func(t *testing.T) {
		if out := k.MustRun(t, podManifest, "apply", "-f", "-"); !strings.Contains(out, "pod.core.skiff.dev/web created") {
			t.Fatalf("apply: %s", out)
		}
		out := k.MustRun(t, "", "get", "pods")
		assertColumns(t, out, "NAME", "READY", "STATUS", "RESTARTS", "AGE")
		if !regexp.MustCompile(`web\s+0/1\s+Pending\s+0`).MatchString(out) {
			t.Errorf("get pods row:\n%s", out)
		}
		assertColumns(t, k.MustRun(t, "", "get", "po", "-o", "wide"), "IP", "NODE")
		yaml := k.MustRun(t, "", "get", "pod", "web", "-o", "yaml")
		for _, want := range []string{"restartPolicy: Always", "schedulerName: skiff-scheduler", "terminationGracePeriodSeconds: 30", "phase: Pending", "imagePullPolicy: IfNotPresent"} {
			if !strings.Contains(yaml, want) {
				t.Errorf("defaulted pod lacks %q:\n%s", want, yaml)
			}
		}
		if out := k.MustRun(t, "", "describe", "pod", "web"); !strings.Contains(out, "Name:") || !strings.Contains(out, "web") {
			t.Errorf("describe:\n%s", out)
		}
		if out := k.MustRun(t, "", "get", "skiff"); !strings.Contains(out, "pod.core.skiff.dev/web") {
			t.Errorf("category skiff does not list the pod:\n%s", out)
		}
	})

	t.Run("explain reads the OpenAPI schema", func(t *testing.T) {
		out := k.MustRun(t, "", "explain", "pods.spec.restartPolicy")
		for _, want := range []string{"Always", "OnFailure", "Never"} {
			if !strings.Contains(out, want) {
				t.Errorf("explain lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("get -w sees a new pod", func(t *testing.T) {
		out, stop := k.Start(t, "get", "pods", "-w", "--output-watch-events")
		framework.WaitFor(t, 30*time.Second, "watch to list web", func() (bool, error) {
			return strings.Contains(out.String(), "web"), nil
		})
		k.MustRun(t, strings.ReplaceAll(podManifest, "name: web", "name: watched"), "apply", "-f", "-")
		framework.WaitFor(t, 30*time.Second, "watch to see watched", func() (bool, error) {
			return regexp.MustCompile(`ADDED\s+watched`).MatchString(out.String()), nil
		})
		stop()
	})

	t.Run("server-side apply records managed fields", func(t *testing.T) {
		manifest := strings.ReplaceAll(podManifest, "name: web", "name: ssa")
		k.MustRun(t, manifest, "apply", "--server-side", "--field-manager=e2e", "-f", "-")
		out := k.MustRun(t, "", "get", "pod", "ssa", "-o", "yaml", "--show-managed-fields")
		if !strings.Contains(out, "manager: e2e") || !strings.Contains(out, "operation: Apply") {
			t.Errorf("no managed fields for the apply:\n%s", out)
		}
	})

	t.Run("status subresource patch changes status only", func(t *testing.T) {
		k.MustRun(t, "", "patch", "pod", "web", "--subresource=status", "--type=merge",
			"-p", `{"status":{"phase":"Running"},"spec":{"nodeName":"sneaky"}}`)
		out := k.MustRun(t, "", "get", "pod", "web", "-o", "jsonpath={.status.phase}/{.spec.nodeName}/{.metadata.generation}")
		if out != "Running//1" {
			t.Errorf("phase/nodeName/generation = %q, want Running//1", out)
		}
	})

	t.Run("bad manifests get 422 naming the field", func(t *testing.T) {
		noImage := strings.ReplaceAll(podManifest, "    image: busybox:1.36\n", "")
		_, errOut, err := k.Run(noImage, "apply", "-f", "-")
		if err == nil || !strings.Contains(errOut, "spec.containers[0].image: Required value") {
			t.Errorf("missing image: err=%v stderr=%s", err, errOut)
		}
		badLimits := strings.ReplaceAll(strings.ReplaceAll(podManifest, "name: web", "name: greedy"), "cpu: 100m", "cpu: 2")
		_, errOut, err = k.Run(badLimits, "apply", "-f", "-")
		if err == nil || !strings.Contains(errOut, "Invalid value") || !strings.Contains(errOut, "requests") {
			t.Errorf("request over limit: err=%v stderr=%s", err, errOut)
		}
		unknown := strings.ReplaceAll(podManifest, "  containers:", "  bogusField: 1\n  containers:")
		_, errOut, err = k.Run(unknown, "apply", "--validate=strict", "-f", "-")
		if err == nil || !strings.Contains(errOut, "bogusField") {
			t.Errorf("unknown field under strict validation: err=%v stderr=%s", err, errOut)
		}
		_, errOut, err = k.Run("apiVersion: core.skiff.dev/v1alpha1\nkind: Pod\nmetadata: {name: [}\n", "apply", "-f", "-")
		if err == nil || errOut == "" {
			t.Errorf("malformed YAML accepted: err=%v stderr=%s", err, errOut)
		}
		badName := strings.ReplaceAll(podManifest, "name: web", "name: Web_1")
		_, errOut, err = k.Run(badName, "apply", "-f", "-")
		if err == nil || !strings.Contains(errOut, "metadata.name") {
			t.Errorf("invalid name: err=%v stderr=%s", err, errOut)
		}
	})

	t.Run("anonymous requests get 401 except health and version", func(t *testing.T) {
		code, _, err := server.Get("/apis/core.skiff.dev/v1alpha1/pods")
		if err != nil || code != http.StatusUnauthorized {
			t.Errorf("anonymous list pods: code %d err %v, want 401", code, err)
		}
		for _, path := range []string{"/healthz", "/livez", "/readyz", "/version"} {
			if code, _, err := server.Get(path); err != nil || code != http.StatusOK {
				t.Errorf("anonymous %s: code %d err %v, want 200", path, code, err)
			}
		}
	})

	t.Run("a node identity may not touch another node", func(t *testing.T) {
		for _, n := range []string{"node-a", "node-b"} {
			k.MustRun(t, strings.ReplaceAll(nodeManifest, "%s", n), "apply", "-f", "-")
		}
		nodeKubeconfig := filepath.Join(t.TempDir(), "node-a.kubeconfig")
		out, err := runBinary(t, "skiff", "kubeconfig", "--data-dir", dataDir, "--user", "system:node:node-a", "--group", "system:nodes", "-o", nodeKubeconfig)
		if err != nil {
			t.Fatalf("skiff kubeconfig: %v\n%s", err, out)
		}
		asNode := framework.NewKubectl(t, nodeKubeconfig)
		asNode.MustRun(t, "", "label", "node", "node-a", "zone=a")
		_, errOut, err := asNode.Run("", "label", "node", "node-b", "zone=b")
		if err == nil || !strings.Contains(errOut, "Forbidden") || !strings.Contains(errOut, `User "system:node:node-a"`) {
			t.Errorf("node-a labelled node-b: err=%v stderr=%s", err, errOut)
		}
	})

	t.Run("delete and wait for delete", func(t *testing.T) {
		k.MustRun(t, "", "delete", "pod", "watched", "--wait=false")
		k.MustRun(t, "", "wait", "--for=delete", "pod/watched", "--timeout=30s")
		if _, errOut, err := k.Run("", "get", "pod", "watched"); err == nil || !strings.Contains(errOut, "NotFound") {
			t.Errorf("pod still there: %v %s", err, errOut)
		}
	})

	t.Run("restart keeps every object", func(t *testing.T) {
		before := k.MustRun(t, "", "get", "pods,nodes", "-o", "jsonpath={range .items[*]}{.metadata.name}={.metadata.uid} {end}")
		if code := server.Stop(time.Minute); code != 0 {
			t.Fatalf("SIGTERM: exit code %d, want 0", code)
		}
		server = framework.StartAPIServer(t, dataDir, port)
		after := k.MustRun(t, "", "get", "pods,nodes", "-o", "jsonpath={range .items[*]}{.metadata.name}={.metadata.uid} {end}")
		if before != after || before == "" {
			t.Errorf("objects changed across restart:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func assertColumns(t *testing.T, out string, cols ...string) {
	t.Helper()
	header := strings.SplitN(out, "\n", 2)[0]
	for _, c := range cols {
		if !strings.Contains(header, c) {
			t.Errorf("header %q lacks column %s", header, c)
		}
	}
}

func runBinary(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	return runCommand(framework.Binary(t, name), args...)
}

func init() {
	// kubectl caches discovery under $HOME; keep each run's cache apart.
	if os.Getenv("KUBECACHEDIR") == "" {
		dir, err := os.MkdirTemp("", "skiff-e2e-kubecache-")
		if err == nil {
			os.Setenv("KUBECACHEDIR", dir)
		}
	}
}
