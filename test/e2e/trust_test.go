package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/skiff/test/e2e/framework"
)

// TestKubectlAuthAndTheKubeletAPI: kubectl auth whoami, can-i and can-i
// --list work against skiff, and the kubelet's API trusts only the API
// server: a minted user, another node or the scheduler with certificates
// from the cluster CA get 403 from the kubelet, while pods/log through the
// API server still works.
func TestKubectlAuthAndTheKubeletAPI(t *testing.T) {
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	admin := framework.NewKubectl(t, server.Kubeconfig)
	mallory := framework.NewKubectl(t, framework.Kubeconfig(t, server, "mallory"))

	t.Run("kubectl auth whoami", func(t *testing.T) {
		out := admin.MustRun(t, "", "auth", "whoami")
		if !regexp.MustCompile(`Username\s+skiff-admin`).MatchString(out) || !strings.Contains(out, "system:masters") {
			t.Errorf("admin's whoami:\n%s", out)
		}
		out = mallory.MustRun(t, "", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if out != "mallory" {
			t.Errorf("mallory's whoami = %q", out)
		}
	})

	t.Run("kubectl auth can-i", func(t *testing.T) {
		if out := strings.TrimSpace(admin.MustRun(t, "", "auth", "can-i", "create", "pods.core.skiff.dev")); out != "yes" {
			t.Errorf("admin can-i create pods = %q, want yes", out)
		}
		out, _, err := mallory.Run("", "auth", "can-i", "create", "pods.core.skiff.dev")
		if strings.TrimSpace(out) != "no" || err == nil {
			t.Errorf("mallory can-i create pods = %q (%v), want no and exit code 1", out, err)
		}
		out, _, _ = mallory.Run("", "auth", "can-i", "get", "nodes", "--subresource=proxy")
		if strings.TrimSpace(out) != "no" {
			t.Errorf("mallory can-i get nodes/proxy = %q, want no", out)
		}
	})

	t.Run("kubectl auth can-i --list", func(t *testing.T) {
		out := mallory.MustRun(t, "", "auth", "can-i", "--list")
		t.Logf("kubectl auth can-i --list as mallory:\n%s", out)
		if !strings.Contains(out, "selfsubjectaccessreviews.authorization.k8s.io") || strings.Contains(out, "pods") {
			t.Errorf("mallory's rules:\n%s", out)
		}
		out = admin.MustRun(t, "", "auth", "can-i", "--list")
		if !regexp.MustCompile(`(?m)^\*\.\*\s`).MatchString(out) {
			t.Errorf("admin's rules do not say everything:\n%s", out)
		}
	})

	framework.StartScheduler(t, server, "--leader-elect=false")
	kubelet := framework.StartKubelet(t, server, framework.KubeletOptions{NodeName: "n1", Runtime: "process", Serve: true})
	admin.MustRun(t, processPod("web", "Always", "echo the secret of web; exec sleep 3600", fmt.Sprintf("skiff-e2e-trust-%d", time.Now().UnixNano())), "apply", "-f", "-")
	admin.MustRun(t, "", "wait", "--for=condition=Ready", "pod/web", "--timeout=60s")

	t.Run("pods/log through the API server", func(t *testing.T) {
		framework.WaitFor(t, 30*time.Second, "web's log", func() (bool, error) {
			out, _, err := admin.Run("", "get", "--raw", "/apis/core.skiff.dev/v1alpha1/namespaces/default/pods/web/log")
			return err == nil && out == "the secret of web\n", nil
		})
		if _, errOut, err := mallory.Run("", "get", "--raw", "/apis/core.skiff.dev/v1alpha1/namespaces/default/pods/web/log"); err == nil || !strings.Contains(errOut, "Forbidden") {
			t.Errorf("mallory read pods/log through the API server: %v %s", err, errOut)
		}
	})

	t.Run("the kubelet refuses every other identity from the cluster CA", func(t *testing.T) {
		logs := fmt.Sprintf("https://127.0.0.1:%d/containerLogs/default/web/main", kubelet.Port)
		for _, id := range []struct {
			name       string
			kubeconfig string
		}{
			{"mallory (skiff kubeconfig --user mallory)", mallory.Kubeconfig},
			{"another node", framework.Kubeconfig(t, server, "system:node:n2", "system:nodes")},
			{"the node itself", kubelet.Kubeconfig},
			{"the scheduler", framework.Kubeconfig(t, server, "system:kube-scheduler")},
		} {
			code, body := getWithKubeconfigCert(t, id.kubeconfig, server.CAFile(), logs)
			if code != http.StatusForbidden || strings.Contains(body, "secret") {
				t.Errorf("%s: GET the kubelet's containerLogs = %d %q, want 403", id.name, code, body)
			}
		}
	})
}

// getWithKubeconfigCert GETs url with the client certificate of a
// kubeconfig, trusting only the cluster CA for the server's certificate.
func getWithKubeconfigCert(t *testing.T, kubeconfig, caFile, url string) (int, string) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(cfg.TLSClientConfig.CertData, cfg.TLSClientConfig.KeyData)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("no certificate in %s", caFile)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
