package pod

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"skiff.dev/skiff/pkg/apis/core"
)

// objects is a getter of pods or nodes by name.
type objects map[string]runtime.Object

func (o objects) Get(_ context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if obj, ok := o[name]; ok {
		return obj, nil
	}
	return nil, apierrors.NewNotFound(core.Resource("things"), name)
}

func testPod(name, node string, phase core.PodPhase, running ...string) *core.Pod {
	p := &core.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
	p.Spec.NodeName = node
	p.Spec.Containers = []core.Container{{Name: "app"}, {Name: "side"}}
	p.Status.Phase = phase
	for _, c := range p.Spec.Containers {
		st := core.ContainerStatus{Name: c.Name}
		for _, r := range running {
			if r == c.Name {
				st.State.Running = &core.ContainerStateRunning{}
			}
		}
		if st.State.Running == nil {
			st.State.Waiting = &core.ContainerStateWaiting{Reason: "CrashLoopBackOff"}
		}
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, st)
	}
	return p
}

func testNode(name, addr string, port int32) *core.Node {
	n := &core.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if addr != "" {
		n.Status.Addresses = []core.NodeAddress{{Type: core.NodeInternalIP, Address: addr}}
	}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = port
	return n
}

// decide is an authorizer that allows everything, or nothing.
func decide(allow bool) authorizer.Authorizer {
	return authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		if allow {
			return authorizer.DecisionAllow, "", nil
		}
		return authorizer.DecisionDeny, "no rule allows it", nil
	})
}

func streamCtx(verb, sub string) context.Context {
	ctx := genericapirequest.WithNamespace(context.Background(), "default")
	ctx = genericapirequest.WithUser(ctx, &user.DefaultInfo{Name: "alice"})
	return genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{
		IsResourceRequest: true, Verb: verb, APIGroup: core.GroupName, APIVersion: "v1alpha1",
		Namespace: "default", Resource: "pods", Subresource: sub, Name: "web",
	})
}

func TestStreamSubresourcesRefuse(t *testing.T) {
	pods := objects{
		"web":     testPod("web", "n1", core.PodRunning, "app"),
		"pending": testPod("pending", "", core.PodPending),
		"done":    testPod("done", "n1", core.PodSucceeded),
		"lost":    testPod("lost", "gone", core.PodRunning, "app", "side"),
		"mute":    testPod("mute", "silent", core.PodRunning, "app", "side"),
	}
	nodes := objects{"n1": testNode("n1", "127.0.0.1", 10250), "silent": testNode("silent", "", 0)}
	conn := &NodeConnectionInfoGetter{Nodes: nodes, Kubelet: KubeletConnection{Transport: http.DefaultTransport}}
	rest := streamREST{store: pods, conn: conn, authz: decide(true)}
	exec, attach, fwd := &ExecREST{rest}, &AttachREST{rest}, &PortForwardREST{rest}
	create := streamCtx("create", "exec")
	tests := []struct {
		name    string
		connect func() error
		is      func(error) bool
		want    string
	}{
		{"a container that does not exist", func() error {
			_, err := exec.Connect(create, "web", &core.PodExecOptions{Container: "nope", Command: []string{"true"}, Stdout: true}, nil)
			return err
		}, apierrors.IsBadRequest, "container nope is not valid for pod web"},
		{"two containers and none named", func() error {
			_, err := exec.Connect(create, "lost", &core.PodExecOptions{Command: []string{"true"}, Stdout: true}, nil)
			return err
		}, apierrors.IsBadRequest, "a container name must be specified for pod lost, choose one of: [app side]"},
		{"a container that is not running", func() error {
			_, err := exec.Connect(create, "web", &core.PodExecOptions{Container: "side", Command: []string{"true"}, Stdout: true}, nil)
			return err
		}, apierrors.IsBadRequest, "container side in pod web is not running"},
		{"a pod not scheduled", func() error {
			_, err := attach.Connect(create, "pending", &core.PodAttachOptions{Stdout: true}, nil)
			return err
		}, apierrors.IsBadRequest, "pod pending does not have a host assigned"},
		{"a completed pod", func() error {
			_, err := fwd.Connect(create, "done", &core.PodPortForwardOptions{Ports: []int32{80}}, nil)
			return err
		}, apierrors.IsBadRequest, "cannot forward ports of a container in a completed pod; current phase is Succeeded"},
		{"no command", func() error {
			_, err := exec.Connect(create, "web", &core.PodExecOptions{Stdout: true}, nil)
			return err
		}, apierrors.IsInvalid, "command: Required value"},
		{"no stream", func() error {
			_, err := exec.Connect(create, "web", &core.PodExecOptions{Command: []string{"true"}}, nil)
			return err
		}, apierrors.IsInvalid, "at least one of stdin, stdout and stderr"},
		{"a bad port", func() error {
			_, err := fwd.Connect(create, "web", &core.PodPortForwardOptions{Ports: []int32{0}}, nil)
			return err
		}, apierrors.IsInvalid, "ports[0]"},
		{"a node that is gone", func() error {
			_, err := exec.Connect(create, "lost", &core.PodExecOptions{Container: "app", Command: []string{"true"}, Stdout: true}, nil)
			return err
		}, apierrors.IsServiceUnavailable, "node gone does not exist"},
		{"a node that has not said where its kubelet is", func() error {
			_, err := fwd.Connect(create, "mute", &core.PodPortForwardOptions{}, nil)
			return err
		}, apierrors.IsServiceUnavailable, "node silent has not reported its kubelet's address and port"},
		{"a WebSocket get by someone who may not create", func() error {
			denied := &ExecREST{streamREST{store: pods, conn: conn, authz: decide(false)}}
			_, err := denied.Connect(streamCtx("get", "exec"), "web", &core.PodExecOptions{Command: []string{"true"}, Stdout: true}, nil)
			return err
		}, apierrors.IsForbidden, `pods/exec.core.skiff.dev "web" is forbidden: no rule allows it`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.connect()
			if err == nil || !tt.is(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want one saying %q", err, tt.want)
			}
		})
	}
	// Allowed: a handler, for the kubelet's URL.
	if h, err := exec.Connect(streamCtx("get", "exec"), "web", &core.PodExecOptions{Container: "app", Command: []string{"ls", "-l"}, Stdout: true, Stdin: true}, nil); err != nil || h == nil {
		t.Errorf("exec into a running container: %v", err)
	}
}

func TestKubeletDialErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d := newKubeletDial(&ConnectionInfo{Node: "n1", Transport: &http.Transport{}})
	_, err = d.transport.(*http.Transport).DialContext(context.Background(), "tcp", addr)
	if !apierrors.IsServiceUnavailable(err) || !strings.Contains(err.Error(), "the kubelet of node n1 at "+addr+" is unreachable") {
		t.Fatalf("dial a closed port: %v", err)
	}
	var got error
	r := &kubeletErrorResponder{dial: d, hostPort: addr, responder: recordResponder{&got}}
	r.Error(nil, nil, errors.New("error dialing backend: flattened"))
	if !apierrors.IsServiceUnavailable(got) || !strings.Contains(got.Error(), "node n1") {
		t.Errorf("responder answered %v, want the dial's 503", got)
	}
}

type recordResponder struct{ err *error }

func (r recordResponder) Object(int, runtime.Object) {}
func (r recordResponder) Error(err error)            { *r.err = err }
