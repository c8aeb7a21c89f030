package apiserver

import (
	"io"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"skiff.dev/skiff/test/integration/framework"
)

// TestSkiffGroupsDoNotOfferProtobuf: skiff's own kinds have no protobuf
// encoding, so a client that offers protobuf and JSON gets JSON, one that
// accepts only protobuf gets 406, and neither gets a 500 (a list asked for
// as protobuf used to fail to encode). client-go's metadata client, which
// kube-controller-manager's namespace controller uses, offers protobuf
// first.
func TestSkiffGroupsDoNotOfferProtobuf(t *testing.T) {
	s := framework.StartTestServer(t)
	ns := "negotiation"
	mustCreatePod(t, s.Client, ns, newPod("p1"))
	mustCreatePod(t, s.Client, ns, newPod("p2"))

	transport, err := rest.TransportFor(s.AdminConfig)
	if err != nil {
		t.Fatal(err)
	}
	get := func(accept string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodGet, s.AdminConfig.Host+"/apis/core.skiff.dev/v1alpha1/namespaces/"+ns+"/pods", nil)
		req.Header.Set("Accept", accept)
		resp, err := (&http.Client{Transport: transport}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}
	if code, ct, body := get("application/vnd.kubernetes.protobuf,application/json"); code != http.StatusOK || !strings.HasPrefix(ct, "application/json") {
		t.Errorf("list offering protobuf and JSON = %d %s, want 200 JSON: %.200s", code, ct, body)
	}
	if code, _, body := get("application/vnd.kubernetes.protobuf"); code != http.StatusNotAcceptable {
		t.Errorf("list accepting only protobuf = %d, want 406: %.200s", code, body)
	}

	// The namespace controller's call: a delete-collection through the
	// metadata client.
	mc, err := metadata.NewForConfig(s.AdminConfig)
	if err != nil {
		t.Fatal(err)
	}
	pods := schema.GroupVersionResource{Group: "core.skiff.dev", Version: "v1alpha1", Resource: "pods"}
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
