package kubectlplugin

import (
	"strings"
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// The streaming commands refuse what kubectl refuses before they dial; the
// streams themselves are covered end to end (test/e2e/exec_test.go).
func TestStreamCommandsRefuse(t *testing.T) {
	running := pod("default", "web", "n1", "", v1alpha1.PodRunning)
	running.Spec.Containers = []v1alpha1.Container{{Name: "app"}, {Name: "side"}}
	done := pod("default", "done", "n1", "", v1alpha1.PodSucceeded)
	pending := pod("default", "pending", "", "", v1alpha1.PodPending)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"exec without a command", []string{"exec", "web", "--"}, "you must specify at least one command for the container"},
		{"exec with the command before --", []string{"exec", "web", "ls"}, "put the command after --"},
		{"exec into a completed pod", []string{"exec", "done", "--", "true"}, "cannot exec into a container in a completed pod; current phase is Succeeded"},
		{"exec into a container that does not exist", []string{"exec", "web", "-c", "nope", "--", "true"}, "container nope is not valid for pod web out of: app, side"},
		{"exec into something not a pod", []string{"exec", "deploy/web", "--", "true"}, "only pods"},
		{"exec into a pod that does not exist", []string{"exec", "ghost", "--", "true"}, "not found"},
		{"attach to a completed pod", []string{"attach", "done"}, "cannot attach to a container in a completed pod"},
		{"port-forward without ports", []string{"port-forward", "web"}, "TYPE/NAME and list of ports are required for port-forward"},
		{"port-forward to a pending pod", []string{"port-forward", "pending", "8080:80"}, "unable to forward port because pod is not running. Current status=Pending"},
		{"port-forward to a named port", []string{"port-forward", "web", "8080:http"}, `invalid port "http"`},
		{"port-forward to port 0", []string{"port-forward", "web", "0"}, "the remote port must be a number from 1 to 65535"},
		{"port-forward from a bad local port", []string{"port-forward", "web", "x:80"}, `invalid port "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runFake(t, newFake(running, done, pending), tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestExecDefaultsTheContainer(t *testing.T) {
	web := pod("default", "web", "n1", "", v1alpha1.PodRunning)
	web.Spec.Containers = []v1alpha1.Container{{Name: "app"}, {Name: "side"}}
	// The fake factory cannot stream: the command fails after choosing.
	_, errOut, err := runFake(t, newFake(web), "exec", "web", "--", "true")
	if !strings.Contains(errOut, `Defaulted container "app" out of: app, side`) || err == nil || !strings.Contains(err.Error(), "no server to stream from") {
		t.Errorf("stderr %q, err %v", errOut, err)
	}
	web.Annotations = map[string]string{defaultContainerAnnotation: "side"}
	_, errOut, _ = runFake(t, newFake(web), "exec", "-q", "web", "--", "true")
	if errOut != "" {
		t.Errorf("with the default-container annotation and -q, stderr %q", errOut)
	}
}
