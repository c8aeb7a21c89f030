package pod

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	genericrest "k8s.io/apiserver/pkg/registry/generic/rest"
	"k8s.io/apiserver/pkg/registry/rest"

	"skiff.dev/skiff/pkg/apis/core"
)

// LogREST is pods/log: it streams a container's log from the kubelet of the
// node the pod runs on.
type LogREST struct {
	store *genericregistry.Store
	conn  ConnectionInfoGetter
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
	info, err := r.conn.GetConnectionInfo(ctx, pod.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	q, err := r.kubeletQuery(logOpts)
	if err != nil {
		return nil, err
	}
	loc := info.URL(fmt.Sprintf("/containerLogs/%s/%s/%s", pod.Namespace, pod.Name, container), q)
	return &kubeletStreamer{node: pod.Spec.NodeName, LocationStreamer: &genericrest.LocationStreamer{
		Location:        loc,
		Transport:       info.Transport,
		ContentType:     "text/plain",
		Flush:           logOpts.Follow,
		ResponseChecker: genericrest.NewGenericHttpResponseChecker(core.Resource("pods/log"), pod.Name),
		RedirectChecker: genericrest.PreventRedirects,
	}}, nil
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
