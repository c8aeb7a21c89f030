package app

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/pki"
)

func TestControllersFlag(t *testing.T) {
	tests := []struct {
		flags   []string
		want    string
		wantErr bool
	}{
		{flags: []string{"*"}, want: "garbage-collector-controller,node-lifecycle-controller,taint-eviction-controller,pod-garbage-collector-controller,replicaset-controller,deployment-controller,namespace-controller"},
		{flags: []string{"*", "-garbage-collector-controller"}, want: "node-lifecycle-controller,taint-eviction-controller,pod-garbage-collector-controller,replicaset-controller,deployment-controller,namespace-controller"},
		{flags: []string{"*", "-podgc", "-nodelifecycle"}, want: "garbage-collector-controller,taint-eviction-controller,replicaset-controller,deployment-controller,namespace-controller"},
		{flags: []string{"*", "-namespace-controller"}, want: "garbage-collector-controller,node-lifecycle-controller,taint-eviction-controller,pod-garbage-collector-controller,replicaset-controller,deployment-controller"},
		{flags: []string{"garbagecollector"}, want: "garbage-collector-controller"},
		{flags: []string{"-garbagecollector"}, want: ""},
		{flags: []string{"*", "replicaset-typo"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.flags, ","), func(t *testing.T) {
			got, err := enabledControllers(tc.flags)
			if tc.wantErr {
				if err == nil {
					t.Fatal("an unknown controller name was accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, d := range got {
				names = append(names, d.name)
			}
			if s := strings.Join(names, ","); s != tc.want {
				t.Errorf("enabled %q, want %q", s, tc.want)
			}
		})
	}
}

func TestDefaultsAreUpstreamsWhereTheIssueSaysSo(t *testing.T) {
	o := NewOptions()
	fs := o.Flags()
	for name, want := range map[string]string{
		"node-monitor-grace-period":   "40s",
		"node-eviction-rate":          "0.1",
		"terminated-pod-gc-threshold": "12500",
		"concurrent-gc-syncs":         "20",
		"leader-elect":                "true",
		"secure-port":                 "10257",
	} {
		var found bool
		for _, f := range fs.FlagSets {
			if fl := f.Lookup(name); fl != nil {
				found = true
				if fl.DefValue != want {
					t.Errorf("--%s defaults to %s, want %s", name, fl.DefValue, want)
				}
			}
		}
		if !found {
			t.Errorf("no --%s flag", name)
		}
	}
	if errs := o.Validate(); len(errs) > 0 {
		t.Errorf("defaults do not validate: %v", errs)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil }); err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func testOptions() *Options {
	o := NewOptions()
	// The collector needs discovery and a metadata client, which the fake
	// clientset does not give; the integration tests run it.
	o.Controllers = []string{"*", "-garbage-collector-controller"}
	o.Serving.SecureServing.BindPort = 0 // off; the serving test turns it on
	o.LeaderElection.LeaseDuration = 2 * time.Second
	o.LeaderElection.RenewDeadline = time.Second
	o.LeaderElection.RetryPeriod = 100 * time.Millisecond
	return o
}

// httpsClient trusts any server certificate (the controller manager's is
// self-signed) and presents kp, if given.
func httpsClient(t *testing.T, kp *pki.KeyPair) *http.Client {
	t.Helper()
	cfg := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // a test against a self-signed server
	if kp != nil {
		cert, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}

func TestSecurePortServesHealthToAllAndMetricsToMasters(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	master, err := ca.ClientCert("admin", []string{"system:masters"})
	if err != nil {
		t.Fatal(err)
	}
	kubelet, err := ca.ClientCert("system:node:n1", []string{"system:nodes"})
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := pki.LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	impostor, err := otherCA.ClientCert("admin", []string{"system:masters"})
	if err != nil {
		t.Fatal(err)
	}

	client := fake.NewClientset()
	o := testOptions()
	o.LeaderElection.LeaderElect = false
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Serving.SecureServing.Listener = ln
	o.Serving.SecureServing.BindPort = ln.Addr().(*net.TCPAddr).Port
	o.Serving.Authentication.ClientCert.ClientCA = filepath.Join(dir, pki.CACertFile)
	addr := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, o, clients{client: client, leaderElect: client, kube: kubefake.NewClientset()}, clock.RealClock{}, addr)
	}()
	base := "https://" + <-addr

	tests := []struct {
		name string
		path string
		cert *pki.KeyPair
		want int
	}{
		{"anyone reads /healthz", "/healthz", nil, http.StatusOK},
		{"anyone reads /readyz", "/readyz", nil, http.StatusOK},
		{"anyone reads /livez", "/livez", nil, http.StatusOK},
		{"an anonymous client may not read /metrics", "/metrics", nil, http.StatusForbidden},
		{"a certificate from another CA is not accepted", "/metrics", impostor, http.StatusUnauthorized},
		{"a kubelet may not read /metrics", "/metrics", kubelet, http.StatusForbidden},
		{"a master reads /metrics", "/metrics", master, http.StatusOK},
		{"a master reads profiles", "/debug/pprof/", master, http.StatusOK},
		{"an anonymous client may not read profiles", "/debug/pprof/", nil, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := httpsClient(t, tc.cert).Get(base + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.want)
			}
		})
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("stopped with %v, want a clean exit", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop after its context was cancelled")
	}
}

func TestLosingTheLeaseExits(t *testing.T) {
	client := fake.NewClientset()
	o := testOptions()
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), o, clients{client: client, leaderElect: client, kube: kubefake.NewClientset()}, clock.RealClock{}, nil)
	}()

	leases := client.CoreV1alpha1().Leases("skiff-system")
	eventually(t, "the controller manager to lead", func() bool {
		l, err := leases.Get(context.Background(), "skiff-controller-manager", metav1.GetOptions{})
		return err == nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != ""
	})
	// Another replica takes the Lease (as after a long pause of this one):
	// it holds it, freshly renewed, for an hour.
	l, err := leases.Get(context.Background(), "skiff-controller-manager", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l.Spec.HolderIdentity = ptr.To("another-replica")
	l.Spec.LeaseDurationSeconds = ptr.To[int32](3600)
	l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
	if _, err := leases.Update(context.Background(), l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The fake tracker does not check resourceVersions; the API server
	// would refuse this replica's stale writes with a conflict.
	client.PrependReactor("update", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		l := a.(k8stesting.UpdateAction).GetObject().(*v1alpha1.Lease)
		if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "another-replica" {
			return true, nil, apierrors.NewConflict(v1alpha1.Resource("leases"), l.Name, errors.New("stale resourceVersion"))
		}
		return false, nil, nil
	})
	select {
	case err := <-done:
		if !errors.Is(err, ErrLeadershipLost) {
			t.Errorf("returned %v, want ErrLeadershipLost", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kept running after losing the Lease; it must exit, as kube-controller-manager does")
	}
}
