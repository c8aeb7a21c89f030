package kubectlplugin

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

func TestRun(t *testing.T) {
	client := newFake()
	out, _, err := runFake(t, client, "run", "sleeper", "--image=busybox", "--restart=Never", "--env=A=1", "--env=B=x=y",
		"--port=8080", "--image-pull-policy=IfNotPresent", "--", "sleep", "3600")
	if err != nil || out != "pod/sleeper created\n" {
		t.Fatalf("run: %q %v", out, err)
	}
	got, err := client.CoreV1alpha1().Pods("default").Get(context.Background(), "sleeper", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := v1alpha1.PodSpec{RestartPolicy: v1alpha1.RestartPolicyNever, Containers: []v1alpha1.Container{{
		Name: "sleeper", Image: "busybox", ImagePullPolicy: v1alpha1.PullIfNotPresent, Args: []string{"sleep", "3600"},
		Env:   []v1alpha1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "x=y"}},
		Ports: []v1alpha1.ContainerPort{{ContainerPort: 8080}},
	}}}
	if !equality.Semantic.DeepEqual(got.Spec, want) || got.Labels["run"] != "sleeper" {
		t.Errorf("pod %+v labels %v", got.Spec, got.Labels)
	}

	if _, _, err := runFake(t, client, "run", "cmd", "--image=busybox", "--labels=app=a,tier=b", "--command", "--", "sh", "-c", "echo hi"); err != nil {
		t.Fatal(err)
	}
	got, _ = client.CoreV1alpha1().Pods("default").Get(context.Background(), "cmd", metav1.GetOptions{})
	if c := got.Spec.Containers[0]; strings.Join(c.Command, " ") != "sh -c echo hi" || c.Args != nil ||
		len(got.Labels) != 2 || got.Labels["app"] != "a" || got.Spec.RestartPolicy != v1alpha1.RestartPolicyAlways {
		t.Errorf("--command and --labels: %+v %v", c, got.Labels)
	}
}

func TestRunDryRunAndBadInput(t *testing.T) {
	client := newFake()
	out, _, err := runFake(t, client, "run", "web", "--image=nginx", "--dry-run=client", "-o", "yaml")
	if err != nil || !strings.Contains(out, "apiVersion: core.skiff.dev/v1alpha1") || !strings.Contains(out, "kind: Pod") || !strings.Contains(out, "image: nginx") {
		t.Fatalf("dry run yaml: %q %v", out, err)
	}
	if out, _, _ := runFake(t, client, "run", "web", "--image=nginx", "--dry-run"); out != "pod/web created (dry run)\n" {
		t.Errorf("dry run: %q", out)
	}
	if len(client.Actions()) != 0 {
		t.Errorf("client dry run sent %v", client.Actions())
	}
	for _, args := range [][]string{
		{"run", "web"},
		{"run", "web", "--image=nginx", "--restart=Sometimes"},
		{"run", "web", "--image=nginx", "--env=NOVALUE"},
		{"run", "Bad_Name", "--image=nginx"},
		{"run", "web", "extra", "--image=nginx"},
	} {
		if _, _, err := runFake(t, client, args...); err == nil {
			t.Errorf("%v should be refused", args)
		}
	}
	if _, _, err := runFake(t, client, "run", "web", "--image=nginx"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runFake(t, client, "run", "web", "--image=nginx"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second pod of the same name: %v", err)
	}
}
