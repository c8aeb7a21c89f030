// Package apiserver holds the integration tests of skiff-apiserver: a real
// server on embedded etcd in a temporary directory, driven by the generated
// clientset and raw HTTP, as kubectl, the scheduler and kubelets drive it.
package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// testTimeout bounds every wait: generous, since the machine is shared; the
// tests assert what happens, never how fast.
const testTimeout = time.Minute

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func newPod(name string) *v1alpha1.Pod {
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "web"}},
		Spec: v1alpha1.PodSpec{
			Containers: []v1alpha1.Container{{Name: "main", Image: "busybox:1.36", Command: []string{"sleep", "3600"}}},
		},
	}
}

func newNode(name string) *v1alpha1.Node {
	return &v1alpha1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: v1alpha1.NodeStatus{
			Conditions: []v1alpha1.NodeCondition{{Type: v1alpha1.NodeReady, Status: v1alpha1.ConditionTrue}},
		},
	}
}

func ptrTo[T any](v T) *T { return &v }

func mustCreatePod(t *testing.T, c clientset.Interface, ns string, pod *v1alpha1.Pod) *v1alpha1.Pod {
	t.Helper()
	created, err := c.CoreV1alpha1().Pods(ns).Create(testContext(t), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s/%s: %v", ns, pod.Name, err)
	}
	return created
}

func mustCreateNode(t *testing.T, c clientset.Interface, node *v1alpha1.Node) *v1alpha1.Node {
	t.Helper()
	created, err := c.CoreV1alpha1().Nodes().Create(testContext(t), node, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create node %s: %v", node.Name, err)
	}
	return created
}

func mustBind(t *testing.T, c clientset.Interface, ns, pod, node string) {
	t.Helper()
	binding := &v1alpha1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod},
		Target:     v1alpha1.ObjectReference{Kind: "Node", Name: node},
	}
	if _, err := c.CoreV1alpha1().Pods(ns).Bind(testContext(t), pod, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("bind %s/%s to %s: %v", ns, pod, node, err)
	}
}

// expectStatus fails unless err is an API error with the HTTP code, and
// returns the Status the server sent.
func expectStatus(t *testing.T, err error, code int32, what string) metav1.Status {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded, want HTTP %d", what, code)
	}
	var apiStatus apierrors.APIStatus
	if !errors.As(err, &apiStatus) {
		t.Fatalf("%s: error %v (%T) is not an API status, want HTTP %d", what, err, err, code)
	}
	st := apiStatus.Status()
	if st.Code != code {
		t.Fatalf("%s: HTTP %d (%s: %s), want %d", what, st.Code, st.Reason, st.Message, code)
	}
	return st
}

// rawResult is an HTTP answer read without the clientset's decoding.
type rawResult struct {
	code   int
	body   []byte
	status *metav1.Status
}

// doRaw sends one request through a REST client for cfg and returns the
// HTTP code and the decoded Status when the body is one.
func doRaw(t *testing.T, cfg *rest.Config, verb, path string, contentType string, body []byte) rawResult {
	t.Helper()
	c, err := clientset.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	path, query, _ := strings.Cut(path, "?")
	req := c.CoreV1alpha1().RESTClient().Verb(verb).AbsPath(path)
	if query != "" {
		values, err := url.ParseQuery(query)
		if err != nil {
			t.Fatalf("query %q: %v", query, err)
		}
		for k, vs := range values {
			for _, v := range vs {
				req = req.Param(k, v)
			}
		}
	}
	if body != nil {
		req = req.Body(body)
	}
	if contentType != "" {
		req = req.SetHeader("Content-Type", contentType)
	}
	res := req.Do(testContext(t))
	var code int
	res.StatusCode(&code)
	raw, _ := res.Raw()
	out := rawResult{code: code, body: raw}
	var st metav1.Status
	if json.Unmarshal(raw, &st) == nil && st.Kind == "Status" {
		out.status = &st
	}
	return out
}

// nextEvent returns the watch's next event, failing the test on timeout or
// a closed watch.
func nextEvent(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed early")
		}
		if ev.Type == watch.Error {
			t.Fatalf("watch error: %v", apierrors.FromObject(ev.Object))
		}
		return ev
	case <-time.After(testTimeout):
		t.Fatal("no watch event within the timeout")
	}
	return watch.Event{}
}

// podName names the pod in a watch event.
func podName(ev watch.Event) string {
	if p, ok := ev.Object.(*v1alpha1.Pod); ok {
		return p.Name
	}
	return fmt.Sprintf("<%T>", ev.Object)
}

func causesOf(st metav1.Status) string {
	if st.Details == nil {
		return "<no details>"
	}
	var out []string
	for _, c := range st.Details.Causes {
		out = append(out, fmt.Sprintf("%s %s", c.Field, c.Type))
	}
	return strings.Join(out, "; ")
}

func podsPath(ns string, rest ...string) string {
	p := "/apis/core.skiff.dev/v1alpha1/namespaces/" + ns + "/pods"
	for _, r := range rest {
		p += "/" + r
	}
	return p
}
