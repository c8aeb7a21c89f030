// Package apiserver assembles skiff-apiserver: the upstream GenericAPIServer
// with the core.skiff.dev and apps.skiff.dev API groups installed on the
// generic registry.
package apiserver

import (
	"fmt"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/install"
	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/apiserver/auth"
	"skiff.dev/skiff/pkg/registry/core/lease"
	"skiff.dev/skiff/pkg/registry/core/node"
	"skiff.dev/skiff/pkg/registry/core/pod"
	"skiff.dev/skiff/pkg/registry/core/priorityclass"
	"skiff.dev/skiff/pkg/registry/rules"
)

var (
	// Scheme knows every type the server serves.
	Scheme = runtime.NewScheme()
	// Codecs encode and decode those types.
	Codecs = serializer.NewCodecFactory(Scheme)
)

func init() {
	install.Install(Scheme)
	addReviewTypes(Scheme)
	addLegacyTypes(Scheme)
	// The meta types every API server shares (Status, options, discovery).
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{}, &metav1.APIVersions{}, &metav1.APIGroupList{}, &metav1.APIGroup{}, &metav1.APIResourceList{})
}

// ExtraConfig is what skiff adds to the generic server's configuration.
type ExtraConfig struct {
	// KubeletTransport reaches kubelets for pods/log; nil disables it.
	KubeletTransport http.RoundTripper
	// EventTTL is how long an event lives after its last update.
	EventTTL time.Duration
	// StorageGate, when set, refuses writes while storage cannot take them
	// (the embedded etcd's volume nearly full).
	StorageGate rules.WriteGate
	// Authorizer is the built-in authorizer in standalone mode, which needs
	// the pod storage once it exists; nil in delegated mode.
	Authorizer *auth.Authorizer
	// TokenAuthenticator answers TokenReviews in standalone mode; nil
	// authenticates no token.
	TokenAuthenticator authenticator.Token
}

// Config is the whole server configuration.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
	ExtraConfig   ExtraConfig
}

// CompletedConfig is a Config with every default filled in.
type CompletedConfig struct {
	generic genericapiserver.CompletedConfig
	extra   *ExtraConfig
}

// Complete fills in the defaults the generic server derives.
func (c *Config) Complete() CompletedConfig {
	if c.ExtraConfig.EventTTL == 0 {
		c.ExtraConfig.EventTTL = time.Hour
	}
	return CompletedConfig{generic: c.GenericConfig.Complete(), extra: &c.ExtraConfig}
}

// Server is a running skiff API server.
type Server struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

// New builds the server and installs the core.skiff.dev group.
func (c CompletedConfig) New() (*Server, error) {
	s, err := c.generic.New("skiff-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, fmt.Errorf("create generic API server: %w", err)
	}
	storage, err := c.newStorage()
	if err != nil {
		return nil, err
	}
	group := genericapiserver.NewDefaultAPIGroupInfo(core.GroupName, Scheme, runtime.NewParameterCodec(Scheme), Codecs)
	group.NegotiatedSerializer = skiffCodecs
	group.VersionedResourcesStorageMap[v1alpha1.SchemeGroupVersion.Version] = storage
	if err := s.InstallAPIGroup(&group); err != nil {
		return nil, fmt.Errorf("install API group %s: %w", core.GroupName, err)
	}
	if err := c.installApps(s); err != nil {
		return nil, err
	}
	if err := s.AddPostStartHook("skiff-bootstrap-system-priority-classes", createSystemPriorityClassesHook); err != nil {
		return nil, fmt.Errorf("add the system priority classes hook: %w", err)
	}
	if c.extra.Authorizer != nil {
		if err := installLegacyAPI(s, c.generic.RESTOptionsGetter, c.extra.EventTTL); err != nil {
			return nil, err
		}
		if err := s.AddPostStartHook("skiff-system-namespaces", createSystemNamespacesHook); err != nil {
			return nil, fmt.Errorf("add the system namespaces hook: %w", err)
		}
		if err := installReviewAPIs(s, c.extra.TokenAuthenticator, c.extra.Authorizer); err != nil {
			return nil, err
		}
	}
	return &Server{GenericAPIServer: s}, nil
}

// newStorage builds the REST storage of every resource, keyed by its path.
func (c CompletedConfig) newStorage() (map[string]rest.Storage, error) {
	// etcd's timeouts and full database answer retriable 5xx, not 500.
	optsGetter := rules.WithStorageErrors(c.generic.RESTOptionsGetter, c.extra.StorageGate)
	nodes, nodeStatus, err := node.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	pods, err := pod.NewStorage(Scheme, optsGetter, nodes, pod.KubeletConnection{Transport: c.extra.KubeletTransport})
	if err != nil {
		return nil, err
	}
	leases, err := lease.NewREST(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	priorityClasses, err := priorityclass.NewREST(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	if c.extra.Authorizer != nil {
		c.extra.Authorizer.SetPodGetter(pods.Pod)
	}
	return map[string]rest.Storage{
		"pods":         pods.Pod,
		"pods/status":  pods.Status,
		"pods/binding": pods.Binding,
		"pods/log":     pods.Log,
		"bindings":     pods.Binding,
		"nodes":        nodes,
		"nodes/status": nodeStatus,
		"leases":       leases,

		"priorityclasses": priorityClasses,
	}, nil
}
