package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	skifffake "skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/pki"
	"skiff.dev/skiff/pkg/scheduler/options"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil }); err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func bound(t *testing.T, api *st.FakeAPI, name string) bool {
	p, err := api.Client.CoreV1alpha1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get pod %s: %v", name, err)
	}
	return p.Spec.NodeName != ""
}

// endpoint is a scheduler's secure port as a test reaches it: the address,
// and client certificates from the CA it trusts.
type endpoint struct {
	addr string
	ca   *pki.CA
}

// secureOn makes o serve on a free loopback port, trusting client
// certificates signed by a fresh CA.
func secureOn(t *testing.T, o *options.Options) *pki.CA {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Serving.SecureServing.Listener = ln
	o.Serving.Authentication.ClientCert.ClientCA = filepath.Join(dir, pki.CACertFile)
	return ca
}

// get GETs path as user (anonymous when ""), with a client certificate
// from ca, and returns the status code and body.
func (e endpoint) get(t *testing.T, user string, groups []string, path string) (int, string) {
	t.Helper()
	return getWith(t, e.ca, user, groups, "https://"+e.addr+path)
}

func getWith(t *testing.T, ca *pki.CA, user string, groups []string, url string) (int, string) {
	t.Helper()
	// The serving certificate is self-signed, as kube-scheduler's is by
	// default: the test checks who gets in, not the server's name.
	tlsConfig := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // see above
	if user != "" {
		kp, err := ca.ClientCert(user, groups)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		tlsConfig.Certificates = []tls.Certificate{cert}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

type replica struct {
	cancel context.CancelFunc
	done   chan error
}

func startReplica(t *testing.T, api *st.FakeAPI, o *options.Options, addr chan<- string) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx, o, api.Client, api.Client, kubefake.NewClientset(), addr) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the replica, as SIGTERM does, and checks it exits cleanly.
func (r *replica) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("replica exited with %v, want a clean exit", err)
	}
}

func TestServesHealthAndMetricsAndStopsCleanly(t *testing.T) {
	api := st.NewFakeAPI(st.MakeNode("n").Obj(), st.MakePod("p").Obj())
	o := options.NewOptions()
	o.LeaderElection.LeaderElect = false
	ca := secureOn(t, o)
	addrCh := make(chan string, 1)
	r := startReplica(t, api, o, addrCh)
	e := endpoint{addr: <-addrCh, ca: ca}

	eventually(t, "pod p to be bound", func() bool { return bound(t, api, "p") })
	if code, body := e.get(t, "", nil, "/healthz"); code != http.StatusOK || body != "ok" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	eventually(t, "/readyz to be ok once the informers synced", func() bool {
		code, _ := e.get(t, "", nil, "/readyz")
		return code == http.StatusOK
	})
	eventually(t, "the scheduled attempt in /metrics", func() bool {
		_, body := e.get(t, "admin", []string{"system:masters"}, "/metrics")
		return strings.Contains(body, `scheduler_schedule_attempts_total{result="scheduled"}`) &&
			strings.Contains(body, "scheduler_e2e_scheduling_duration_seconds_bucket") &&
			strings.Contains(body, `scheduler_pending_pods{queue="active"}`)
	})
	r.stop(t)
}

// fakeSAR is the API server's subjectaccessreviews endpoint: it allows
// user prometheus to GET /metrics and nothing else, and records what it
// was asked.
type fakeSAR struct {
	mu      sync.Mutex
	reviews []authorizationv1.SubjectAccessReviewSpec
}

func (f *fakeSAR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/apis/authorization.k8s.io/v1/subjectaccessreviews" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var review authorizationv1.SubjectAccessReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.reviews = append(f.reviews, review.Spec)
	f.mu.Unlock()
	na := review.Spec.NonResourceAttributes
	review.Status.Allowed = review.Spec.User == "prometheus" && na != nil && na.Path == "/metrics" && na.Verb == "get"
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(review)
}

func (f *fakeSAR) asked(user, path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.reviews {
		if r.User == user && r.NonResourceAttributes != nil && r.NonResourceAttributes.Path == path {
			return true
		}
	}
	return false
}

// kubeconfigFor writes a kubeconfig that reaches server.
func kubeconfigFor(t *testing.T, server string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["api"] = &clientcmdapi.Cluster{Server: server, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["scheduler"] = &clientcmdapi.AuthInfo{Token: "scheduler-token"}
	cfg.Contexts["api"] = &clientcmdapi.Context{Cluster: "api", AuthInfo: "scheduler"}
	cfg.CurrentContext = "api"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSecurePortAuthenticatesAndAuthorizes: the endpoints are served as
// kube-scheduler serves them. Anyone may read the health paths; /metrics
// and the profiles need a caller that system:masters or a
// SubjectAccessReview allows; an unknown certificate is refused, and plain
// HTTP gets nothing.
func TestSecurePortAuthenticatesAndAuthorizes(t *testing.T) {
	sar := &fakeSAR{}
	apiServer := httptest.NewTLSServer(sar)
	defer apiServer.Close()

	api := st.NewFakeAPI(st.MakeNode("n").Obj())
	o := options.NewOptions()
	o.LeaderElection.LeaderElect = false
	ca := secureOn(t, o)
	o.Serving.Authorization.RemoteKubeConfigFile = kubeconfigFor(t, apiServer.URL)
	addrCh := make(chan string, 1)
	startReplica(t, api, o, addrCh)
	e := endpoint{addr: <-addrCh, ca: ca}
	eventually(t, "/readyz to be ok", func() bool { code, _ := e.get(t, "", nil, "/readyz"); return code == http.StatusOK })

	masters := []string{"system:masters"}
	tests := []struct {
		name   string
		user   string
		groups []string
		path   string
		want   int
	}{
		{"anyone reads /healthz", "", nil, "/healthz", http.StatusOK},
		{"anyone reads /livez", "", nil, "/livez", http.StatusOK},
		{"anyone reads /readyz", "", nil, "/readyz", http.StatusOK},
		{"a user reads /healthz", "mallory", nil, "/healthz", http.StatusOK},
		{"anonymous may not read /metrics", "", nil, "/metrics", http.StatusForbidden},
		{"anonymous may not profile", "", nil, "/debug/pprof/", http.StatusForbidden},
		{"system:masters reads /metrics", "admin", masters, "/metrics", http.StatusOK},
		{"system:masters profiles", "admin", masters, "/debug/pprof/", http.StatusOK},
		{"a user the review allows reads /metrics", "prometheus", nil, "/metrics", http.StatusOK},
		{"a user the review allows /metrics may not profile", "prometheus", nil, "/debug/pprof/", http.StatusForbidden},
		{"a user the review denies may not read /metrics", "mallory", nil, "/metrics", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := e.get(t, tt.user, tt.groups, tt.path); code != tt.want {
				t.Errorf("GET %s as %q = %d, want %d: %.200s", tt.path, tt.user, code, tt.want, body)
			}
		})
	}
	if !sar.asked("prometheus", "/metrics") || !sar.asked("mallory", "/metrics") {
		t.Errorf("the API server was not asked about the users' /metrics requests: %+v", sar.reviews)
	}
	if sar.asked("admin", "/metrics") || sar.asked("", "/healthz") || sar.asked("mallory", "/healthz") {
		t.Errorf("the API server was asked about what is always allowed: %+v", sar.reviews)
	}

	t.Run("a certificate from another CA is refused", func(t *testing.T) {
		other, err := pki.LoadOrCreateCA(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := getWith(t, other, "admin", masters, "https://"+e.addr+"/metrics"); code != http.StatusUnauthorized {
			t.Errorf("GET /metrics with a certificate from an unknown CA = %d, want 401", code)
		}
	})
	t.Run("plain HTTP gets nothing", func(t *testing.T) {
		resp, err := http.Get("http://" + e.addr + "/metrics")
		if err != nil {
			return
		}
		defer resp.Body.Close()
		if body, _ := io.ReadAll(resp.Body); resp.StatusCode == http.StatusOK || strings.Contains(string(body), "scheduler_") {
			t.Errorf("plain HTTP GET /metrics = %d %.200q", resp.StatusCode, body)
		}
	})
}

// TestProfilingOff: with --profiling=false the profiles are not served,
// even to system:masters.
func TestProfilingOff(t *testing.T) {
	api := st.NewFakeAPI()
	o := options.NewOptions()
	o.LeaderElection.LeaderElect = false
	o.Serving.EnableProfiling = false
	ca := secureOn(t, o)
	addrCh := make(chan string, 1)
	startReplica(t, api, o, addrCh)
	e := endpoint{addr: <-addrCh, ca: ca}
	if code, _ := e.get(t, "admin", []string{"system:masters"}, "/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ as system:masters with profiling off = %d, want 404", code)
	}
}

func TestTwoReplicasWithLeaderElectionBindEachPodOnce(t *testing.T) {
	api := st.NewFakeAPI(st.MakeNode("n1").Obj(), st.MakeNode("n2").Obj())
	opts := func() *options.Options {
		o := options.NewOptions()
		o.Serving.SecureServing.BindPort = 0
		o.LeaderElection.LeaseDuration = 2 * time.Second
		o.LeaderElection.RenewDeadline = time.Second
		o.LeaderElection.RetryPeriod = 100 * time.Millisecond
		return o
	}
	leaseHolder := func() string {
		l, err := api.Client.CoreV1alpha1().Leases("skiff-system").Get(context.Background(), "skiff-scheduler", metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}

	first := startReplica(t, api, opts(), nil)
	eventually(t, "the first replica to lead", func() bool { return leaseHolder() != "" })
	firstID := leaseHolder()
	startReplica(t, api, opts(), nil)

	create := func(names ...string) {
		for _, n := range names {
			if _, err := api.Client.CoreV1alpha1().Pods("default").Create(context.Background(), st.MakePod(n).Obj(), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var batch []string
	for i := range 20 {
		batch = append(batch, fmt.Sprintf("p%02d", i))
	}
	create(batch...)
	for _, n := range batch {
		eventually(t, "pod "+n+" to be bound", func() bool { return bound(t, api, n) })
	}

	// The leader stops; the standby takes the lease and schedules.
	first.stop(t)
	eventually(t, "the second replica to lead", func() bool { h := leaseHolder(); return h != "" && h != firstID })
	create("after-failover")
	eventually(t, "the pod created after failover to be bound", func() bool { return bound(t, api, "after-failover") })

	for _, n := range append(batch, "after-failover") {
		if c := api.BindCalls("default", n); c != 1 {
			t.Errorf("pod %s got %d binding requests, want 1: two replicas scheduled at once", n, c)
		}
	}
}

// TestLosingTheLeaseEndsRun: another holder takes the Lease (as a replica
// does after this one's renewals stalled behind a frozen API server). run
// must stop leading and return ErrLeadershipLost, so the process exits
// non-zero and its supervisor restarts it, rather than hang on its way out
// with no pod ever scheduled again.
func TestLosingTheLeaseEndsRun(t *testing.T) {
	api := st.NewFakeAPI(st.MakeNode("n").Obj())
	o := options.NewOptions()
	o.Serving.SecureServing.BindPort = 0
	o.LeaderElection.LeaseDuration = 2 * time.Second
	o.LeaderElection.RenewDeadline = time.Second
	o.LeaderElection.RetryPeriod = 100 * time.Millisecond
	leases := api.Client.CoreV1alpha1().Leases("skiff-system")
	lease := func() *v1alpha1.Lease {
		l, err := leases.Get(context.Background(), "skiff-scheduler", metav1.GetOptions{})
		if err != nil {
			return nil
		}
		return l
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, api.Client, api.Client, kubefake.NewClientset(), nil) }()
	eventually(t, "the scheduler to lead", func() bool { l := lease(); return l != nil && l.Spec.HolderIdentity != nil })

	// The API server refuses a write based on what another writer has
	// since changed; the fake clientset does not, so do it here: once the
	// intruder holds the lease, the old holder's renewals conflict.
	const intruder = "intruder"
	var intruded atomic.Bool
	api.Client.PrependReactor("update", "leases", func(a clienttesting.Action) (bool, runtime.Object, error) {
		l := a.(clienttesting.UpdateAction).GetObject().(*v1alpha1.Lease)
		if intruded.Load() && (l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != intruder) {
			return true, nil, apierrors.NewConflict(v1alpha1.Resource("leases"), l.Name, errors.New("the lease was changed"))
		}
		return false, nil, nil
	})
	l := lease()
	intruded.Store(true)
	hour, now := int32(3600), metav1.NewMicroTime(time.Now())
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime, l.Spec.AcquireTime = ptr.To(intruder), &hour, &now, &now
	if _, err := leases.Update(context.Background(), l, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("take the lease: %v", err)
	}

	// A guard against the hang, far beyond the one-second renew deadline.
	select {
	case err := <-done:
		if !errors.Is(err, ErrLeadershipLost) {
			t.Fatalf("run returned %v, want ErrLeadershipLost", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not return after losing the lease: the scheduler hangs, alive and never scheduling again")
	}
}

// TestInformersKeepNoManagedFields: the pods and nodes the scheduler caches
// come without managedFields, and otherwise whole.
func TestInformersKeepNoManagedFields(t *testing.T) {
	managed := []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate}}
	client := skifffake.NewSimpleClientset(
		&v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", ManagedFields: managed}, Spec: v1alpha1.PodSpec{NodeName: "n1"}},
		&v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", ManagedFields: managed}},
	)
	factory := newInformerFactory(client)
	pods := factory.Core().V1alpha1().Pods().Lister()
	nodes := factory.Core().V1alpha1().Nodes().Lister()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); factory.Shutdown() }()
	factory.Start(ctx.Done())
	for typ, synced := range factory.WaitForCacheSync(ctx.Done()) {
		if !synced {
			t.Fatalf("informer for %v did not sync", typ)
		}
	}
	pod, err := pods.Pods("default").Get("p")
	if err != nil {
		t.Fatal(err)
	}
	if pod.ManagedFields != nil || pod.Spec.NodeName != "n1" {
		t.Errorf("cached pod: managedFields %v, nodeName %q; want none and n1", pod.ManagedFields, pod.Spec.NodeName)
	}
	node, err := nodes.Get("n1")
	if err != nil {
		t.Fatal(err)
	}
	if node.ManagedFields != nil {
		t.Errorf("cached node: managedFields %v, want none", node.ManagedFields)
	}
}
