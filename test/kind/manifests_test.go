// Package kind checks the manifests in artifacts/kind that run skiff inside a
// kind cluster as an aggregated API server: every document decodes strictly
// into the API type of its kind, and the pieces fit together (the APIService
// reaches the API server, each workload runs as its own service account with
// flags its binary accepts, and RBAC grants each component its job). It also
// checks that the API server's delegated mode wires up against a fake host.
// No cluster is needed.
package kind

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"

	apiserverapp "skiff.dev/skiff/pkg/apiserver/app"
	kubeletapp "skiff.dev/skiff/pkg/kubelet/app"
	schedulerapp "skiff.dev/skiff/pkg/scheduler/app"
)

var (
	repoRoot = filepath.Join("..", "..")
	kindDir  = filepath.Join(repoRoot, "artifacts", "kind")
)

const (
	skiffSystem    = "skiff-system"
	apiServiceName = "v1alpha1.core.skiff.dev"
	skiffGroup     = "core.skiff.dev"
	appsService    = "v1alpha1.apps.skiff.dev"
	appsGroup      = "apps.skiff.dev"
	image          = "skiff:dev"
	// Where a pod finds its service account's credentials.
	saDir = "/var/run/secrets/kubernetes.io/serviceaccount"
)

var (
	apiserverSA = Key{skiffSystem, "skiff-apiserver"}
	schedulerSA = Key{skiffSystem, "skiff-scheduler"}
	kubeletSA   = Key{skiffSystem, "skiff-kubelet"}
)

// commands builds each binary's real command line, to parse the manifests'
// arguments with the flags the binary defines.
var commands = map[string]func() *cobra.Command{
	"skiff-apiserver": apiserverapp.NewCommand,
	"skiff-scheduler": schedulerapp.NewSchedulerCommand,
	"skiff-kubelet":   kubeletapp.NewKubeletCommand,
}

func load(t *testing.T) (*Kustomization, *Manifests) {
	t.Helper()
	k, m, err := LoadKustomization(kindDir)
	if err != nil {
		t.Fatalf("load %s: %v", kindDir, err)
	}
	return k, m
}

func TestEveryManifestDecodesStrictlyAndIsInTheKustomization(t *testing.T) {
	k, m := load(t)

	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml is %s %s, want kustomize.config.k8s.io/v1beta1 Kustomization", k.APIVersion, k.Kind)
	}
	for _, l := range k.Labels {
		if l.IncludeSelectors {
			t.Errorf("kustomization labels %v include selectors: a Deployment's selector cannot change after it is created", l.Pairs)
		}
	}
	files, err := filepath.Glob(filepath.Join(kindDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk []string
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" {
			onDisk = append(onDisk, base)
		}
	}
	listed := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(onDisk, listed) {
		t.Errorf("kustomization resources %v, files in %s %v: each manifest must be applied", listed, kindDir, onDisk)
	}

	// What the deployment needs, by kind and name.
	want := []struct {
		kind    string
		present bool
	}{
		{"Namespace skiff-system", m.Namespaces[skiffSystem] != nil},
		{"ServiceAccount skiff-apiserver", m.ServiceAccounts[apiserverSA] != nil},
		{"ServiceAccount skiff-scheduler", m.ServiceAccounts[schedulerSA] != nil},
		{"ServiceAccount skiff-kubelet", m.ServiceAccounts[kubeletSA] != nil},
		{"Deployment skiff-apiserver", m.Deployments[Key{skiffSystem, "skiff-apiserver"}] != nil},
		{"Deployment skiff-scheduler", m.Deployments[Key{skiffSystem, "skiff-scheduler"}] != nil},
		{"Deployment skiff-kubelet", m.Deployments[Key{skiffSystem, "skiff-kubelet"}] != nil},
		{"Service skiff-apiserver", m.Services[Key{skiffSystem, "skiff-apiserver"}] != nil},
		{"APIService " + apiServiceName, m.APIServices[apiServiceName] != nil},
		{"APIService " + appsService, m.APIServices[appsService] != nil},
	}
	for _, w := range want {
		if !w.present {
			t.Errorf("%s is missing", w.kind)
		}
	}
}

func TestStrictDecodingRejectsMistakes(t *testing.T) {
	const sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  namespace: skiff-system\n"
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{name: "a valid object", doc: sa},
		{name: "a document of comments only is skipped", doc: "# nothing here\n---\n" + sa},
		{
			name:    "a misspelt field of a Deployment",
			doc:     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replica: 1\n",
			wantErr: `unknown field "spec.replica"`,
		},
		{
			name:    "a field apiregistration/v1 APIService does not have",
			doc:     "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: v1.x\nspec:\n  insecureSkipTlsVerify: true\n",
			wantErr: `unknown field "spec.insecureSkipTlsVerify"`,
		},
		{
			name:    "an APIService status in a manifest",
			doc:     "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: v1.x\nstatus: {}\n",
			wantErr: `unknown field "status"`,
		},
		{
			name:    "a field given twice",
			doc:     "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  name: b\n",
			wantErr: `"name" already set`,
		},
		{
			name:    "a kind with no known type",
			doc:     "apiVersion: apps/v1\nkind: DaemonSett\nmetadata:\n  name: d\n",
			wantErr: "no type known",
		},
		{name: "the same object twice", doc: sa + "---\n" + sa, wantErr: "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newManifests().Add(strings.NewReader(tt.doc))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("decode: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("decode succeeded, want an error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("decode error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestAPIServiceRoutesTheSkiffGroupToTheDelegatingAPIServer(t *testing.T) {
	_, m := load(t)
	// One APIService for each group version skiff serves, and none more.
	services := map[string]string{apiServiceName: skiffGroup, appsService: appsGroup}
	if len(m.APIServices) != len(services) {
		t.Errorf("%d APIServices, want %d, one for each group version skiff serves", len(m.APIServices), len(services))
	}
	for name, group := range services {
		t.Run(name, func(t *testing.T) { checkAPIService(t, m, name, group) })
	}
}

func checkAPIService(t *testing.T, m *Manifests, name, group string) {
	as := m.APIServices[name]
	if as == nil {
		t.Fatalf("APIService %s is missing", name)
	}
	spec := as.Spec
	if spec.Group != group || spec.Version != "v1alpha1" || as.Name != spec.Version+"."+spec.Group {
		t.Errorf("APIService %s names group %q version %q, want %s v1alpha1 named version.group", as.Name, spec.Group, spec.Version, group)
	}
	// The ranges apiregistration's validation enforces.
	if spec.GroupPriorityMinimum < 1 || spec.GroupPriorityMinimum > 20000 {
		t.Errorf("groupPriorityMinimum %d, want 1 to 20000", spec.GroupPriorityMinimum)
	}
	if spec.VersionPriority < 1 || spec.VersionPriority > 1000 {
		t.Errorf("versionPriority %d, want 1 to 1000", spec.VersionPriority)
	}
	if spec.InsecureSkipTLSVerify == (len(spec.CABundle) > 0) {
		t.Errorf("insecureSkipTLSVerify %v with a caBundle of %d bytes: want exactly one of them", spec.InsecureSkipTLSVerify, len(spec.CABundle))
	}
	if spec.Service == nil {
		t.Fatal("the APIService has no service: it would be served locally, and skiff is not built in")
	}

	svc := m.Services[Key{spec.Service.Namespace, spec.Service.Name}]
	if svc == nil {
		t.Fatalf("the APIService points at Service %s/%s, which the manifests do not define", spec.Service.Namespace, spec.Service.Name)
	}
	port := int32(443) // the aggregator's default
	if spec.Service.Port != nil {
		port = *spec.Service.Port
	}
	var svcPort *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			svcPort = &svc.Spec.Ports[i]
		}
	}
	if svcPort == nil {
		t.Fatalf("Service %s has no port %d, the APIService's", svc.Name, port)
	}

	// The Service must select the API server's pods, and its target port
	// must be the port the API server serves on.
	var selected []*appsv1.Deployment
	for _, d := range m.Deployments {
		if d.Namespace == svc.Namespace && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
			selected = append(selected, d)
		}
	}
	if len(selected) != 1 || selected[0].Name != "skiff-apiserver" {
		t.Fatalf("Service %s selects %d Deployments, want skiff-apiserver alone", svc.Name, len(selected))
	}
	c := container(t, selected[0], "skiff-apiserver")
	containerPort := resolvePort(c, svcPort.TargetPort)
	if containerPort == 0 {
		t.Fatalf("Service target port %s is not a port of the API server container", svcPort.TargetPort.String())
	}
	flags := parseArgs(t, c)
	if got := flags["secure-port"]; got != itoa(containerPort) {
		t.Errorf("--secure-port %s, want %d, the port the Service targets", got, containerPort)
	}
	if flags["delegated-auth"] != "true" {
		t.Errorf("skiff-apiserver args %v lack --delegated-auth: the host's users would not be recognised", c.Args)
	}

	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/livez"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("API server has no HTTP %s probe", p.name)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || g.Scheme != corev1.URISchemeHTTPS || resolvePort(c, g.Port) != containerPort {
			t.Errorf("%s probe %s %s on port %s, want HTTPS %s on %d", p.name, g.Scheme, g.Path, g.Port.String(), p.path, containerPort)
		}
	}
}

func TestWorkloadsRunTheImageAsTheirOwnServiceAccounts(t *testing.T) {
	_, m := load(t)
	tests := []struct {
		deployment string
		sa         Key
		binary     string
	}{
		{"skiff-apiserver", apiserverSA, "skiff-apiserver"},
		{"skiff-scheduler", schedulerSA, "skiff-scheduler"},
		{"skiff-kubelet", kubeletSA, "skiff-kubelet"},
	}
	if len(m.Deployments) != len(tests) {
		t.Errorf("%d Deployments, want %d", len(m.Deployments), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.deployment, func(t *testing.T) {
			d := deployment(t, m, tt.deployment)
			spec := d.Spec.Template.Spec
			if spec.ServiceAccountName != tt.sa.Name {
				t.Errorf("runs as service account %q, want %q", spec.ServiceAccountName, tt.sa.Name)
			}
			if m.ServiceAccounts[Key{d.Namespace, spec.ServiceAccountName}] == nil {
				t.Errorf("service account %s/%s is not defined", d.Namespace, spec.ServiceAccountName)
			}
			if spec.AutomountServiceAccountToken != nil && !*spec.AutomountServiceAccountToken {
				t.Error("the service account token is not mounted: the component has no in-cluster credentials")
			}
			if d.Spec.Selector == nil || !labels.SelectorFromSet(d.Spec.Selector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels)) || len(d.Spec.Selector.MatchExpressions) > 0 {
				t.Errorf("selector %v does not select the pod template's labels %v", d.Spec.Selector, d.Spec.Template.Labels)
			}
			c := container(t, d, tt.binary)
			if c.Image != image || c.ImagePullPolicy != corev1.PullIfNotPresent {
				t.Errorf("image %s pull policy %s, want %s %s (kind load puts it on the node; no registry serves it)", c.Image, c.ImagePullPolicy, image, corev1.PullIfNotPresent)
			}
			if _, err := os.Stat(filepath.Join(repoRoot, "cmd", tt.binary)); err != nil {
				t.Errorf("the image holds the binaries of cmd/, and cmd/%s does not exist: %v", tt.binary, err)
			}
			for _, vm := range c.VolumeMounts {
				if !slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name }) {
					t.Errorf("volume mount %s names no volume of the pod", vm.Name)
				}
			}
		})
	}
}

func TestContainerArgsAreFlagsTheBinariesAccept(t *testing.T) {
	_, m := load(t)
	tests := []struct {
		deployment string
		want       map[string]string // flag → value after parsing
	}{
		{"skiff-apiserver", map[string]string{"delegated-auth": "true", "secure-port": "8443", "data-dir": "/var/lib/skiff"}},
		// No --kubeconfig: the scheduler falls back to in-cluster config.
		{"skiff-scheduler", map[string]string{"kubeconfig": "", "leader-elect": "true", "leader-elect-resource-namespace": skiffSystem}},
		{"skiff-kubelet", map[string]string{"runtime": "fake", "simulate-nodes": "10"}},
	}
	for _, tt := range tests {
		t.Run(tt.deployment, func(t *testing.T) {
			d := deployment(t, m, tt.deployment)
			c := container(t, d, tt.deployment)
			got := parseArgs(t, c)
			for flag, want := range tt.want {
				if got[flag] != want {
					t.Errorf("--%s is %q, want %q", flag, got[flag], want)
				}
			}
			if dir := got["data-dir"]; dir != "" && !mounted(c, dir) {
				t.Errorf("--data-dir %s is not on a volume: the root filesystem is read-only", dir)
			}
		})
	}

	t.Run("a misspelt flag is refused", func(t *testing.T) {
		cmd := apiserverapp.NewCommand()
		if err := cmd.ParseFlags([]string{"--delegated-authz"}); err == nil {
			t.Fatal("skiff-apiserver accepted --delegated-authz")
		}
	})
}

func TestKubeletReachesTheHostWithItsServiceAccount(t *testing.T) {
	_, m := load(t)
	d := deployment(t, m, "skiff-kubelet")
	c := container(t, d, "skiff-kubelet")
	kubeconfigPath := parseArgs(t, c)["kubeconfig"]
	if kubeconfigPath == "" {
		t.Fatal("skiff-kubelet has no --kubeconfig, which it requires")
	}

	// The kubeconfig file comes from a ConfigMap volume mounted at its directory.
	var cm *corev1.ConfigMap
	for _, vm := range c.VolumeMounts {
		if vm.MountPath != path.Dir(kubeconfigPath) {
			continue
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name == vm.Name && v.ConfigMap != nil {
				cm = m.ConfigMaps[Key{d.Namespace, v.ConfigMap.Name}]
			}
		}
	}
	if cm == nil {
		t.Fatalf("--kubeconfig %s is not on a volume from a ConfigMap of the manifests", kubeconfigPath)
	}
	data, ok := cm.Data[path.Base(kubeconfigPath)]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %s", cm.Name, path.Base(kubeconfigPath))
	}

	var kc clientcmdv1.Config
	if err := DecodeStrict([]byte(data), &kc); err != nil {
		t.Fatalf("kubeconfig does not decode strictly: %v", err)
	}
	cfg, err := clientcmd.Load([]byte(data))
	if err != nil {
		t.Fatalf("client-go cannot load the kubeconfig: %v", err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil {
		t.Fatalf("current context %q is not defined", cfg.CurrentContext)
	}
	cluster, user := cfg.Clusters[ctx.Cluster], cfg.AuthInfos[ctx.AuthInfo]
	if cluster == nil || user == nil {
		t.Fatalf("context %q names cluster %q and user %q, not both defined", cfg.CurrentContext, ctx.Cluster, ctx.AuthInfo)
	}
	if cluster.Server != "https://kubernetes.default.svc" {
		t.Errorf("server %s, want the host API server's in-cluster address https://kubernetes.default.svc", cluster.Server)
	}
	if cluster.CertificateAuthority != saDir+"/ca.crt" {
		t.Errorf("certificate-authority %s, want the service account's %s/ca.crt", cluster.CertificateAuthority, saDir)
	}
	if user.TokenFile != saDir+"/token" || user.Token != "" || user.ClientCertificate != "" {
		t.Errorf("user authenticates with tokenFile %q (token set: %v, client certificate %q), want only the service account's rotating %s/token",
			user.TokenFile, user.Token != "", user.ClientCertificate, saDir)
	}
}

func TestRBACGivesEachComponentItsJobAndNoMore(t *testing.T) {
	_, m := load(t)
	tests := []struct {
		name string
		sa   Key
		req  Request
		want bool
	}{
		{"scheduler watches pods", schedulerSA, Request{"watch", skiffGroup, "pods", ""}, true},
		{"scheduler lists nodes", schedulerSA, Request{"list", skiffGroup, "nodes", ""}, true},
		{"scheduler binds a pod", schedulerSA, Request{"create", skiffGroup, "pods/binding", "default"}, true},
		{"scheduler records why a pod is unschedulable", schedulerSA, Request{"patch", skiffGroup, "pods/status", "default"}, true},
		{"scheduler writes core/v1 events", schedulerSA, Request{"create", "", "events", "default"}, true},
		{"scheduler writes no events in skiff's group", schedulerSA, Request{"create", skiffGroup, "events", "default"}, false},
		{"scheduler updates its leader lease", schedulerSA, Request{"update", skiffGroup, "leases", skiffSystem}, true},
		{"scheduler may not touch node leases", schedulerSA, Request{"update", skiffGroup, "leases", "skiff-node-lease"}, false},
		{"scheduler may not create pods", schedulerSA, Request{"create", skiffGroup, "pods", "default"}, false},
		{"scheduler deletes preemption victims", schedulerSA, Request{"delete", skiffGroup, "pods", "default"}, true},
		{"scheduler nominates a node for a preemptor", schedulerSA, Request{"patch", skiffGroup, "pods/status", "default"}, true},
		{"scheduler watches priority classes", schedulerSA, Request{"watch", skiffGroup, "priorityclasses", ""}, true},
		{"scheduler may not create priority classes", schedulerSA, Request{"create", skiffGroup, "priorityclasses", ""}, false},
		{"scheduler may not delete nodes", schedulerSA, Request{"delete", skiffGroup, "nodes", ""}, false},
		{"scheduler watches the host's namespaces for namespaceSelector", schedulerSA, Request{"watch", "", "namespaces", ""}, true},
		{"scheduler may not delete the host's namespaces", schedulerSA, Request{"delete", "", "namespaces", ""}, false},
		{"scheduler may not change nodes", schedulerSA, Request{"update", skiffGroup, "nodes", ""}, false},
		{"scheduler may not bind the host's own pods", schedulerSA, Request{"create", "", "pods/binding", "default"}, false},

		{"kubelet registers a node", kubeletSA, Request{"create", skiffGroup, "nodes", ""}, true},
		{"kubelet patches its node", kubeletSA, Request{"patch", skiffGroup, "nodes", ""}, true},
		{"kubelet reports node status", kubeletSA, Request{"patch", skiffGroup, "nodes/status", ""}, true},
		{"kubelet watches pods", kubeletSA, Request{"watch", skiffGroup, "pods", ""}, true},
		{"kubelet reports pod status", kubeletSA, Request{"patch", skiffGroup, "pods/status", "default"}, true},
		{"kubelet finishes a graceful delete", kubeletSA, Request{"delete", skiffGroup, "pods", "default"}, true},
		{"kubelet creates its node lease", kubeletSA, Request{"create", skiffGroup, "leases", "skiff-node-lease"}, true},
		{"kubelet renews its node lease", kubeletSA, Request{"update", skiffGroup, "leases", "skiff-node-lease"}, true},
		{"kubelet writes core/v1 events", kubeletSA, Request{"patch", "", "events", "default"}, true},
		{"kubelet may not take the scheduler's lease", kubeletSA, Request{"update", skiffGroup, "leases", skiffSystem}, false},
		{"kubelet may not bind pods", kubeletSA, Request{"create", skiffGroup, "pods/binding", "default"}, false},
		{"kubelet may not create pods", kubeletSA, Request{"create", skiffGroup, "pods", "default"}, false},
		{"kubelet may not delete nodes", kubeletSA, Request{"delete", skiffGroup, "nodes", ""}, false},
		{"kubelet may not touch the host's nodes", kubeletSA, Request{"patch", "", "nodes/status", ""}, false},

		{"API server is not granted skiff resources", apiserverSA, Request{"list", skiffGroup, "pods", ""}, false},
		{"API server watches the host's namespaces for NamespaceLifecycle", apiserverSA, Request{"watch", "", "namespaces", ""}, true},
		{"API server looks up a host namespace it has not seen yet", apiserverSA, Request{"get", "", "namespaces", ""}, true},
		{"API server may not delete the host's namespaces", apiserverSA, Request{"delete", "", "namespaces", ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Allowed(tt.sa, tt.req); got != tt.want {
				t.Errorf("%s %+v allowed = %v, want %v", tt.sa, tt.req, got, tt.want)
			}
		})
	}
}

func TestAPIServerMayAskTheHostWhoCallersAreAndWhatTheyMayDo(t *testing.T) {
	_, m := load(t)
	var delegator, reader bool
	for _, b := range m.ClusterRoleBindings {
		if b.RoleRef.Kind == "ClusterRole" && b.RoleRef.Name == "system:auth-delegator" && bindsServiceAccount(b.Subjects, apiserverSA) {
			delegator = true
		}
	}
	for k, b := range m.RoleBindings {
		if k.Namespace == "kube-system" && b.RoleRef.Kind == "Role" && b.RoleRef.Name == "extension-apiserver-authentication-reader" && bindsServiceAccount(b.Subjects, apiserverSA) {
			reader = true
		}
	}
	if !delegator {
		t.Error("no ClusterRoleBinding gives skiff-apiserver system:auth-delegator: its TokenReviews and SubjectAccessReviews would be refused")
	}
	if !reader {
		t.Error("no RoleBinding in kube-system gives skiff-apiserver extension-apiserver-authentication-reader: it could not trust the front proxy")
	}
}

func TestEveryReferenceResolves(t *testing.T) {
	_, m := load(t)
	namespaceExists := func(ns string) bool { return m.Namespaces[ns] != nil || ns == "kube-system" }
	check := func(what, ns string) {
		if !namespaceExists(ns) {
			t.Errorf("%s is in namespace %q, which neither the manifests nor kind define", what, ns)
		}
	}
	for k := range m.ServiceAccounts {
		check("ServiceAccount "+k.String(), k.Namespace)
	}
	for k := range m.Services {
		check("Service "+k.String(), k.Namespace)
	}
	for k := range m.ConfigMaps {
		check("ConfigMap "+k.String(), k.Namespace)
	}
	for k := range m.Deployments {
		check("Deployment "+k.String(), k.Namespace)
	}
	for k, r := range m.Roles {
		check("Role "+k.String(), k.Namespace)
		noWildcards(t, "Role "+k.String(), r.Rules)
	}
	for name, r := range m.ClusterRoles {
		noWildcards(t, "ClusterRole "+name, r.Rules)
	}

	roleExists := func(target string) bool {
		if builtinRoles[target] {
			return true
		}
		kind, rest, _ := strings.Cut(target, "/")
		if kind == "ClusterRole" {
			return m.ClusterRoles[rest] != nil
		}
		ns, name, _ := strings.Cut(rest, "/")
		return m.Roles[Key{ns, name}] != nil
	}
	subjectsExist := func(what string, subjects []rbacv1.Subject) {
		for _, s := range subjects {
			if m.ServiceAccounts[Key{s.Namespace, s.Name}] == nil {
				t.Errorf("%s binds service account %s/%s, which the manifests do not define", what, s.Namespace, s.Name)
			}
		}
	}
	for k, b := range m.RoleBindings {
		check("RoleBinding "+k.String(), k.Namespace)
		if target := roleRefTarget(b.RoleRef, k.Namespace); !roleExists(target) {
			t.Errorf("RoleBinding %s refers to %s, which does not exist", k, target)
		}
		subjectsExist("RoleBinding "+k.String(), b.Subjects)
	}
	for name, b := range m.ClusterRoleBindings {
		if b.RoleRef.Kind != "ClusterRole" {
			t.Errorf("ClusterRoleBinding %s refers to a %s", name, b.RoleRef.Kind)
		}
		if target := roleRefTarget(b.RoleRef, ""); !roleExists(target) {
			t.Errorf("ClusterRoleBinding %s refers to %s, which does not exist", name, target)
		}
		subjectsExist("ClusterRoleBinding "+name, b.Subjects)
	}
}

// container returns d's only container, which must run binary.
// deployment is skiff-system's Deployment name, failing the test when the
// manifests have none.
func deployment(t *testing.T, m *Manifests, name string) *appsv1.Deployment {
	t.Helper()
	d := m.Deployments[Key{skiffSystem, name}]
	if d == nil {
		t.Fatalf("Deployment %s is missing", name)
	}
	return d
}

func container(t *testing.T, d *appsv1.Deployment, binary string) *corev1.Container {
	t.Helper()
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("Deployment %s has %d containers, want 1", d.Name, len(cs))
	}
	c := &cs[0]
	if len(c.Command) != 1 || path.Base(c.Command[0]) != binary {
		t.Fatalf("Deployment %s runs %v, want %s", d.Name, c.Command, binary)
	}
	return c
}

// parseArgs parses c's arguments with its binary's real flags, failing the
// test on a flag the binary does not define, and returns every flag's value.
func parseArgs(t *testing.T, c *corev1.Container) map[string]string {
	t.Helper()
	binary := path.Base(c.Command[0])
	newCommand, ok := commands[binary]
	if !ok {
		t.Fatalf("no command known for binary %s", binary)
	}
	cmd := newCommand()
	if err := cmd.ParseFlags(c.Args); err != nil {
		t.Fatalf("%s does not accept its arguments %v: %v", binary, c.Args, err)
	}
	if rest := cmd.Flags().Args(); len(rest) > 0 {
		t.Fatalf("%s would refuse the positional arguments %v", binary, rest)
	}
	values := map[string]string{}
	for _, name := range []string{"delegated-auth", "secure-port", "data-dir", "kubeconfig", "leader-elect", "leader-elect-resource-namespace", "runtime", "simulate-nodes"} {
		if f := cmd.Flags().Lookup(name); f != nil {
			values[name] = f.Value.String()
		}
	}
	return values
}

// resolvePort turns a named or numbered port into c's container port, or 0.
func resolvePort(c *corev1.Container, p intstr.IntOrString) int32 {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp.ContainerPort
		}
	}
	return 0
}

// noWildcards fails the test for a rule granting "*": each component gets
// the verbs and resources of its job, named.
func noWildcards(t *testing.T, what string, rules []rbacv1.PolicyRule) {
	t.Helper()
	for _, r := range rules {
		for _, list := range [][]string{r.Verbs, r.APIGroups, r.Resources} {
			if slices.Contains(list, "*") {
				t.Errorf("%s grants %q: name the verbs and resources instead", what, "*")
			}
		}
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

func mounted(c *corev1.Container, dir string) bool {
	return slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool { return vm.MountPath == dir })
}

// TestHostUsersMayUseSkiffWorkloads checks the ClusterRoles aggregated into
// the host's view, edit and admin roles: in aggregated mode they are what
// lets a namespace's users use apps.skiff.dev at all.
func TestHostUsersMayUseSkiffWorkloads(t *testing.T) {
	_, m := load(t)
	// The rules each default role gains, by its aggregation label.
	granted := map[string][]rbacv1.PolicyRule{}
	for _, r := range m.ClusterRoles {
		for _, role := range []string{"view", "edit", "admin"} {
			if r.Labels["rbac.authorization.k8s.io/aggregate-to-"+role] == "true" {
				granted[role] = append(granted[role], r.Rules...)
			}
		}
	}
	tests := []struct {
		role string
		req  Request
		want bool
	}{
		{"view", Request{"list", appsGroup, "deployments", "default"}, true},
		{"view", Request{"watch", appsGroup, "replicasets", "default"}, true},
		{"view", Request{"get", appsGroup, "deployments/scale", "default"}, true},
		{"view", Request{"patch", appsGroup, "deployments/scale", "default"}, false},
		{"view", Request{"delete", appsGroup, "deployments", "default"}, false},
		{"edit", Request{"create", appsGroup, "deployments", "default"}, true},
		{"edit", Request{"patch", appsGroup, "deployments/scale", "default"}, true},
		{"edit", Request{"delete", appsGroup, "replicasets", "default"}, true},
		{"edit", Request{"patch", appsGroup, "deployments/status", "default"}, false},
		{"admin", Request{"update", appsGroup, "replicasets/scale", "default"}, true},
	}
	for _, tt := range tests {
		if got := rulesAllow(granted[tt.role], tt.req); got != tt.want {
			t.Errorf("%s: %+v allowed = %v, want %v", tt.role, tt.req, got, tt.want)
		}
	}
}

// TestSchedulerRunsOnOneProcessor: in kind, as under skiff up, the
// scheduler shares its machine with the API servers and runs on one
// processor.
func TestSchedulerRunsOnOneProcessor(t *testing.T) {
	_, m := load(t)
	d := deployment(t, m, "skiff-scheduler")
	c := container(t, d, "skiff-scheduler")
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "GOMAXPROCS" })
	if i < 0 || c.Env[i].Value != "1" {
		t.Errorf("scheduler environment %v, want GOMAXPROCS=1", c.Env)
	}
}
