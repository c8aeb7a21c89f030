package apiserver

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/apiserver/auth"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/integration/framework"
)

// TestNodeCannotPointTheAPIServerElsewhere: a kubelet writing its own
// status cannot report an address the API server would dial somewhere
// else; it gets 422 with the field.
func TestNodeCannotPointTheAPIServerElsewhere(t *testing.T) {
	s := framework.StartTestServer(t)
	ctx := testContext(t)
	kubelet, err := clientset.NewForConfig(s.ConfigFor("system:node:n1", auth.NodesGroup))
	if err != nil {
		t.Fatal(err)
	}
	n := newNode("n1")
	n.Status.Addresses = []v1alpha1.NodeAddress{{Type: v1alpha1.NodeInternalIP, Address: "127.0.0.1"}, {Type: v1alpha1.NodeHostName, Address: "n1"}}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = 10250
	if n, err = kubelet.CoreV1alpha1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		t.Fatalf("register node: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*v1alpha1.Node)
		field  string
	}{
		{"userinfo in an InternalIP", func(n *v1alpha1.Node) { n.Status.Addresses[0].Address = "evil.example@127.0.0.1" }, "status.addresses[0].address"},
		{"a port and path in an InternalIP", func(n *v1alpha1.Node) { n.Status.Addresses[0].Address = "127.0.0.1:36443/x?" }, "status.addresses[0].address"},
		{"a URL as Hostname", func(n *v1alpha1.Node) { n.Status.Addresses[1].Address = "evil.example:1/" }, "status.addresses[1].address"},
		{"a kubelet port out of range", func(n *v1alpha1.Node) { n.Status.DaemonEndpoints.KubeletEndpoint.Port = 70000 }, "status.daemonEndpoints.kubeletEndpoint.Port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := n.DeepCopy()
			tc.mutate(bad)
			_, err := kubelet.CoreV1alpha1().Nodes().UpdateStatus(ctx, bad, metav1.UpdateOptions{})
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("update status: %v, want 422 on %s", err, tc.field)
			}
		})
	}
}
