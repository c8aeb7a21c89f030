package apiserver

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/apiserver/options"
	"skiff.dev/skiff/test/integration/framework"
)

// TestBadResourceVersion: a resourceVersion that is not a number is the
// client's mistake, for a list and a watch alike, whether the watch cache
// serves them or etcd does.
func TestBadResourceVersion(t *testing.T) {
	for _, cache := range []bool{true, false} {
		t.Run(fmt.Sprintf("watch cache %v", cache), func(t *testing.T) {
			s := framework.StartTestServer(t, func(o *options.Options) { o.Etcd.EnableWatchCache = cache })
			mustCreatePod(t, s.Client, "rv", newPod("p"))
			for _, query := range []string{
				"resourceVersion=garbage",
				"resourceVersion=garbage&resourceVersionMatch=NotOlderThan",
				"resourceVersion=garbage&resourceVersionMatch=Exact",
				"watch=1&resourceVersion=garbage",
				"watch=1&resourceVersion=-1",
				"watch=1&resourceVersion=garbage&allowWatchBookmarks=true",
			} {
				for _, path := range []string{podsPath("rv"), "/apis/core.skiff.dev/v1alpha1/pods"} {
					res := doRaw(t, s.AdminConfig, "GET", path+"?"+query, "", nil)
					if res.code != http.StatusBadRequest {
						t.Errorf("GET %s?%s = HTTP %d (%s), want 400", path, query, res.code, truncate(res.body))
					}
				}
			}
		})
	}
}

// TestPodLogsUnreachableKubelet: when the node's kubelet cannot be reached
// or does not speak the kubelet API, pods/log says so with a 5xx of the
// gateway kind that names the node, never a bare 500.
func TestPodLogsUnreachableKubelet(t *testing.T) {
	s := framework.StartTestServer(t)
	c := s.Client
	const ns = "logs-down"

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedPort := l.Addr().(*net.TCPAddr).Port
	l.Close()

	// A server that speaks plain HTTP where the kubelet speaks HTTPS.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "plain")
	}))
	defer plain.Close()
	_, plainPortText, _ := net.SplitHostPort(plain.Listener.Addr().String())
	plainPort, _ := strconv.Atoi(plainPortText)

	nodes := []struct {
		name    string
		address string
		port    int
	}{
		{name: "refuses", address: "127.0.0.1", port: refusedPort},
		{name: "speaks-http", address: "127.0.0.1", port: plainPort},
		{name: "unresolvable", address: "kubelet.invalid", port: 10250},
	}
	for _, n := range nodes {
		node := newNode(n.name)
		node.Status.Addresses = []v1alpha1.NodeAddress{{Type: v1alpha1.NodeHostName, Address: n.address}}
		node.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(n.port)
		mustCreateNode(t, c, node)
		mustCreatePod(t, c, ns, newPod("on-"+n.name))
		mustBind(t, c, ns, "on-"+n.name, n.name)
	}
	for _, n := range nodes {
		t.Run(n.name, func(t *testing.T) {
			res := doRaw(t, s.AdminConfig, "GET", podsPath(ns, "on-"+n.name, "log"), "", nil)
			if res.code != http.StatusServiceUnavailable && res.code != http.StatusBadGateway {
				t.Fatalf("HTTP %d (%s), want 502 or 503", res.code, truncate(res.body))
			}
			if res.status == nil || !strings.Contains(res.status.Message, n.name) {
				t.Errorf("answer %s does not name node %s", truncate(res.body), n.name)
			}
		})
	}
}

// TestTooManyContainers: a pod with more containers than its status could
// ever hold in one etcd value is refused at create, with the field named,
// rather than stored, bound, and left with a kubelet whose status writes
// fail for ever.
func TestTooManyContainers(t *testing.T) {
	s := framework.StartTestServer(t)
	p := newPod("crowd")
	p.Spec.Containers = nil
	for i := 0; i < 10000; i++ {
		p.Spec.Containers = append(p.Spec.Containers, v1alpha1.Container{Name: fmt.Sprintf("c%d", i), Image: "busybox"})
	}
	_, err := s.Client.CoreV1alpha1().Pods("crowd").Create(testContext(t), p, metav1.CreateOptions{})
	st := expectStatus(t, err, http.StatusUnprocessableEntity, "create of a pod with 10000 containers")
	if !hasCause(st, "spec.containers") {
		t.Errorf("causes %s do not name spec.containers", causesOf(st))
	}
}
