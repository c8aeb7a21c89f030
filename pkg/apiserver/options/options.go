// Package options holds skiff-apiserver's command-line options and turns
// them into a server configuration: flags → Options → Complete → Config.
package options

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apiserver/pkg/admission"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/version"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/apiserver"
	"skiff.dev/skiff/pkg/apiserver/admission/defaulttolerationseconds"
	"skiff.dev/skiff/pkg/apiserver/admission/namespacelifecycle"
	"skiff.dev/skiff/pkg/apiserver/admission/noderestriction"
	"skiff.dev/skiff/pkg/apiserver/admission/priority"
	"skiff.dev/skiff/pkg/apiserver/auth"
	"skiff.dev/skiff/pkg/apiserver/etcd"
	"skiff.dev/skiff/pkg/generated/clientset/versioned"
	skiffinformers "skiff.dev/skiff/pkg/generated/informers/externalversions"
	generatedopenapi "skiff.dev/skiff/pkg/generated/openapi"
	"skiff.dev/skiff/pkg/pki"
	"skiff.dev/skiff/pkg/registry/rules"
)

const (
	// DefaultSecurePort is kube-apiserver's.
	DefaultSecurePort = 6443
	// AdminKubeconfigFile is written into the data dir.
	AdminKubeconfigFile = "admin.kubeconfig"
	// Keys are /registry/<group>/<resource>/...: the storage adds the group.
	etcdPathPrefix = "/registry"
)

// Options are skiff-apiserver's flags.
type Options struct {
	ServerRun     *genericoptions.ServerRunOptions
	SecureServing *genericoptions.SecureServingOptionsWithLoopback
	Etcd          *genericoptions.EtcdOptions
	// Authentication carries --client-ca-file in both modes, and the
	// delegated-mode flags.
	Authentication *genericoptions.DelegatingAuthenticationOptions
	Authorization  *genericoptions.DelegatingAuthorizationOptions

	// DataDir holds the embedded etcd, the CA, certificates and admin.kubeconfig.
	DataDir string
	// DelegatedAuth makes the server an aggregated API server that asks
	// the host cluster who a request is and what it may do.
	DelegatedAuth bool
	// TokenAuthFile is a static token CSV for standalone mode.
	TokenAuthFile string
	// EventTTL is how long events are kept.
	EventTTL time.Duration
	// KubeletClientCertFile and KeyFile are what the server presents to
	// kubelets for pods/log; minted from the CA when unset.
	KubeletClientCertFile, KubeletClientKeyFile string
	// KubeletCAFile verifies kubelets' serving certificates. Unset, it is
	// the data dir's CA in standalone mode; in aggregated mode kubelets'
	// certificates are then not verified, as upstream's default.
	KubeletCAFile string
	// EtcdReadyTimeout bounds the wait for the embedded etcd.
	EtcdReadyTimeout time.Duration
	// DisableAdmissionPlugins turns off admission plugins by name.
	DisableAdmissionPlugins []string
	// MemoryLimit is the Go runtime's soft memory limit (a quantity such
	// as 2Gi); empty derives it (see pkg/apiserver/memory).
	MemoryLimit string
	// storageGate is the embedded etcd, which refuses writes when its
	// volume is nearly full; nil with an external etcd.
	storageGate rules.WriteGate
}

// admissionPlugins are the plugins --disable-admission-plugins may name.
var admissionPlugins = []string{namespacelifecycle.PluginName, noderestriction.PluginName, priority.PluginName}

// NewOptions returns the defaults.
func NewOptions() *Options {
	o := &Options{
		ServerRun:        genericoptions.NewServerRunOptions(),
		SecureServing:    genericoptions.NewSecureServingOptions().WithLoopback(),
		Etcd:             genericoptions.NewEtcdOptions(storagebackend.NewDefaultConfig(etcdPathPrefix, nil)),
		Authentication:   genericoptions.NewDelegatingAuthenticationOptions(),
		Authorization:    genericoptions.NewDelegatingAuthorizationOptions(),
		DataDir:          "./skiff-data",
		EventTTL:         time.Hour,
		EtcdReadyTimeout: time.Minute,
	}
	o.SecureServing.BindPort = DefaultSecurePort
	// Watches through an aggregating proxy share one HTTP/2 connection.
	o.SecureServing.HTTP2MaxStreamsPerConnection = 1000
	o.Etcd.StorageConfig.Transport.ServerList = nil
	// Objects are stored as protobuf, as kube-apiserver stores its own:
	// cheaper to decode than JSON. genericConfig builds the codec.
	o.Etcd.DefaultStorageMediaType = runtime.ContentTypeProtobuf
	// The health and version endpoints need no credentials, as upstream.
	o.Authorization.AlwaysAllowPaths = []string{"/healthz", "/livez", "/readyz", "/version"}
	return o
}

// Flags returns the flags in named sections, as upstream components print them.
func (o *Options) Flags() cliflag.NamedFlagSets {
	var fss cliflag.NamedFlagSets
	fs := fss.FlagSet("skiff")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "Directory for the embedded etcd, the generated CA and certificates, and admin.kubeconfig; created on first start and reused after.")
	fs.BoolVar(&o.DelegatedAuth, "delegated-auth", o.DelegatedAuth, "Run as an aggregated API server: authenticate and authorize requests by delegating to the host cluster (--authentication-kubeconfig, --authorization-kubeconfig, or in-cluster).")
	fs.StringVar(&o.TokenAuthFile, "token-auth-file", o.TokenAuthFile, "Standalone mode: a CSV file of bearer tokens (token,user,uid,\"group1,group2\").")
	fs.DurationVar(&o.EventTTL, "event-ttl", o.EventTTL, "Amount of time to retain events.")
	fs.StringVar(&o.KubeletClientCertFile, "kubelet-client-certificate", o.KubeletClientCertFile, "Client certificate for connections to kubelets (pods/log). Minted from the data dir's CA when unset, for user "+auth.KubeletClientUser+", which may use the kubelet API and nothing else.")
	fs.StringVar(&o.KubeletClientKeyFile, "kubelet-client-key", o.KubeletClientKeyFile, "Key of --kubelet-client-certificate.")
	fs.StringSliceVar(&o.DisableAdmissionPlugins, "disable-admission-plugins", o.DisableAdmissionPlugins, fmt.Sprintf("Admission plugins to turn off, of %s. In aggregated mode %s reads the host cluster's namespaces.", strings.Join(admissionPlugins, ", "), namespacelifecycle.PluginName))
	fs.StringVar(&o.MemoryLimit, "memory-limit", o.MemoryLimit, "Soft limit of the Go heap (GOMEMLIMIT), a quantity such as 2Gi. Empty: GOMEMLIMIT if set, else 90% of the cgroup's memory limit or of the machine's memory.")
	fs.StringVar(&o.KubeletCAFile, "kubelet-certificate-authority", o.KubeletCAFile, "CA that signs kubelets' serving certificates. Defaults to the data dir's CA in standalone mode; with --delegated-auth and no value, they are not verified.")

	o.ServerRun.AddUniversalFlags(fss.FlagSet("generic"))
	o.SecureServing.AddFlags(fss.FlagSet("secure serving"))
	o.Etcd.AddFlags(fss.FlagSet("etcd"))
	o.Authentication.AddFlags(fss.FlagSet("authentication"))
	o.Authorization.AddFlags(fss.FlagSet("authorization"))
	return fss
}

// Complete makes the data dir absolute and creates it.
func (o *Options) Complete() error {
	dir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return fmt.Errorf("resolve --data-dir %s: %w", o.DataDir, err)
	}
	o.DataDir = dir
	if err := os.MkdirAll(o.pkiDir(), 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	// Apply --emulated-version and --feature-gates before anything reads
	// them, over skiff's own defaults.
	if err := applyFeatureDefaults(utilfeature.DefaultMutableFeatureGate); err != nil {
		return err
	}
	if err := o.ServerRun.ComponentGlobalsRegistry.Set(); err != nil {
		return fmt.Errorf("apply version and feature flags: %w", err)
	}
	if err := o.completeWatchCacheSizes(); err != nil {
		return err
	}
	return o.ServerRun.Complete()
}

// Validate reports every bad flag at once.
func (o *Options) Validate() error {
	var errs []error
	errs = append(errs, o.ServerRun.Validate()...)
	errs = append(errs, o.SecureServing.Validate()...)
	if len(o.Etcd.StorageConfig.Transport.ServerList) > 0 {
		errs = append(errs, o.Etcd.Validate()...)
	}
	if o.DelegatedAuth {
		errs = append(errs, o.Authentication.Validate()...)
		errs = append(errs, o.Authorization.Validate()...)
		if o.TokenAuthFile != "" {
			errs = append(errs, errors.New("--token-auth-file is for standalone mode; with --delegated-auth the host cluster authenticates"))
		}
	}
	for _, p := range o.DisableAdmissionPlugins {
		if !slices.Contains(admissionPlugins, p) {
			errs = append(errs, fmt.Errorf("--disable-admission-plugins: unknown plugin %q, known: %s", p, strings.Join(admissionPlugins, ", ")))
		}
	}
	if _, err := o.MemoryLimitBytes(); err != nil {
		errs = append(errs, err)
	}
	if _, err := apiserver.StorageCodec(o.Etcd.DefaultStorageMediaType); err != nil {
		errs = append(errs, fmt.Errorf("--storage-media-type: %w", err))
	}
	if (o.KubeletClientCertFile == "") != (o.KubeletClientKeyFile == "") {
		errs = append(errs, errors.New("--kubelet-client-certificate and --kubelet-client-key go together"))
	}
	return utilerrors.NewAggregate(errs)
}

func (o *Options) pkiDir() string { return filepath.Join(o.DataDir, "pki") }

// MemoryLimitBytes is --memory-limit in bytes, 0 when unset.
func (o *Options) MemoryLimitBytes() (int64, error) {
	if o.MemoryLimit == "" {
		return 0, nil
	}
	q, err := resource.ParseQuantity(o.MemoryLimit)
	if err != nil || q.Sign() <= 0 {
		return 0, fmt.Errorf("--memory-limit %q: want a positive quantity such as 2Gi", o.MemoryLimit)
	}
	return q.Value(), nil
}

// Config builds the server configuration. It starts the embedded etcd when
// no --etcd-servers are given; the returned stop function stops it (call it
// after the server has stopped).
func (o *Options) Config() (*apiserver.Config, func(), error) {
	ca, err := pki.LoadOrCreateCA(o.pkiDir())
	if err != nil {
		return nil, nil, err
	}
	if err := o.ensureServingCert(ca); err != nil {
		return nil, nil, err
	}

	stop := func() {}
	if len(o.Etcd.StorageConfig.Transport.ServerList) == 0 {
		embedded, err := etcd.Start(o.DataDir, ca, o.EtcdReadyTimeout)
		if err != nil {
			return nil, nil, err
		}
		stop = embedded.Stop
		o.storageGate = embedded
		o.Etcd.StorageConfig.Transport = storagebackend.TransportConfig{
			ServerList:    []string{embedded.ClientURL},
			TrustedCAFile: embedded.CAFile,
			CertFile:      embedded.CertFile,
			KeyFile:       embedded.KeyFile,
		}
	}
	cfg, err := o.genericConfig(ca)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return cfg, stop, nil
}

func (o *Options) genericConfig(ca *pki.CA) (*apiserver.Config, error) {
	gc := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	if err := o.ServerRun.ApplyTo(&gc.Config); err != nil {
		return nil, fmt.Errorf("apply server options: %w", err)
	}
	if err := o.SecureServing.ApplyTo(&gc.Config.SecureServing, &gc.Config.LoopbackClientConfig); err != nil {
		return nil, fmt.Errorf("apply serving options: %w", err)
	}
	codec, err := apiserver.StorageCodec(o.Etcd.DefaultStorageMediaType)
	if err != nil {
		return nil, fmt.Errorf("--storage-media-type: %w", err)
	}
	o.Etcd.StorageConfig.Codec = codec
	if err := o.Etcd.ApplyTo(&gc.Config); err != nil {
		return nil, fmt.Errorf("apply etcd options: %w", err)
	}

	namer := openapinamer.NewDefinitionNamer(apiserver.Scheme)
	gc.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(generatedopenapi.GetOpenAPIDefinitions, namer)
	gc.OpenAPIConfig.Info.Title = "skiff"
	gc.OpenAPIConfig.Info.Version = version.Get().GitVersion
	gc.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(generatedopenapi.GetOpenAPIDefinitions, namer)
	gc.OpenAPIV3Config.Info.Title = "skiff"
	gc.OpenAPIV3Config.Info.Version = version.Get().GitVersion

	// No priority and fairness: it needs the core API's FlowSchema
	// informers. The max-in-flight limits guard the server instead.
	gc.FlowControl = nil
	// Handlers give up just before the timeout filter; see BuildHandlerChain.
	gc.BuildHandlerChainFunc = apiserver.BuildHandlerChain
	// DefaultTolerationSeconds mutates new pods; NodeRestriction validates.
	plugins := []admission.Interface{defaulttolerationseconds.New()}
	if o.admissionEnabled(noderestriction.PluginName) {
		plugins = append(plugins, noderestriction.New())
	}
	if o.admissionEnabled(priority.PluginName) {
		p, err := priorityAdmission(gc)
		if err != nil {
			return nil, err
		}
		plugins = append(plugins, p)
	}

	extra := apiserver.ExtraConfig{EventTTL: o.EventTTL, StorageGate: o.storageGate}
	if o.DelegatedAuth {
		if err := o.Authentication.ApplyTo(&gc.Authentication, gc.SecureServing, gc.OpenAPIConfig); err != nil {
			return nil, fmt.Errorf("apply delegated authentication: %w", err)
		}
		if err := o.Authorization.ApplyTo(&gc.Authorization); err != nil {
			return nil, fmt.Errorf("apply delegated authorization: %w", err)
		}
	} else {
		authz, err := o.applyStandaloneAuth(gc)
		if err != nil {
			return nil, err
		}
		extra.Authorizer = authz
		if extra.TokenAuthenticator, err = auth.NewTokenReviewAuthenticator(o.TokenAuthFile); err != nil {
			return nil, err
		}
		if err := o.writeAdminKubeconfig(ca, gc.SecureServing); err != nil {
			return nil, err
		}
	}
	if o.admissionEnabled(namespacelifecycle.PluginName) {
		lifecycle, err := o.namespaceLifecycle(gc)
		if err != nil {
			return nil, err
		}
		// First, as upstream orders it: refuse before anything mutates.
		plugins = append([]admission.Interface{lifecycle}, plugins...)
	}
	gc.AdmissionControl = admission.NewChainHandler(plugins...)
	transport, err := o.kubeletTransport(ca)
	if err != nil {
		return nil, err
	}
	extra.KubeletTransport = transport
	return &apiserver.Config{GenericConfig: gc, ExtraConfig: extra}, nil
}

func (o *Options) admissionEnabled(name string) bool {
	return !slices.Contains(o.DisableAdmissionPlugins, name)
}

// namespaceLifecycle builds the NamespaceLifecycle plugin on a namespace
// informer of the cluster that owns namespaces: skiff's own, through the
// loopback client, in standalone mode; the host's, through the client
// delegated auth uses, in aggregated mode (as sample-apiserver's
// CoreAPIOptions do), so that skiff objects land only in host namespaces
// that exist and the host's namespace controller can empty them. The
// generic server starts gc.SharedInformerFactory after it starts serving
// and reports ready only once the informer has synced.
func (o *Options) namespaceLifecycle(gc *genericapiserver.RecommendedConfig) (admission.Interface, error) {
	cfg := gc.LoopbackClientConfig
	if o.DelegatedAuth {
		var err error
		if cfg, err = o.hostClientConfig(); err != nil {
			return nil, err
		}
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create namespace client: %w", err)
	}
	gc.SharedInformerFactory = informers.NewSharedInformerFactory(client, 0)
	return namespacelifecycle.New(client, gc.SharedInformerFactory)
}

// priorityAdmission builds the Priority plugin on a PriorityClass informer
// of skiff's own API, through the loopback client in both modes
// (PriorityClass is a core.skiff.dev kind). The informer starts with the
// server; the plugin waits for it to sync before it admits a pod.
func priorityAdmission(gc *genericapiserver.RecommendedConfig) (admission.Interface, error) {
	client, err := versioned.NewForConfig(gc.LoopbackClientConfig)
	if err != nil {
		return nil, fmt.Errorf("create loopback client: %w", err)
	}
	factory := skiffinformers.NewSharedInformerFactory(client, 0)
	classes := factory.Core().V1alpha1().PriorityClasses()
	informer := classes.Informer()
	if err := gc.AddPostStartHook("skiff-priority-admission-informer", func(ctx genericapiserver.PostStartHookContext) error {
		factory.Start(ctx.Done())
		return nil
	}); err != nil {
		return nil, fmt.Errorf("add the %s admission informer hook: %w", priority.PluginName, err)
	}
	return priority.New(classes.Lister(), informer.HasSynced, client), nil
}

// hostClientConfig reaches the host cluster as delegated authentication
// does: --authentication-kubeconfig, or in-cluster.
func (o *Options) hostClientConfig() (*rest.Config, error) {
	var (
		cfg *rest.Config
		err error
	)
	if path := o.Authentication.RemoteKubeConfigFile; path != "" {
		loading := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(loading, &clientcmd.ConfigOverrides{}).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("load --authentication-kubeconfig %s for the host's namespaces: %w", path, err)
		}
	} else if cfg, err = rest.InClusterConfig(); err != nil {
		return nil, fmt.Errorf("in-cluster config for the host's namespaces (or set --authentication-kubeconfig): %w", err)
	}
	return rest.AddUserAgent(cfg, "skiff-apiserver-namespace-lifecycle"), nil
}

// applyStandaloneAuth wires client certificates from the CA (or
// --client-ca-file), static tokens and skiff's built-in authorizer.
func (o *Options) applyStandaloneAuth(gc *genericapiserver.RecommendedConfig) (*auth.Authorizer, error) {
	caFile := o.Authentication.ClientCert.ClientCA
	if caFile == "" {
		caFile = filepath.Join(o.pkiDir(), pki.CACertFile)
	}
	clientCA, err := dynamiccertificates.NewDynamicCAContentFromFile("client-ca-bundle", caFile)
	if err != nil {
		return nil, fmt.Errorf("load client CA %s: %w", caFile, err)
	}
	if err := gc.Authentication.ApplyClientCert(clientCA, gc.SecureServing); err != nil {
		return nil, fmt.Errorf("serve client CA: %w", err)
	}
	authn, err := auth.NewAuthenticator(clientCA, o.TokenAuthFile)
	if err != nil {
		return nil, err
	}
	gc.Authentication.Authenticator = authn
	authz := auth.NewAuthorizer()
	gc.Authorization.Authorizer = authz
	return authz, nil
}

// ensureServingCert points the server at --tls-cert-file, or at a
// certificate minted from the CA for every name the server is reached by.
// An existing one is reused while it still covers those names.
func (o *Options) ensureServingCert(ca *pki.CA) error {
	if o.SecureServing.ServerCert.CertKey.CertFile != "" {
		return nil
	}
	hosts := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}
	for _, ip := range []net.IP{o.ServerRun.AdvertiseAddress, o.SecureServing.BindAddress} {
		if ip != nil && !ip.IsUnspecified() {
			ips = append(ips, ip)
		}
	}
	if ip, err := utilnet.ResolveBindAddress(nil); err == nil && ip != nil {
		ips = append(ips, ip)
	}
	certFile, keyFile := filepath.Join(o.pkiDir(), "apiserver.crt"), filepath.Join(o.pkiDir(), "apiserver.key")
	o.SecureServing.ServerCert.CertKey.CertFile, o.SecureServing.ServerCert.CertKey.KeyFile = certFile, keyFile
	if certCovers(certFile, keyFile, hosts, ips) {
		return nil
	}
	kp, err := ca.ServingCert("skiff-apiserver", hosts, ips)
	if err != nil {
		return fmt.Errorf("mint serving certificate: %w", err)
	}
	return kp.WriteFiles(o.pkiDir(), "apiserver.crt", "apiserver.key")
}

// certCovers reports whether the pair in certFile and keyFile is valid for
// at least 30 more days and names every host and IP.
func certCovers(certFile, keyFile string, hosts []string, ips []net.IP) bool {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil || len(pair.Certificate) == 0 {
		return false
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil || time.Until(cert.NotAfter) < 30*24*time.Hour {
		return false
	}
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	for _, ip := range ips {
		if cert.VerifyHostname(ip.String()) != nil {
			return false
		}
	}
	return true
}

// writeAdminKubeconfig writes DIR/admin.kubeconfig for a system:masters user,
// unless one for this server address is already there.
func (o *Options) writeAdminKubeconfig(ca *pki.CA, serving *genericapiserver.SecureServingInfo) error {
	_, port, err := serving.HostPort()
	if err != nil {
		return fmt.Errorf("find the secure port: %w", err)
	}
	host := "127.0.0.1"
	if ip := o.SecureServing.BindAddress; ip != nil && !ip.IsUnspecified() {
		host = ip.String()
	}
	server := fmt.Sprintf("https://%s", net.JoinHostPort(host, fmt.Sprint(port)))
	path := filepath.Join(o.DataDir, AdminKubeconfigFile)
	if KubeconfigServer(path) == server {
		return nil
	}
	data, err := ca.Kubeconfig(server, "skiff-admin", []string{"system:masters"})
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	klog.InfoS("Wrote admin kubeconfig", "path", path, "server", server)
	return nil
}

// kubeletTransport is the client the pods/log proxy dials kubelets with.
func (o *Options) kubeletTransport(ca *pki.CA) (http.RoundTripper, error) {
	var cert tls.Certificate
	var err error
	if o.KubeletClientCertFile != "" {
		cert, err = tls.LoadX509KeyPair(o.KubeletClientCertFile, o.KubeletClientKeyFile)
	} else {
		var kp *pki.KeyPair
		// Its own identity, not system:masters: kubelets allow it their
		// API (SubjectAccessReview), and the API allows it nothing else.
		kp, err = ca.ClientCert(auth.KubeletClientUser, nil)
		if err == nil {
			cert, err = tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load kubelet client certificate: %w", err)
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if caFile := o.kubeletCAFile(); caFile != "" {
		pool := x509.NewCertPool()
		data, err := os.ReadFile(caFile)
		if err == nil && !pool.AppendCertsFromPEM(data) {
			err = errors.New("no PEM certificate in it")
		}
		if err != nil {
			return nil, fmt.Errorf("read --kubelet-certificate-authority %s: %w", caFile, err)
		}
		tlsConfig.RootCAs = pool
	} else {
		// Upstream's default in aggregated mode, where skiff's CA is not
		// the one that signs the host cluster's kubelets.
		tlsConfig.InsecureSkipVerify = true //nolint:gosec // matches kube-apiserver without --kubelet-certificate-authority
	}
	return utilnet.SetTransportDefaults(&http.Transport{TLSClientConfig: tlsConfig}), nil
}

// kubeletCAFile is the CA kubelets' serving certificates must chain to:
// --kubelet-certificate-authority, or in standalone mode the data dir's CA,
// which signs the kubelets' serving certificates (skiff up, skiff
// kubelet-serving-cert). Empty means unverified (aggregated mode's default).
func (o *Options) kubeletCAFile() string {
	if o.KubeletCAFile != "" || o.DelegatedAuth {
		return o.KubeletCAFile
	}
	return filepath.Join(o.pkiDir(), pki.CACertFile)
}
