// Package aggregated proves skiff's aggregated mode without kind: a real
// kube-apiserver (k8s.io/kubernetes's test server, in-process, on embedded
// etcd) is the host; the objects of artifacts/kind are applied to it; an
// in-process `skiff-apiserver --delegated-auth` backs the APIService; and the
// real kubectl, a skiff-scheduler and a skiff-kubelet work through the host
// with service-account tokens, authorized by the manifests' RBAC.
//
// It is a module of its own so that the main module never depends on
// k8s.io/kubernetes. Run it with `make test-aggregated`.
package aggregated

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	logsapi "k8s.io/component-base/logs/api/v1"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggregatorclient "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
	kubeapiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kubeapiservertesting "k8s.io/kubernetes/cmd/kube-apiserver/app/testing"
	namespacecontroller "k8s.io/kubernetes/pkg/controller/namespace"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	apiserverapp "skiff.dev/skiff/pkg/apiserver/app"
	"skiff.dev/skiff/pkg/apiserver/etcd"
	"skiff.dev/skiff/pkg/apiserver/options"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	kubeletapp "skiff.dev/skiff/pkg/kubelet/app"
	"skiff.dev/skiff/pkg/pki"
	schedulerapp "skiff.dev/skiff/pkg/scheduler/app"
	scheduleroptions "skiff.dev/skiff/pkg/scheduler/options"
)

const (
	skiffSystem     = "skiff-system"
	apiServiceName  = "v1alpha1.core.skiff.dev"
	appsServiceName = "v1alpha1.apps.skiff.dev"
	waitTimeout     = 2 * time.Minute
	// Static tokens the host knows: alice has no rights on skiff, bob may
	// read skiff pods.
	aliceToken = "alice-token"
	bobToken   = "bob-token"
)

var kindDir = filepath.Join("..", "..", "artifacts", "kind")

// staticResolver sends the aggregator to skiff's loopback address: a
// Service's endpoints may not be loopback addresses, so upstream's own
// aggregation tests resolve this way too.
type staticResolver string

func (s staticResolver) ResolveEndpoint(_, _ string, _ int32) (*url.URL, error) {
	return url.Parse(string(s))
}

// host is the running kube-apiserver.
type host struct {
	admin  *rest.Config
	client kubernetes.Interface
	dir    string
}

func TestSkiffServesThroughTheHostAsAnAggregatedAPIServer(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatal("kubectl is not on PATH: this test drives the real kubectl through the host")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	skiffListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	skiffURL := "https://" + skiffListener.Addr().String()
	t.Cleanup(kubeapiserver.SetServiceResolverForTests(staticResolver(skiffURL)))

	manifests := readManifests(t)
	h := startHost(t)
	applyManifests(ctx, t, h, manifests)

	// skiff-apiserver with the Deployment's arguments (--delegated-auth),
	// its service account's token in place of in-cluster credentials, and
	// a data dir and port of this test's own.
	skiffDataDir := t.TempDir()
	skiffKubeconfig := h.kubeconfigFor(t, "skiff-apiserver", h.serviceAccountToken(ctx, t, "skiff-apiserver"))
	o := options.NewOptions()
	parseDeploymentArgs(t, manifests, "skiff-apiserver", o.Flags().FlagSets)
	if !o.DelegatedAuth {
		t.Fatal("the skiff-apiserver Deployment does not run with --delegated-auth")
	}
	o.DataDir = skiffDataDir
	o.SecureServing.Listener = skiffListener
	o.SecureServing.BindAddress = net.ParseIP("127.0.0.1")
	o.SecureServing.BindPort = skiffListener.Addr().(*net.TCPAddr).Port
	o.Authentication.RemoteKubeConfigFile = skiffKubeconfig
	o.Authorization.RemoteKubeConfigFile = skiffKubeconfig
	runInBackground(t, "skiff-apiserver", func(ctx context.Context) error { return apiserverapp.Run(ctx, o) })

	waitForAPIService(ctx, t, h)

	admin := h.kubeconfigFor(t, "admin", h.admin.BearerToken)
	run := func(kubeconfig string, stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if err != nil {
			err = fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, errOut.String())
		}
		return out.String(), err
	}
	mustRun := func(kubeconfig, stdin string, args ...string) string {
		t.Helper()
		out, err := run(kubeconfig, stdin, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	t.Run("kubectl creates, lists and deletes skiff pods through the host", func(t *testing.T) {
		mustRun(admin, podYAML("through-host"), "apply", "-f", "-")
		out := mustRun(admin, "", "get", "pods.core.skiff.dev", "-n", "default")
		if !strings.Contains(out, "through-host") || !strings.Contains(out, "READY") {
			t.Errorf("kubectl get pods.core.skiff.dev printed %q, want skiff's table with the pod", out)
		}
		// Unbound: no kubelet runs yet, so the delete needs none.
		mustRun(admin, "", "delete", "pods.core.skiff.dev", "through-host", "-n", "default", "--grace-period=0", "--force", "--wait=false")
		waitFor(ctx, t, "pod through-host deleted", func() (bool, error) {
			_, err := run(admin, "", "get", "pods.core.skiff.dev", "through-host", "-n", "default")
			return err != nil && strings.Contains(err.Error(), "NotFound"), nil
		})
	})

	t.Run("skiff serves its own priority classes beside the host's", func(t *testing.T) {
		out := mustRun(admin, "", "get", "priorityclasses.core.skiff.dev")
		for _, want := range []string{"GLOBAL-DEFAULT", "system-node-critical", "2000001000", "system-cluster-critical"} {
			if !strings.Contains(out, want) {
				t.Errorf("kubectl get priorityclasses.core.skiff.dev printed %q, want %q in it", out, want)
			}
		}
		// The host's scheduling.k8s.io group is untouched.
		mustRun(admin, "", "get", "priorityclasses.scheduling.k8s.io", "system-node-critical")

		pod := strings.Replace(podYAMLIn("critical", "default"), "spec:\n", "spec:\n  priorityClassName: system-node-critical\n", 1)
		mustRun(admin, pod, "create", "-f", "-")
		if out := mustRun(admin, "", "get", "pods.core.skiff.dev", "critical", "-n", "default", "-o", "jsonpath={.spec.priority}"); out != "2000001000" {
			t.Errorf("priority of a system-node-critical pod = %q, want 2000001000", out)
		}
		mustRun(admin, "", "delete", "pods.core.skiff.dev", "critical", "-n", "default", "--grace-period=0", "--force", "--wait=false")

		missing := strings.Replace(podYAMLIn("unclassed", "default"), "spec:\n", "spec:\n  priorityClassName: no-such-class\n", 1)
		_, err := run(admin, missing, "create", "-f", "-")
		if err == nil || !strings.Contains(err.Error(), `spec.priorityClassName: Not found: "no-such-class"`) {
			t.Errorf("creating a pod naming a missing class: %v, want 422 on spec.priorityClassName", err)
		}
	})

	t.Run("kubectl gets, scales and deletes skiff deployments through the host", func(t *testing.T) {
		mustRun(admin, deploymentYAML("web", "default"), "apply", "-f", "-")
		out := mustRun(admin, "", "get", "deployments.apps.skiff.dev", "-n", "default")
		if !strings.Contains(out, "web") || !strings.Contains(out, "UP-TO-DATE") {
			t.Errorf("kubectl get deployments.apps.skiff.dev printed %q, want skiff's table with web", out)
		}
		mustRun(admin, "", "scale", "deployments.apps.skiff.dev", "web", "-n", "default", "--replicas", "5")
		if out := mustRun(admin, "", "get", "sdeploy", "web", "-n", "default", "-o", "jsonpath={.spec.replicas}"); out != "5" {
			t.Errorf("replicas after kubectl scale through the host = %q, want 5", out)
		}
		mustRun(admin, "", "delete", "deployments.apps.skiff.dev", "web", "-n", "default")
	})

	t.Run("the manifests' roles let an editor scale skiff deployments", func(t *testing.T) {
		// The host here runs no controller manager to aggregate the roles
		// into edit, so bob is bound to skiff's role itself, in one namespace.
		grantBobAppsEditor(ctx, t, h, "team")
		mustRun(admin, deploymentYAML("api", "team"), "apply", "-f", "-")
		mustRun(admin, deploymentYAML("api", "default"), "apply", "-f", "-")
		bob := h.kubeconfigFor(t, "bob", bobToken)
		if _, err := run(bob, "", "scale", "deployments.apps.skiff.dev", "api", "-n", "team", "--replicas", "2"); err != nil {
			t.Errorf("bob scaling in team: %v", err)
		}
		if _, err := run(bob, "", "scale", "deployments.apps.skiff.dev", "api", "-n", "default", "--replicas", "2"); err == nil || !strings.Contains(err.Error(), "is forbidden") {
			t.Errorf("bob scaling in default: %v, want Forbidden", err)
		}
	})

	t.Run("users are authorized by the host's RBAC", func(t *testing.T) {
		grantBobPodReader(ctx, t, h)
		alice := h.kubeconfigFor(t, "alice", aliceToken)
		bob := h.kubeconfigFor(t, "bob", bobToken)
		tests := []struct {
			name       string
			kubeconfig string
			args       []string
			stdin      string
			wantErr    string
		}{
			{"alice, with no rights, may not list skiff pods", alice, []string{"get", "pods.core.skiff.dev", "-n", "default"}, "", "Forbidden"},
			{"bob may list skiff pods", bob, []string{"get", "pods.core.skiff.dev", "-n", "default"}, "", ""},
			{"bob may not create skiff pods", bob, []string{"create", "-f", "-"}, podYAML("bobs"), "Forbidden"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := run(tt.kubeconfig, tt.stdin, tt.args...)
				switch {
				case tt.wantErr == "" && err != nil:
					t.Fatalf("refused: %v", err)
				case tt.wantErr != "" && err == nil:
					t.Fatalf("allowed, want %s", tt.wantErr)
				case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
					t.Fatalf("error %v, want %s", err, tt.wantErr)
				}
			})
		}
	})

	t.Run("skiff itself asks the host who a caller is and what it may do", func(t *testing.T) {
		// Straight to skiff, past the host's own checks: only delegation
		// can tell alice from bob here.
		ca, err := os.ReadFile(filepath.Join(skiffDataDir, "pki", pki.CACertFile))
		if err != nil {
			t.Fatal(err)
		}
		direct := func(token string) clientset.Interface {
			cfg := &rest.Config{Host: skiffURL, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
			return clientset.NewForConfigOrDie(cfg)
		}
		tests := []struct {
			name  string
			token string
			want  func(error) bool
		}{
			{"bob's token is reviewed and his list allowed", bobToken, func(err error) bool { return err == nil }},
			{"alice's token is reviewed and her list forbidden", aliceToken, apierrors.IsForbidden},
			{"an unknown token is unauthorized", "no-such-token", apierrors.IsUnauthorized},
			{"no token is anonymous, and forbidden", "", apierrors.IsForbidden},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := direct(tt.token).CoreV1alpha1().Pods("default").List(ctx, metav1.ListOptions{})
				if !tt.want(err) {
					t.Fatalf("list pods straight from skiff: %v", err)
				}
			})
		}
	})

	t.Run("a skiff object in a host namespace that does not exist is refused", func(t *testing.T) {
		_, err := run(admin, podYAMLIn("lost", "nowhere"), "create", "-f", "-")
		if err == nil || !strings.Contains(err.Error(), `namespaces "nowhere" not found`) {
			t.Fatalf("creating a skiff pod in namespace nowhere: %v, want namespaces \"nowhere\" not found", err)
		}
	})

	t.Run("the host's namespace controller empties a deleted namespace of skiff objects", func(t *testing.T) {
		// Its metadata client offers protobuf first: skiff's groups must
		// answer in JSON rather than fail to encode (pkg/apiserver/serializer.go).
		// kube-controller-manager's namespace controller, as the host runs
		// it: it discovers skiff's groups through the aggregator.
		runNamespaceController(ctx, t, h)
		const ns = "doomed"
		if _, err := h.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// Admission looks a namespace its informer has not seen up live.
		mustRun(admin, podYAMLIn("victim", ns), "create", "-f", "-")
		mustRun(admin, deploymentYAML("victim", ns), "create", "-f", "-")
		mustRun(admin, "", "delete", "namespace", ns, "--wait=false")
		waitFor(ctx, t, "namespace "+ns+" gone", func() (bool, error) {
			_, err := h.client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		skiff := clientset.NewForConfigOrDie(h.admin)
		if _, err := skiff.CoreV1alpha1().Pods(ns).Get(ctx, "victim", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("skiff pod %s/victim after its namespace went: %v, want NotFound", ns, err)
		}
		if _, err := skiff.AppsV1alpha1().Deployments(ns).Get(ctx, "victim", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("skiff deployment %s/victim after its namespace went: %v, want NotFound", ns, err)
		}
	})

	t.Run("the scheduler and a kubelet do their jobs through the host as service accounts", func(t *testing.T) {
		so := scheduleroptions.NewOptions()
		parseDeploymentArgs(t, manifests, "skiff-scheduler", so.Flags().FlagSets)
		so.ClientConfig = h.configFor(h.serviceAccountToken(ctx, t, "skiff-scheduler"))
		so.Serving.SecureServing.BindPort = 0
		runInBackground(t, "skiff-scheduler", func(ctx context.Context) error { return schedulerapp.Run(ctx, so) })

		ko := kubeletapp.NewOptions()
		parseDeploymentArgs(t, manifests, "skiff-kubelet", ko.Flags().FlagSets)
		if ko.Runtime != kubeletapp.RuntimeFake || ko.SimulateNodes == 0 {
			t.Fatalf("the skiff-kubelet Deployment runs --runtime=%s --simulate-nodes=%d, want simulated nodes on the fake runtime", ko.Runtime, ko.SimulateNodes)
		}
		// The ClientConfig takes the place of --kubeconfig; nothing here
		// listens on the Deployment's fixed ports or writes to its paths.
		ko.ClientConfig = h.configFor(h.serviceAccountToken(ctx, t, "skiff-kubelet"))
		ko.NodeIP = "127.0.0.1"
		ko.HealthzPort = 0
		ko.Port = 0
		ko.RootDir = t.TempDir()
		nodes, nodePrefix := ko.SimulateNodes, ko.NodeName+"-"
		runInBackground(t, "skiff-kubelet", func(ctx context.Context) error { return kubeletapp.Run(ctx, ko) })

		waitFor(ctx, t, fmt.Sprintf("%d simulated nodes Ready", nodes), func() (bool, error) {
			out, err := run(admin, "", "get", "nodes.core.skiff.dev", "-o",
				`jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
			return err == nil && strings.Count(out, "True") == nodes, nil
		})

		mustRun(admin, podYAML("scheduled"), "apply", "-f", "-")
		waitFor(ctx, t, "pod scheduled bound and Running", func() (bool, error) {
			out, err := run(admin, "", "get", "pods.core.skiff.dev", "scheduled", "-n", "default", "-o", "jsonpath={.spec.nodeName} {.status.phase}")
			return err == nil && strings.HasPrefix(out, nodePrefix) && strings.HasSuffix(out, " Running"), nil
		})
		// A graceful delete completes only when the kubelet has stopped
		// the pod and removed it.
		mustRun(admin, "", "delete", "pods.core.skiff.dev", "scheduled", "-n", "default", "--timeout=2m")

		skiff := clientset.NewForConfigOrDie(h.admin)
		if _, err := skiff.CoreV1alpha1().Leases(skiffSystem).Get(ctx, "skiff-scheduler", metav1.GetOptions{}); err != nil {
			t.Errorf("the scheduler's leader Lease: %v", err)
		}
		leases, err := skiff.CoreV1alpha1().Leases("skiff-node-lease").List(ctx, metav1.ListOptions{})
		if err != nil || len(leases.Items) != nodes {
			t.Errorf("node Leases: %d, %v; want one per simulated node", len(leases.Items), err)
		}
	})
}

// startHost starts kube-apiserver on an embedded etcd, with RBAC and two
// static-token users.
func startHost(t *testing.T) *host {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := etcd.Start(dir, ca, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	storage := storagebackend.NewDefaultConfig("/kube-registry", nil)
	storage.Transport = storagebackend.TransportConfig{
		ServerList: []string{e.ClientURL}, TrustedCAFile: e.CAFile, CertFile: e.CertFile, KeyFile: e.KeyFile,
	}

	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(aliceToken+",alice,alice-uid\n"+bobToken+",bob,bob-uid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	server := kubeapiservertesting.StartTestServerOrDie(t,
		&kubeapiservertesting.TestServerInstanceOptions{EnableCertAuth: true, DisableInvariantChecks: true},
		[]string{"--authorization-mode=RBAC", "--token-auth-file=" + tokens},
		storage)
	t.Cleanup(server.TearDownFn)
	admin := rest.CopyConfig(server.ClientConfig)
	// kubectl and every other client here speak JSON.
	admin.ContentType, admin.AcceptContentTypes = "", ""
	return &host{admin: admin, client: kubernetes.NewForConfigOrDie(admin), dir: dir}
}

// configFor is a client of the host with token.
func (h *host) configFor(token string) *rest.Config {
	cfg := rest.AnonymousClientConfig(h.admin)
	cfg.BearerToken = token
	return cfg
}

// kubeconfigFor writes a kubeconfig for the host with token.
func (h *host) kubeconfigFor(t *testing.T, user, token string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["host"] = &clientcmdapi.Cluster{
		Server:                   h.admin.Host,
		CertificateAuthorityData: h.admin.CAData,
		TLSServerName:            h.admin.ServerName,
	}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["host"] = &clientcmdapi.Context{Cluster: "host", AuthInfo: user}
	cfg.CurrentContext = "host"
	path := filepath.Join(h.dir, user+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// serviceAccountToken asks the host for a token of skiff-system/name, as the
// kubelet mounts one into a pod.
func (h *host) serviceAccountToken(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	tr, err := h.client.CoreV1().ServiceAccounts(skiffSystem).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for service account %s: %v", name, err)
	}
	return tr.Status.Token
}

// applyManifests applies artifacts/kind to the host with strict field
// validation. Workloads are only validated (dry run): their processes run
// in this test instead. The Service is replaced by an ExternalName stand-in
// of the same name, as the aggregator reaches skiff through staticResolver.
func applyManifests(ctx context.Context, t *testing.T, h *host, manifests []*unstructured.Unstructured) {
	t.Helper()
	dyn := dynamic.NewForConfigOrDie(h.admin)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(h.client.Discovery()))
	for _, obj := range manifests {
		gvk := obj.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s %s: %v", gvk.Kind, obj.GetName(), err)
		}
		var ri dynamic.ResourceInterface = dyn.Resource(mapping.Resource)
		if ns := obj.GetNamespace(); ns != "" {
			ri = dyn.Resource(mapping.Resource).Namespace(ns)
		}
		opts := metav1.CreateOptions{FieldValidation: "Strict"}
		if gvk.Kind == "Deployment" || gvk.Kind == "Service" {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		if _, err := ri.Create(ctx, obj, opts); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("apply %s %s/%s: %v", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
		}
	}
	_, err := h.client.CoreV1().Services(skiffSystem).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "skiff-apiserver"},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: "skiff-apiserver.invalid",
			Ports:        []corev1.ServicePort{{Name: "https", Port: 443}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// readManifests reads every document of the files kustomization.yaml lists,
// in order.
func readManifests(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(kindDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := utilyaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	var objs []*unstructured.Unstructured
	for _, res := range k.Resources {
		f, err := os.Open(filepath.Join(kindDir, res))
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
		for {
			obj := &unstructured.Unstructured{}
			err := dec.Decode(&obj.Object)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", res, err)
			}
			if len(obj.Object) > 0 {
				objs = append(objs, obj)
			}
		}
		f.Close()
	}
	return objs
}

// parseDeploymentArgs parses the arguments of the named Deployment's
// container with a component's flags; -v and the other logging flags are
// accepted and ignored, as the test's process logs its own way.
func parseDeploymentArgs(t *testing.T, manifests []*unstructured.Unstructured, name string, flagSets map[string]*pflag.FlagSet) {
	t.Helper()
	var args []string
	found := false
	for _, obj := range manifests {
		if obj.GetKind() != "Deployment" || obj.GetName() != name {
			continue
		}
		containers, _, err := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
		if err != nil || len(containers) != 1 {
			t.Fatalf("Deployment %s: want one container (%v)", name, err)
		}
		args, _, err = unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
		if err != nil {
			t.Fatalf("Deployment %s args: %v", name, err)
		}
		found = true
	}
	if !found {
		t.Fatalf("no Deployment %s in %s", name, kindDir)
	}
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	for _, set := range flagSets {
		fs.AddFlagSet(set)
	}
	if fs.Lookup("v") == nil {
		logsapi.AddFlags(logsapi.NewLoggingConfiguration(), fs)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatalf("Deployment %s args %v: %v", name, args, err)
	}
}

// waitForAPIService waits until the host reports each of skiff's
// APIServices Available and serves its group in discovery.
func waitForAPIService(ctx context.Context, t *testing.T, h *host) {
	t.Helper()
	aggregator := aggregatorclient.NewForConfigOrDie(h.admin)
	for name, gv := range map[string]string{
		apiServiceName:  v1alpha1.SchemeGroupVersion.String(),
		appsServiceName: appsv1alpha1.SchemeGroupVersion.String(),
	} {
		waitFor(ctx, t, "APIService "+name+" Available", func() (bool, error) {
			as, err := aggregator.ApiregistrationV1().APIServices().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			if !slices.ContainsFunc(as.Status.Conditions, func(c apiregistrationv1.APIServiceCondition) bool {
				return c.Type == apiregistrationv1.Available && c.Status == apiregistrationv1.ConditionTrue
			}) {
				return false, nil
			}
			resources, err := h.client.Discovery().ServerResourcesForGroupVersion(gv)
			return err == nil && len(resources.APIResources) > 0, nil
		})
	}
}

// runNamespaceController runs upstream's namespace controller against the
// host until the test ends, with the discovery and metadata client
// kube-controller-manager gives it.
func runNamespaceController(ctx context.Context, t *testing.T, h *host) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cfg := rest.AddUserAgent(rest.CopyConfig(h.admin), "namespace-controller")
	client := kubernetes.NewForConfigOrDie(cfg)
	factory := informers.NewSharedInformerFactory(client, 0)
	nc := namespacecontroller.NewNamespaceController(ctx, client, metadata.NewForConfigOrDie(cfg),
		client.Discovery().ServerPreferredNamespacedResources, factory.Core().V1().Namespaces(),
		5*time.Minute, corev1.FinalizerKubernetes)
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { defer close(done); nc.Run(ctx, 2) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
}

// grantBobPodReader lets bob read skiff pods, and nothing else.
func grantBobPodReader(ctx context.Context, t *testing.T, h *host) {
	t.Helper()
	rbac := h.client.RbacV1()
	if _, err := rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "skiff-pod-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"core.skiff.dev"}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bob-skiff-pod-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "skiff-pod-reader"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "bob"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// grantBobAppsEditor binds bob to the manifests' skiff:apps:edit and
// skiff:apps:view roles in namespace ns, which it creates.
func grantBobAppsEditor(ctx context.Context, t *testing.T, h *host, ns string) {
	t.Helper()
	if _, err := h.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"skiff:apps:edit", "skiff:apps:view"} {
		if _, err := h.client.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "bob-" + strings.ReplaceAll(role, ":", "-")},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "bob"}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// runInBackground runs a component until the test ends, then stops it and
// waits for it to return. An early return fails the test.
func runInBackground(t *testing.T, name string, run func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(time.Minute):
			t.Errorf("%s did not stop within a minute", name)
		}
	})
	// Fail fast when the component cannot start at all.
	select {
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("%s exited at start: %v", name, err)
	case <-time.After(100 * time.Millisecond):
	}
}

func waitFor(ctx context.Context, t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, waitTimeout, true, func(context.Context) (bool, error) {
		return cond()
	})
	if err != nil {
		t.Fatalf("wait for %s: %v", what, err)
	}
}

func podYAML(name string) string { return podYAMLIn(name, "default") }

func podYAMLIn(name, namespace string) string {
	return fmt.Sprintf(`apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: %s
  namespace: %s
spec:
  containers:
  - name: main
    image: registry.example/app:1
    command: ["sleep", "3600"]
`, name, namespace)
}

func deploymentYAML(name, namespace string) string {
	return fmt.Sprintf(`apiVersion: apps.skiff.dev/v1alpha1
kind: Deployment
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  replicas: 1
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
      - name: main
        image: registry.example/app:1
        command: ["sleep", "3600"]
`, name, namespace)
}

func ptr[T any](v T) *T { return &v }
