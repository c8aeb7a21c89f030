package bench

import "testing"

func TestSumWrites(t *testing.T) {
	metrics := `# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="GET",version="v1alpha1"} 100
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1alpha1"} 7
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 3
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="DELETE",version="v1alpha1"} 2e+00
`
	got, err := sumWrites([]byte(metrics))
	if err != nil || got != 12 {
		t.Errorf("sumWrites = %v, %v; want 12", got, err)
	}
	if _, err := sumWrites([]byte("process_resident_memory_bytes 5\n")); err == nil {
		t.Error("no error without apiserver_request_total")
	}
}
