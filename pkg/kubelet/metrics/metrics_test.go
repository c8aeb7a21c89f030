package metrics

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/kubelet/runtime"
	"skiff.dev/skiff/pkg/kubelet/runtime/fake"
)

func scrape(t *testing.T, m *Metrics) string {
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func TestMetrics(t *testing.T) {
	m := New(func() map[v1alpha1.PodPhase]int {
		return map[v1alpha1.PodPhase]int{v1alpha1.PodRunning: 3, v1alpha1.PodFailed: 1}
	})
	m.PodRunning(700 * time.Millisecond)
	m.PodRunning(3 * time.Second)

	rt := fake.New()
	inst := m.InstrumentRuntime(rt)
	pod := &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", UID: "u"}}
	rt.SetStartError("u", "bad", &runtime.StartError{Reason: runtime.ReasonErrImagePull, Message: "nope"})
	_, _ = inst.StartContainer(context.Background(), pod, &v1alpha1.Container{Name: "ok"}, 0)
	_, _ = inst.StartContainer(context.Background(), pod, &v1alpha1.Container{Name: "bad"}, 0)
	rt.SetVersionError(errors.New("down"))
	_, _ = inst.Version(context.Background())

	out := scrape(t, m)
	for _, want := range []string{
		`skiff_kubelet_pods{phase="Running"} 3`,
		`skiff_kubelet_pods{phase="Failed"} 1`,
		`skiff_kubelet_pods{phase="Pending"} 0`,
		`skiff_kubelet_pod_start_duration_seconds_count 2`,
		`skiff_kubelet_pod_start_duration_seconds_bucket{le="1"} 1`,
		`skiff_kubelet_runtime_operations_duration_seconds_count{operation="start_container"} 2`,
		`skiff_kubelet_runtime_operations_errors_total{operation="start_container"} 1`,
		`skiff_kubelet_runtime_operations_errors_total{operation="version"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
