package pod

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// TestKubeletQueryRoundTrips: the query the API server sends is what the
// kubelet's decoding (the same scheme's parameter codec) reads back.
func TestKubeletQueryRoundTrips(t *testing.T) {
	scheme := testScheme()
	r := &LogREST{params: runtime.NewParameterCodec(scheme)}
	since := metav1.NewTime(time.Date(2026, 5, 1, 10, 0, 2, 0, time.UTC))
	n := int64(5)
	in := &core.PodLogOptions{Container: "main", Follow: true, Previous: true, Timestamps: true, TailLines: &n, LimitBytes: &n, SinceTime: &since}
	q, err := r.kubeletQuery(in)
	if err != nil {
		t.Fatal(err)
	}
	if q.Has("container") || q.Has("kind") || q.Has("apiVersion") {
		t.Errorf("query %v names what the path or nobody needs", q)
	}
	if got := q.Get("sinceTime"); got != "2026-05-01T10:00:02Z" {
		t.Errorf("sinceTime=%q, want RFC 3339", got)
	}
	var out v1alpha1.PodLogOptions
	if err := runtime.NewParameterCodec(scheme).DecodeParameters(q, v1alpha1.SchemeGroupVersion, &out); err != nil {
		t.Fatalf("decode %v: %v", q, err)
	}
	if !out.Follow || !out.Previous || !out.Timestamps || *out.TailLines != 5 || *out.LimitBytes != 5 || !out.SinceTime.Equal(&since) {
		t.Errorf("decoded %+v from %v, want %+v", out, q, in)
	}
}
