package pod

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	genericrest "k8s.io/apiserver/pkg/registry/generic/rest"
	"k8s.io/apiserver/pkg/registry/rest"

	"skiff.dev/skiff/pkg/apis/core"
)

// NodeGetter finds a node by name; the log proxy asks it where a pod's
// kubelet listens.
type NodeGetter interface {
	Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error)
}

// KubeletConnection is how the API server reaches kubelets: a transport that
// presents the API server's kubelet-client certificate.
type KubeletConnection struct {
	Transport http.RoundTripper
}

// LogREST is pods/log: it streams a container's log from the kubelet of the
// node the pod runs on.
type LogREST struct {
	store   *genericregistry.Store
	nodes   NodeGetter
	kubelet KubeletConnection
	// params encodes the options for the kubelet, in the version it decodes.
	params runtime.ParameterCodec
}

var (
	_ rest.GetterWithOptions    = &LogREST{}
	_ rest.StorageMetadata      = &LogREST{}
	_ rest.SingularNameProvider = &LogREST{}
)

// New returns an empty pod (the parent resource's type).
func (r *LogREST) New() runtime.Object { return &core.Pod{} }

// Destroy does nothing: the main store owns the storage.
func (r *LogREST) Destroy() {}

// GetSingularName names the subresource.
func (r *LogREST) GetSingularName() string { return "pod" }

// ProducesMIMETypes: a log is text.
func (r *LogREST) ProducesMIMETypes(string) []string { return []string{"text/plain"} }

// ProducesObject: a log is a string, not an object.
func (r *LogREST) ProducesObject(string) interface{} { return "" }

// NewGetOptions returns the query parameters pods/log accepts.
func (r *LogREST) NewGetOptions() (runtime.Object, bool, string) {
	return &core.PodLogOptions{}, false, ""
}

// Get returns a streamer that copies the kubelet's answer to the client.
func (r *LogREST) Get(ctx context.Context, name string, opts runtime.Object) (runtime.Object, error) {
	logOpts, ok := opts.(*core.PodLogOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %T", opts))
	}
	if errs := validateLogOptions(logOpts); len(errs) > 0 {
		return nil, apierrors.NewInvalid(core.Kind("PodLogOptions"), name, errs)
	}
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	pod := obj.(*core.Pod)
	container, err := chooseContainer(pod, logOpts.Container)
	if err != nil {
		return nil, err
	}
	if pod.Spec.NodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	loc, err := r.kubeletURL(ctx, pod.Spec.NodeName, pod.Namespace, pod.Name, container, logOpts)
	if err != nil {
		return nil, err
	}
	if r.kubelet.Transport == nil {
		return nil, apierrors.NewServiceUnavailable("this API server has no kubelet client configured")
	}
	return &kubeletStreamer{node: pod.Spec.NodeName, LocationStreamer: &genericrest.LocationStreamer{
		Location:        loc,
		Transport:       r.kubelet.Transport,
		ContentType:     "text/plain",
		Flush:           logOpts.Follow,
		ResponseChecker: genericrest.NewGenericHttpResponseChecker(core.Resource("pods/log"), pod.Name),
		RedirectChecker: genericrest.PreventRedirects,
	}}, nil
}

// kubeletURL is the kubelet's containerLogs URL for the container, on the
// node's preferred address and its advertised kubelet port.
func (r *LogREST) kubeletURL(ctx context.Context, nodeName, namespace, podName, container string, o *core.PodLogOptions) (*url.URL, error) {
	obj, err := r.nodes.Get(ctx, nodeName, &metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("find node %s of pod %s/%s: %w", nodeName, namespace, podName, err)
	}
	node := obj.(*core.Node)
	host := NodeAddress(node)
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	if host == "" || port <= 0 {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %s has not reported its kubelet's address and port", nodeName))
	}
	q, err := r.kubeletQuery(o)
	if err != nil {
		return nil, err
	}
	return &url.URL{
		Scheme:   "https",
		Host:     net.JoinHostPort(host, strconv.Itoa(int(port))),
		Path:     fmt.Sprintf("/containerLogs/%s/%s/%s", namespace, podName, container),
		RawQuery: q.Encode(),
	}, nil
}

// NodeAddress picks the address to reach a node at, in upstream's order of
// preference.
func NodeAddress(node *core.Node) string {
	for _, t := range []core.NodeAddressType{core.NodeInternalIP, core.NodeExternalIP, core.NodeInternalDNS, core.NodeExternalDNS, core.NodeHostName} {
		for _, a := range node.Status.Addresses {
			if a.Type == t && a.Address != "" {
				return a.Address
			}
		}
	}
	return ""
}

// chooseContainer returns the named container, or the only one when none is
// named, with upstream's messages when that is not possible.
func chooseContainer(pod *core.Pod, name string) (string, error) {
	names := make([]string, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return name, nil
		}
		names = append(names, c.Name)
	}
	switch {
	case name != "":
		return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
	case len(names) == 1:
		return names[0], nil
	default:
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names))
	}
}

func validateLogOptions(o *core.PodLogOptions) field.ErrorList {
	var errs field.ErrorList
	if o.TailLines != nil && *o.TailLines < 0 {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), *o.TailLines, "must be greater than or equal to 0"))
	}
	if o.LimitBytes != nil && *o.LimitBytes < 1 {
		errs = append(errs, field.Invalid(field.NewPath("limitBytes"), *o.LimitBytes, "must be greater than 0"))
	}
	if o.SinceSeconds != nil && *o.SinceSeconds < 1 {
		errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), *o.SinceSeconds, "must be greater than 0"))
	}
	if o.SinceSeconds != nil && o.SinceTime != nil {
		errs = append(errs, field.Forbidden(field.NewPath("sinceTime"), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
	}
	return errs
}
