package v1alpha1

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	sigsjson "sigs.k8s.io/json"
)

// A container's requests as the API server decodes them, from a request
// body or from etcd.
var requestsJSON = []byte(`{"cpu":"100m","memory":"128Mi","pods":"110","ephemeral-storage":"10Gi"}`)

// unguardedResourceList decodes as ResourceList would without its
// UnmarshalJSON: the cost the guard adds is the difference.
type unguardedResourceList map[ResourceName]resource.Quantity

// BenchmarkResourceListDecode compares decoding with the costly-quantity
// guard to decoding without it, with the decoder the API server uses:
//
//	go test -run - -bench ResourceListDecode ./pkg/apis/core/v1alpha1/
func BenchmarkResourceListDecode(b *testing.B) {
	b.Run("guarded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var rl ResourceList
			if err := sigsjson.UnmarshalCaseSensitivePreserveInts(requestsJSON, &rl); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unguarded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var rl unguardedResourceList
			if err := sigsjson.UnmarshalCaseSensitivePreserveInts(requestsJSON, &rl); err != nil {
				b.Fatal(err)
			}
		}
	})
}
