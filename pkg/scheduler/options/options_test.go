package options

import (
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
)

func TestDefaultsAreValid(t *testing.T) {
	if errs := NewOptions().Validate(); len(errs) > 0 {
		t.Fatalf("defaults invalid: %v", errs)
	}
}

// TestSecureByDefault: the endpoints are served as kube-scheduler serves
// them, on the secure port with the health paths and system:masters always
// allowed, and there is no plain-HTTP flag left to serve them on.
func TestSecureByDefault(t *testing.T) {
	o := NewOptions()
	if o.Serving.SecureServing.BindPort != 10259 {
		t.Errorf("--secure-port defaults to %d, want 10259", o.Serving.SecureServing.BindPort)
	}
	if got := o.Serving.Authorization.AlwaysAllowPaths; !slices.Equal(got, []string{"/healthz", "/readyz", "/livez"}) {
		t.Errorf("always-allowed paths = %v", got)
	}
	if got := o.Serving.Authorization.AlwaysAllowGroups; !slices.Equal(got, []string{"system:masters"}) {
		t.Errorf("always-allowed groups = %v", got)
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	for _, gone := range []string{"metrics-bind-address", "port", "address"} {
		if fs.Lookup(gone) != nil {
			t.Errorf("flag --%s still exists", gone)
		}
	}
	for _, want := range []string{"secure-port", "bind-address", "client-ca-file", "authentication-kubeconfig", "authorization-kubeconfig", "authorization-always-allow-paths", "profiling"} {
		if fs.Lookup(want) == nil {
			t.Errorf("flag --%s is missing", want)
		}
	}
}

// TestServingDelegatesToKubeconfig: without their own kubeconfigs the
// authenticator and authorizer ask the API server --kubeconfig names.
func TestServingDelegatesToKubeconfig(t *testing.T) {
	o := NewOptions()
	o.Serving.SecureServing.BindPort = 0
	if s, err := o.Serving.Config(o.Kubeconfig); err != nil || s != nil {
		t.Fatalf("Serving with --secure-port=0 = %v, %v; want nothing served", s, err)
	}
	o = NewOptions()
	o.Serving.SecureServing.BindAddress = net.ParseIP("127.0.0.1")
	o.Serving.SecureServing.BindPort = 0
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Serving.SecureServing.Listener = ln
	o.Kubeconfig = filepath.Join(t.TempDir(), "missing.kubeconfig")
	_, err = o.Serving.Config(o.Kubeconfig)
	if err == nil || !strings.Contains(err.Error(), "missing.kubeconfig") {
		t.Errorf("Serving with an unreadable --kubeconfig = %v, want an error naming it", err)
	}
}

func TestFlags(t *testing.T) {
	o := NewOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	err := fs.Parse([]string{
		"--kubeconfig=/k", "--scheduler-name=batch", "--parallelism=4", "--percentage-of-nodes-to-score=30",
		"--kube-api-qps=100", "--kube-api-burst=200", "--leader-elect=false",
		"--leader-elect-lease-duration=30s", "--leader-elect-resource-namespace=ns",
		"--bind-address=127.0.0.1", "--secure-port=12345", "--client-ca-file=/ca.crt", "--authorization-kubeconfig=/authz", "--profiling=false",
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.Kubeconfig != "/k" || o.SchedulerName != "batch" || o.Parallelism != 4 || o.PercentageOfNodesToScore != 30 ||
		o.KubeAPIQPS != 100 || o.KubeAPIBurst != 200 || o.LeaderElection.LeaderElect ||
		o.LeaderElection.LeaseDuration != 30*time.Second || o.LeaderElection.ResourceNamespace != "ns" ||
		o.Serving.SecureServing.BindAddress.String() != "127.0.0.1" || o.Serving.SecureServing.BindPort != 12345 ||
		o.Serving.Authentication.ClientCert.ClientCA != "/ca.crt" || o.Serving.Authorization.RemoteKubeConfigFile != "/authz" || o.Serving.EnableProfiling {
		t.Errorf("flags not applied: %+v", o)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(o *Options)
		want   string
	}{
		{"no parallelism", func(o *Options) { o.Parallelism = 0 }, "--parallelism"},
		{"percentage over 100", func(o *Options) { o.PercentageOfNodesToScore = 101 }, "--percentage-of-nodes-to-score"},
		{"empty scheduler name", func(o *Options) { o.SchedulerName = "" }, "--scheduler-name"},
		{"lease shorter than renew deadline", func(o *Options) { o.LeaderElection.LeaseDuration = 5 * time.Second }, "--leader-elect-lease-duration"},
		{"retry period too close to renew deadline", func(o *Options) { o.LeaderElection.RetryPeriod = 9 * time.Second }, "--leader-elect-retry-period"},
		{"negative qps", func(o *Options) { o.KubeAPIQPS = -1 }, "--kube-api-qps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOptions()
			tt.change(o)
			errs := o.Validate()
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want) {
				t.Errorf("errors = %v, want one naming %s", errs, tt.want)
			}
		})
	}
	t.Run("leader election settings ignored when it is off", func(t *testing.T) {
		o := NewOptions()
		o.LeaderElection.LeaderElect = false
		o.LeaderElection.LeaseDuration = time.Second
		if errs := o.Validate(); len(errs) != 0 {
			t.Errorf("errors = %v, want none", errs)
		}
	})
}

func TestRESTConfig(t *testing.T) {
	o := NewOptions()
	o.ClientConfig = &rest.Config{Host: "https://in-process:6443", QPS: 1}
	o.KubeAPIQPS, o.KubeAPIBurst = 300, 600
	cfg, err := o.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://in-process:6443" || cfg.QPS != 300 || cfg.Burst != 600 {
		t.Errorf("config = host %s qps %v burst %d", cfg.Host, cfg.QPS, cfg.Burst)
	}
	if o.ClientConfig.QPS != 1 {
		t.Error("the caller's ClientConfig was changed")
	}
}
