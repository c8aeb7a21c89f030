package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"skiff.dev/skiff/test/e2e/framework"
)

const deploymentManifest = `apiVersion: apps.skiff.dev/v1alpha1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        command: ["sleep", "3600"]
`

const replicaSetManifest = `apiVersion: apps.skiff.dev/v1alpha1
kind: ReplicaSet
metadata:
  name: cache
spec:
  replicas: 2
  selector:
    matchLabels: {app: cache}
  template:
    metadata:
      labels: {app: cache}
    spec:
      containers:
      - name: redis
        image: redis:7
`

// TestAppsWithKubectl uses apps.skiff.dev with the stock kubectl, as a user
// who knows apps/v1 would: get, describe, scale and delete.
func TestAppsWithKubectl(t *testing.T) {
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)

	t.Run("api-resources lists the kinds with their short names", func(t *testing.T) {
		out := k.MustRun(t, "", "api-resources", "--api-group=apps.skiff.dev")
		for _, want := range []string{`deployments\s+sdeploy\s+apps.skiff.dev/v1alpha1\s+true\s+Deployment`, `replicasets\s+srs\s+apps.skiff.dev/v1alpha1\s+true\s+ReplicaSet`} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("api-resources lacks %s:\n%s", want, out)
			}
		}
	})

	t.Run("apply, get, wide, yaml, describe", func(t *testing.T) {
		if out := k.MustRun(t, deploymentManifest, "apply", "-f", "-"); !strings.Contains(out, "deployment.apps.skiff.dev/web created") {
			t.Fatalf("apply: %s", out)
		}
		out := k.MustRun(t, "", "get", "deployments.apps.skiff.dev")
		assertColumns(t, out, "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE")
		if !regexp.MustCompile(`web\s+0/3\s+0\s+0\s+`).MatchString(out) {
			t.Errorf("get deployments row:\n%s", out)
		}
		wide := k.MustRun(t, "", "get", "sdeploy", "-o", "wide")
		assertColumns(t, wide, "CONTAINERS", "IMAGES", "SELECTOR")
		if !regexp.MustCompile(`main\s+busybox:1.36\s+app=web`).MatchString(wide) {
			t.Errorf("get -o wide row:\n%s", wide)
		}
		yaml := k.MustRun(t, "", "get", "sdeploy", "web", "-o", "yaml")
		for _, want := range []string{"maxSurge: 25%", "maxUnavailable: 25%", "type: RollingUpdate", "revisionHistoryLimit: 10",
			"progressDeadlineSeconds: 600", "restartPolicy: Always", "schedulerName: skiff-scheduler"} {
			if !strings.Contains(yaml, want) {
				t.Errorf("defaulted deployment lacks %q:\n%s", want, yaml)
			}
		}
		describe := k.MustRun(t, "", "describe", "deployments.apps.skiff.dev", "web")
		// kubectl has no describer of its own for this group: it prints the
		// object generically, every field by name.
		for _, want := range []string{"Name:", "web", "Replicas:", "Max Surge:", "RollingUpdate", "busybox:1.36"} {
			if !strings.Contains(describe, want) {
				t.Errorf("describe lacks %q:\n%s", want, describe)
			}
		}

		k.MustRun(t, replicaSetManifest, "apply", "-f", "-")
		out = k.MustRun(t, "", "get", "srs")
		assertColumns(t, out, "NAME", "DESIRED", "CURRENT", "READY", "AGE")
		if !regexp.MustCompile(`cache\s+2\s+0\s+0\s+`).MatchString(out) {
			t.Errorf("get replicasets row:\n%s", out)
		}
		if out := k.MustRun(t, "", "describe", "replicasets.apps.skiff.dev", "cache"); !strings.Contains(out, "redis:7") {
			t.Errorf("describe replicaset:\n%s", out)
		}
		out = k.MustRun(t, "", "get", "skiff")
		for _, want := range []string{"deployment.apps.skiff.dev/web", "replicaset.apps.skiff.dev/cache"} {
			if !strings.Contains(out, want) {
				t.Errorf("category skiff lacks %s:\n%s", want, out)
			}
		}
	})

	t.Run("scale speaks autoscaling/v1", func(t *testing.T) {
		if out := k.MustRun(t, "", "scale", "deployments.apps.skiff.dev", "web", "--replicas", "5"); !strings.Contains(out, "deployment.apps.skiff.dev/web scaled") {
			t.Errorf("scale: %s", out)
		}
		if out := k.MustRun(t, "", "get", "sdeploy", "web", "-o", "jsonpath={.spec.replicas}/{.metadata.generation}"); out != "5/2" {
			t.Errorf("replicas/generation after scale = %q, want 5/2", out)
		}
		// kubectl checks --current-replicas against the Scale it reads.
		if _, errOut, err := k.Run("", "scale", "deployments.apps.skiff.dev", "web", "--current-replicas", "3", "--replicas", "1"); err == nil ||
			!strings.Contains(errOut, "Expected replicas to be 3, was 5") {
			t.Errorf("scale with a wrong --current-replicas: err=%v stderr=%s", err, errOut)
		}
		k.MustRun(t, "", "scale", "srs", "cache", "--replicas", "0")
		if out := k.MustRun(t, "", "get", "srs", "cache", "-o", "jsonpath={.spec.replicas}"); out != "0" {
			t.Errorf("replicaset replicas after scale = %q, want 0", out)
		}
		out := k.MustRun(t, "", "get", "--raw", "/apis/apps.skiff.dev/v1alpha1/namespaces/default/deployments/web/scale")
		if !strings.Contains(out, `"apiVersion":"autoscaling/v1"`) || !strings.Contains(out, `"selector":"app=web"`) {
			t.Errorf("scale subresource: %s", out)
		}
		if _, errOut, err := k.Run("", "scale", "sdeploy", "web", "--replicas", "-2"); err == nil || !strings.Contains(errOut, "replicas") {
			t.Errorf("scale to -2: err=%v stderr=%s", err, errOut)
		}
	})

	t.Run("explain reads the OpenAPI schema", func(t *testing.T) {
		out := k.MustRun(t, "", "explain", "deployments.apps.skiff.dev.spec.strategy.rollingUpdate")
		for _, want := range []string{"maxSurge", "maxUnavailable"} {
			if !strings.Contains(out, want) {
				t.Errorf("explain lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("bad manifests get 422 naming the field", func(t *testing.T) {
		tests := []struct {
			name, manifest, want string
		}{
			{"a selector that does not match the template", strings.Replace(deploymentManifest, "labels: {app: web}", "labels: {app: api}", 1),
				"spec.template.metadata.labels: Invalid value"},
			{"negative replicas", strings.Replace(deploymentManifest, "replicas: 3", "replicas: -1", 1), "spec.replicas: Invalid value"},
			{"an invalid pod under spec.template", strings.Replace(deploymentManifest, "        image: busybox:1.36\n", "", 1),
				"spec.template.spec.containers[0].image: Required value"},
			{"maxSurge and maxUnavailable both zero",
				strings.Replace(deploymentManifest, "  replicas: 3\n", "  replicas: 3\n  strategy:\n    rollingUpdate: {maxSurge: 0, maxUnavailable: 0}\n", 1),
				"spec.strategy.rollingUpdate.maxUnavailable: Invalid value"},
			{"a changed selector", strings.ReplaceAll(deploymentManifest, "{app: web}", "{app: web, tier: front}"), "spec.selector: Invalid value"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, errOut, err := k.Run(tc.manifest, "apply", "-f", "-")
				if err == nil || !strings.Contains(errOut, tc.want) {
					t.Errorf("err=%v stderr=%s, want %q", err, errOut, tc.want)
				}
			})
		}
	})

	t.Run("delete", func(t *testing.T) {
		k.MustRun(t, "", "delete", "deployments.apps.skiff.dev", "web")
		k.MustRun(t, "", "delete", "srs", "cache")
		if out := k.MustRun(t, "", "get", "skiff"); strings.Contains(out, "apps.skiff.dev") {
			t.Errorf("deleted objects still listed:\n%s", out)
		}
	})
}
