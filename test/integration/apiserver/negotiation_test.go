package apiserver

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/apiserver"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/integration/framework"
)

// protobufMagic starts every Kubernetes protobuf body ("k8s\x00").
var protobufMagic = []byte{0x6b, 0x38, 0x73, 0x00}

// TestSkiffGroupsServeProtobuf: skiff's own groups answer in protobuf to a
// client that asks for it, take protobuf bodies, and stream watches in
// protobuf, next to JSON; a client offering protobuf first (client-go's
// metadata client, as kube-controller-manager's namespace controller uses
// it) gets protobuf.
func TestSkiffGroupsServeProtobuf(t *testing.T) {
	s := framework.StartTestServer(t)
	ns := "negotiation"
	mustCreatePod(t, s.Client, ns, newPod("p1"))
	mustCreatePod(t, s.Client, ns, newPod("p2"))

	transport, err := rest.TransportFor(s.AdminConfig)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, accept, contentType string, body []byte) (int, string, []byte) {
		req, _ := http.NewRequest(method, s.AdminConfig.Host+path, bytes.NewReader(body))
		req.Header.Set("Accept", accept)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := (&http.Client{Transport: transport}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), got
	}
	protobuf := protobufSerializer(t)
	list := podsPath(ns)

	for _, accept := range []string{"application/vnd.kubernetes.protobuf", "application/vnd.kubernetes.protobuf,application/json"} {
		code, ct, body := do(http.MethodGet, list, accept, "", nil)
		if code != http.StatusOK || ct != runtime.ContentTypeProtobuf || !bytes.HasPrefix(body, protobufMagic) {
			t.Fatalf("list accepting %s = %d %s, want 200 protobuf: %q", accept, code, ct, truncate(body))
		}
		obj, _, err := protobuf.Decode(body, nil, &v1alpha1.PodList{})
		if err != nil {
			t.Fatalf("decode the protobuf list: %v", err)
		}
		if n := len(obj.(*v1alpha1.PodList).Items); n != 2 {
			t.Errorf("protobuf list has %d pods, want 2", n)
		}
	}
	if code, ct, body := do(http.MethodGet, list, "application/json", "", nil); code != http.StatusOK || !strings.HasPrefix(ct, "application/json") {
		t.Errorf("list accepting JSON = %d %s, want 200 JSON: %q", code, ct, truncate(body))
	}
	if code, ct, body := do(http.MethodGet, list, "application/yaml", "", nil); code != http.StatusOK || !strings.HasPrefix(ct, "application/yaml") {
		t.Errorf("list accepting YAML = %d %s, want 200 YAML: %q", code, ct, truncate(body))
	}

	// CBOR is not offered (its feature gate is alpha and off): nothing to
	// guard there.
	if code, _, body := do(http.MethodPost, list, "application/json", "application/cbor", []byte{0xa0}); code != http.StatusUnsupportedMediaType {
		t.Errorf("a CBOR body = %d, want 415: %q", code, truncate(body))
	}

	t.Run("a protobuf body creates", func(t *testing.T) {
		pod := newPod("from-protobuf")
		pod.APIVersion, pod.Kind = v1alpha1.SchemeGroupVersion.String(), "Pod"
		var buf bytes.Buffer
		if err := protobuf.Encode(pod, &buf); err != nil {
			t.Fatal(err)
		}
		code, ct, body := do(http.MethodPost, list, runtime.ContentTypeProtobuf, runtime.ContentTypeProtobuf, buf.Bytes())
		if code != http.StatusCreated || ct != runtime.ContentTypeProtobuf {
			t.Fatalf("create with a protobuf body = %d %s, want 201 protobuf: %q", code, ct, truncate(body))
		}
		if _, err := s.Client.CoreV1alpha1().Pods(ns).Get(testContext(t), "from-protobuf", metav1.GetOptions{}); err != nil {
			t.Errorf("get the pod created from protobuf: %v", err)
		}
	})

	t.Run("tables are served as upstream serves them", func(t *testing.T) {
		code, ct, body := do(http.MethodGet, list, "application/json;as=Table;v=v1;g=meta.k8s.io", "", nil)
		if code != http.StatusOK || !strings.HasPrefix(ct, "application/json") || !bytes.Contains(body, []byte(`"kind":"Table"`)) {
			t.Errorf("JSON table = %d %s: %q", code, ct, truncate(body))
		}
		// kube-apiserver has no protobuf tables either: 406.
		code, ct, body = do(http.MethodGet, list, "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io", "", nil)
		if code != http.StatusNotAcceptable {
			t.Errorf("protobuf table = %d %s, want 406: %q", code, ct, truncate(body))
		}
	})

	t.Run("the clientset uses protobuf for every resource and verb", func(t *testing.T) {
		seen := &contentTypes{}
		cfg := rest.CopyConfig(s.AdminConfig)
		cfg.Wrap(seen.wrap)
		c, err := clientset.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		exerciseEveryResource(t, c, "proto-clientset")
		if bad := seen.not(runtime.ContentTypeProtobuf); len(bad) > 0 {
			t.Errorf("answers not in protobuf: %v", bad)
		}
	})

	t.Run("a client configured for JSON gets JSON", func(t *testing.T) {
		seen := &contentTypes{}
		cfg := rest.CopyConfig(s.AdminConfig)
		cfg.ContentType = runtime.ContentTypeJSON
		cfg.Wrap(seen.wrap)
		c, err := clientset.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		exerciseEveryResource(t, c, "json-clientset")
		if bad := seen.not(runtime.ContentTypeJSON); len(bad) > 0 {
			t.Errorf("answers not in JSON: %v", bad)
		}
	})

	// The namespace controller's call: a delete-collection through the
	// metadata client.
	mc, err := metadata.NewForConfig(s.AdminConfig)
	if err != nil {
		t.Fatal(err)
	}
	pods := schema.GroupVersionResource{Group: "core.skiff.dev", Version: "v1alpha1", Resource: "pods"}
	// It lists as protobuf PartialObjectMetadataList first.
	partial, err := mc.Resource(pods).Namespace(ns).List(testContext(t), metav1.ListOptions{})
	if err != nil || len(partial.Items) != 3 {
		t.Fatalf("list through the metadata client: %v (%d items, want 3)", err, len(partial.Items))
	}
	if err := mc.Resource(pods).Namespace(ns).DeleteCollection(testContext(t), metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatalf("delete-collection through the metadata client: %v", err)
	}
	left, err := s.Client.CoreV1alpha1().Pods(ns).List(testContext(t), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Items) != 0 {
		t.Errorf("%d pods left after the delete-collection", len(left.Items))
	}
}

// exerciseEveryResource creates, gets, lists, watches, updates and deletes
// each kind of skiff's groups, and uses the binding, status and scale
// subresources.
func exerciseEveryResource(t *testing.T, c clientset.Interface, ns string) {
	t.Helper()
	ctx := testContext(t)
	node := mustCreateNode(t, c, newNode(ns+"-node"))
	w, err := c.CoreV1alpha1().Pods(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("watch pods: %v", err)
	}
	defer w.Stop()
	pod := mustCreatePod(t, c, ns, newPod("p"))
	if ev := nextEvent(t, w); podName(ev) != "p" {
		t.Errorf("watch event for %s, want p", podName(ev))
	}
	mustBind(t, c, ns, "p", node.Name)
	pod, err = c.CoreV1alpha1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
	if err != nil || pod.Spec.NodeName != node.Name {
		t.Fatalf("get the bound pod: %v (node %q)", err, pod.Spec.NodeName)
	}
	pod.Status.Phase = v1alpha1.PodRunning
	if _, err := c.CoreV1alpha1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Errorf("update pod status: %v", err)
	}
	if _, err := c.CoreV1alpha1().Nodes().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list nodes: %v", err)
	}
	lease := &v1alpha1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "l"}, Spec: v1alpha1.LeaseSpec{HolderIdentity: ptrTo("me")}}
	if _, err := c.CoreV1alpha1().Leases(ns).Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		t.Errorf("create lease: %v", err)
	}
	if _, err := c.CoreV1alpha1().Leases(ns).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list leases: %v", err)
	}
	rs, err := c.AppsV1alpha1().ReplicaSets(ns).Create(ctx, newReplicaSet("rs"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create replicaset: %v", err)
	}
	scale, err := c.AppsV1alpha1().ReplicaSets(ns).GetScale(ctx, rs.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get scale: %v", err)
	}
	scale.Spec.Replicas = 3
	if _, err := c.AppsV1alpha1().ReplicaSets(ns).UpdateScale(ctx, rs.Name, scale, metav1.UpdateOptions{}); err != nil {
		t.Errorf("update scale: %v", err)
	}
	d := &appsv1alpha1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d"},
		Spec:       appsv1alpha1.DeploymentSpec{Selector: rs.Spec.Selector, Template: rs.Spec.Template},
	}
	if _, err := c.AppsV1alpha1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Errorf("create deployment: %v", err)
	}
	if _, err := c.AppsV1alpha1().Deployments(ns).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list deployments: %v", err)
	}
	if err := c.CoreV1alpha1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptrTo(int64(0))}); err != nil {
		t.Errorf("delete pod: %v", err)
	}
}

// protobufSerializer is the server's protobuf serializer, to build and read
// bodies as a client would.
func protobufSerializer(t *testing.T) runtime.Serializer {
	t.Helper()
	info, ok := runtime.SerializerInfoForMediaType(apiserver.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok {
		t.Fatal("the codec factory has no protobuf serializer")
	}
	return info.Serializer
}

// contentTypes records the Content-Type of every answer with a body.
type contentTypes struct {
	mu  sync.Mutex
	got []string
}

func (c *contentTypes) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err == nil && resp.StatusCode != http.StatusNoContent {
			c.mu.Lock()
			c.got = append(c.got, req.Method+" "+req.URL.Path+" -> "+resp.Header.Get("Content-Type"))
			c.mu.Unlock()
		}
		return resp, err
	})
}

// not lists the answers whose media type is not want.
func (c *contentTypes) not(want string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.got) == 0 {
		return []string{"no answers recorded"}
	}
	var bad []string
	for _, g := range c.got {
		_, ct, _ := strings.Cut(g, " -> ")
		if mt, _, _ := strings.Cut(ct, ";"); mt != want {
			bad = append(bad, g)
		}
	}
	return bad
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
