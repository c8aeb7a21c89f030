package v1alpha1_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/install"
	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// withHangGuard fails the test if f has not returned within a minute: the
// inputs below make an unguarded ParseQuantity run for minutes or forever.
func withHangGuard(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not return within a minute", what)
	}
}

func TestResourceListDecodesValidQuantities(t *testing.T) {
	for _, q := range []string{`"1"`, `"100m"`, `"1.5Gi"`, `"1e3"`, `"1E3"`, `"5E"`, `"1Ei"`, `"9223372036854775807"`,
		`"0.000000001"`, `"1e-100"`, `"1e100"`, `5`, `"  2  "`, `null`} {
		data := []byte(`{"cpu":` + q + `}`)
		var got v1alpha1.ResourceList
		if err := json.Unmarshal(data, &got); err != nil {
			t.Errorf("%s: %v", data, err)
			continue
		}
		// What the plain map type decodes.
		var want map[v1alpha1.ResourceName]resource.Quantity
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("%s as a plain map: %v", data, err)
		}
		g, w := got["cpu"], want["cpu"]
		if len(got) != 1 || g.Cmp(w) != 0 || g.String() != w.String() {
			t.Errorf("%s decoded to %v, want %v", data, got, want)
		}
	}
}

func TestResourceListNullAndMerge(t *testing.T) {
	rl := v1alpha1.ResourceList{"memory": resource.MustParse("1Gi")}
	if err := json.Unmarshal([]byte(`{"cpu":"1"}`), &rl); err != nil {
		t.Fatal(err)
	}
	// Like encoding/json with a map: existing keys stay.
	if len(rl) != 2 {
		t.Errorf("decoding into a non-empty list gave %v, want memory and cpu", rl)
	}
	if err := json.Unmarshal([]byte(`null`), &rl); err != nil || rl != nil {
		t.Errorf("null decoded to %v (err %v), want nil", rl, err)
	}
	if err := json.Unmarshal([]byte(`["cpu"]`), &rl); err == nil {
		t.Errorf("an array decoded as a resource list")
	}
}

// costlyQuantities take an unguarded ParseQuantity from seconds to forever,
// or are silently misread by it.
var costlyQuantities = []string{
	`"1e-2147483647"`, `"1.5e-2147483647"`, `"1e-100000000"`, `"1e1000000000"`, `"1e101"`, `"1e-101"`,
	`"1e4294967297"`, `"1e-000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001"`,
	`"` + strings.Repeat("9", 129) + `"`, `"0.` + strings.Repeat("0", 1000) + `1"`, `1e-999999999`, `"  1e-2147483647 "`,
}

func TestResourceListRefusesCostlyQuantities(t *testing.T) {
	for _, q := range costlyQuantities {
		data := []byte(`{"cpu":"1","memory":` + q + `}`)
		var rl v1alpha1.ResourceList
		var err error
		withHangGuard(t, "decoding "+q[:min(len(q), 30)], func() { err = json.Unmarshal(data, &rl) })
		if err == nil {
			t.Errorf("%.60s: decoded to %v, want an error", q, rl)
			continue
		}
		if !strings.Contains(err.Error(), `resource "memory"`) || len(err.Error()) > 300 {
			t.Errorf("%.60s: error %q should name the resource and stay short", q, err)
		}
	}
}

func TestResourceListKeepsParseErrors(t *testing.T) {
	var rl v1alpha1.ResourceList
	err := json.Unmarshal([]byte(`{"cpu":"abc"}`), &rl)
	if err == nil || err.Error() != resource.ErrFormatWrong.Error() {
		t.Errorf("malformed quantity: error %v, want apimachinery's %v", err, resource.ErrFormatWrong)
	}
}

// TestCostlyQuantitiesRefusedOnEveryDecodePath decodes a pod with a costly
// quantity the ways the API server does: a request body through the codec,
// and a patched object through the unstructured converter (strategic-merge
// and apply patches).
func TestCostlyQuantitiesRefusedOnEveryDecodePath(t *testing.T) {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	decoder := serializer.NewCodecFactory(scheme).UniversalDecoder()
	for _, q := range costlyQuantities {
		body := fmt.Sprintf(`{"apiVersion":"core.skiff.dev/v1alpha1","kind":"Pod","metadata":{"name":"p"},
"spec":{"containers":[{"name":"c","image":"i","resources":{"requests":{"cpu":%s}}}]}}`, q)
		withHangGuard(t, "codec decode", func() {
			if _, _, err := decoder.Decode([]byte(body), nil, &core.Pod{}); err == nil {
				t.Errorf("%.60s: the codec decoded the pod", q)
			}
		})
		if !strings.HasPrefix(q, `"`) {
			continue // as unstructured data a bare number is a float64, harmless
		}
		var u map[string]any
		if err := json.Unmarshal([]byte(body), &u); err != nil {
			t.Fatal(err)
		}
		withHangGuard(t, "unstructured conversion", func() {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, &v1alpha1.Pod{}); err == nil {
				t.Errorf("%.60s: the unstructured converter decoded the pod", q)
			}
		})
	}
}
