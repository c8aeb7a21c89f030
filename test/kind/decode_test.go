package kind

// Strict decoding of the manifests into the API types of their kinds.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// DecodeStrict decodes a YAML document into obj the way the API server does
// with fieldValidation=Strict: field names match case-sensitively, and an
// unknown or duplicate field is an error. (sigs.k8s.io/yaml's UnmarshalStrict
// alone would let "insecureSkipTlsVerify" through, as encoding/json matches
// names case-insensitively.)
func DecodeStrict(doc []byte, obj any) error {
	data, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(data, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

// APIService mirrors apiregistration.k8s.io/v1 APIService (without status,
// which a manifest never sets). k8s.io/kube-aggregator is not a dependency
// of the main module, so the fields are copied here, tags and all, to decode
// as strictly as the real type would.
type APIService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              APIServiceSpec `json:"spec,omitempty"`
}

// APIServiceSpec mirrors apiregistration/v1 APIServiceSpec.
type APIServiceSpec struct {
	Service               *ServiceReference `json:"service,omitempty"`
	Group                 string            `json:"group,omitempty"`
	Version               string            `json:"version,omitempty"`
	InsecureSkipTLSVerify bool              `json:"insecureSkipTLSVerify,omitempty"`
	CABundle              []byte            `json:"caBundle,omitempty"`
	GroupPriorityMinimum  int32             `json:"groupPriorityMinimum"`
	VersionPriority       int32             `json:"versionPriority"`
}

// ServiceReference mirrors apiregistration/v1 ServiceReference.
type ServiceReference struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Port      *int32 `json:"port,omitempty"`
}

// Kustomization is the part of kustomize's Kustomization these manifests use.
type Kustomization struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Resources  []string         `json:"resources"`
	Labels     []KustomizeLabel `json:"labels,omitempty"`
}

// KustomizeLabel is one entry of a Kustomization's labels.
type KustomizeLabel struct {
	Pairs            map[string]string `json:"pairs"`
	IncludeSelectors bool              `json:"includeSelectors,omitempty"`
	IncludeTemplates bool              `json:"includeTemplates,omitempty"`
}

// Key names a namespaced object.
type Key struct{ Namespace, Name string }

func (k Key) String() string { return k.Namespace + "/" + k.Name }

// Manifests are the decoded objects, by kind.
type Manifests struct {
	Namespaces          map[string]*corev1.Namespace
	ServiceAccounts     map[Key]*corev1.ServiceAccount
	Services            map[Key]*corev1.Service
	ConfigMaps          map[Key]*corev1.ConfigMap
	Deployments         map[Key]*appsv1.Deployment
	Roles               map[Key]*rbacv1.Role
	ClusterRoles        map[string]*rbacv1.ClusterRole
	RoleBindings        map[Key]*rbacv1.RoleBinding
	ClusterRoleBindings map[string]*rbacv1.ClusterRoleBinding
	APIServices         map[string]*APIService
}

func newManifests() *Manifests {
	return &Manifests{
		Namespaces:          map[string]*corev1.Namespace{},
		ServiceAccounts:     map[Key]*corev1.ServiceAccount{},
		Services:            map[Key]*corev1.Service{},
		ConfigMaps:          map[Key]*corev1.ConfigMap{},
		Deployments:         map[Key]*appsv1.Deployment{},
		Roles:               map[Key]*rbacv1.Role{},
		ClusterRoles:        map[string]*rbacv1.ClusterRole{},
		RoleBindings:        map[Key]*rbacv1.RoleBinding{},
		ClusterRoleBindings: map[string]*rbacv1.ClusterRoleBinding{},
		APIServices:         map[string]*APIService{},
	}
}

// LoadKustomization reads dir/kustomization.yaml strictly and every
// resource file it lists.
func LoadKustomization(dir string) (*Kustomization, *Manifests, error) {
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, nil, err
	}
	var k Kustomization
	if err := DecodeStrict(data, &k); err != nil {
		return nil, nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	m := newManifests()
	for _, res := range k.Resources {
		f, err := os.Open(filepath.Join(dir, res))
		if err != nil {
			return nil, nil, err
		}
		err = m.Add(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", res, err)
		}
	}
	return &k, m, nil
}

// Add decodes every YAML document of r strictly and files it by kind. An
// unknown field, a duplicate field, an unknown kind or a second object of
// the same kind and name is an error.
func (m *Manifests) Add(r io.Reader) error {
	docs := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for i := 0; ; i++ {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
		if isEmpty(doc) {
			continue
		}
		if err := m.addDocument(doc); err != nil {
			return fmt.Errorf("document %d: %w", i, err)
		}
	}
}

// isEmpty reports a document of comments and blank lines only.
func isEmpty(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return false
		}
	}
	return true
}

func (m *Manifests) addDocument(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	gvk := tm.GroupVersionKind()
	decode := func(obj any) error {
		if err := DecodeStrict(doc, obj); err != nil {
			return fmt.Errorf("%s: %w", gvk.Kind, err)
		}
		return nil
	}
	switch gvk.GroupVersion().String() + "/" + gvk.Kind {
	case "v1/Namespace":
		o := &corev1.Namespace{}
		if err := decode(o); err != nil {
			return err
		}
		return put(m.Namespaces, o.Name, o, gvk.Kind)
	case "v1/ServiceAccount":
		o := &corev1.ServiceAccount{}
		if err := decode(o); err != nil {
			return err
		}
		return put(m.ServiceAccounts, Key{o.Namespace, o.Name}, o, gvk.Kind)
	case "v1/Service":
		o := &corev1.Service{}
		if err := decode(o); err != nil {
			return err
		}
		return put(m.Services, Key{o.Namespace, o.Name}, o, gvk.Kind)
	case "v1/ConfigMap":
		o := &corev1.ConfigMap{}
		if err := decode(o); err != nil {
			return err
		}
		return put(m.ConfigMaps, Key{o.Namespace, o.Name}, o, gvk.Kind)
	case "apps/v1/Deployment":
		o := &appsv1.Deployment{}
		if err := decode(o); err != nil {
			return err
		}
		return put(m.Deployments, Key{o.Namespace, o.Name}, o, gvk.Kind)
	case "rbac.authorization.k8s.io/v1/Role":
		o := &rbacv1.Role{}
		if err := decode(o); err != nil {
			return err
		}
		return put(m.Roles, Key{o.Namespace, o.Name}, o, gvk.Kind)
	case "rbac.authorization.k8s.io/v1/ClusterRole":
		o := &rbacv1.ClusterRole{}
		if err := decode(o); err != nil {
			return err
		}
		return put(m.ClusterRoles, o.Name, o, gvk.Kind)
	case "rbac.authorization.k8s.io/v1/RoleBinding":
		o := &rbacv1.RoleBinding{}
		if err := decode(o); err != nil {
			return err
		}
		return put(m.RoleBindings, Key{o.Namespace, o.Name}, o, gvk.Kind)
	case "rbac.authorization.k8s.io/v1/ClusterRoleBinding":
		o := &rbacv1.ClusterRoleBinding{}
		if err := decode(o); err != nil {
			return err
		}
		return put(m.ClusterRoleBindings, o.Name, o, gvk.Kind)
	case "apiregistration.k8s.io/v1/APIService":
		o := &APIService{}
		if err := decode(o); err != nil {
			return err
		}
		return put(m.APIServices, o.Name, o, gvk.Kind)
	default:
		return fmt.Errorf("no type known for apiVersion %q kind %q", tm.APIVersion, tm.Kind)
	}
}

func put[K comparable, V any](into map[K]V, key K, obj V, kind string) error {
	if _, dup := into[key]; dup {
		return fmt.Errorf("%s %v appears twice", kind, key)
	}
	into[key] = obj
	return nil
}
