package pod

import (
	"fmt"
	"net/url"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// kubeletQuery encodes a pods/log request's options as the query of the
// kubelet's containerLogs URL: v1alpha1.PodLogOptions through the scheme's
// parameter codec, which the kubelet decodes with the same codec. The
// container is in the URL's path, so it is left out of the query.
func (r *LogREST) kubeletQuery(o *core.PodLogOptions) (url.Values, error) {
	opts := o.DeepCopy()
	opts.Container = ""
	q, err := r.params.EncodeParameters(opts, v1alpha1.SchemeGroupVersion)
	if err != nil {
		return nil, fmt.Errorf("encode log options for the kubelet: %w", err)
	}
	// The codec names the kind and version; the kubelet needs neither.
	q.Del("kind")
	q.Del("apiVersion")
	return q, nil
}
