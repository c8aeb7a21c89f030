package pki

import (
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

func TestKubeconfigDisablesCompressionOnLoopback(t *testing.T) {
	ca, err := LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		server string
		want   bool
	}{
		{"https://127.0.0.1:6443", true},
		{"https://localhost:6443", true},
		{"https://[::1]:6443", true},
		{"https://10.0.0.5:6443", false},
		{"https://skiff.example.com:6443", false},
	} {
		data, err := ca.Kubeconfig(tc.server, "someone", nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
		if err != nil {
			t.Fatalf("%s: %v", tc.server, err)
		}
		if cfg.DisableCompression != tc.want {
			t.Errorf("%s: the client's DisableCompression is %v, want %v", tc.server, cfg.DisableCompression, tc.want)
		}
		if cfg.Host != tc.server {
			t.Errorf("host %q, want %q", cfg.Host, tc.server)
		}
	}
}
