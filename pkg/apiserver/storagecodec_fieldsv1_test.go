//go:build fieldsv1string

package apiserver

import (
	"fmt"
	"testing"
	"unsafe"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/pkg/apis/core"
)

// TestStoredPodsShareTheirFieldSets: built as the Makefile builds skiff
// (the fieldsv1string tag), pods decoded from etcd with the same managed
// field set hold one copy of it between them, whichever media type they
// were stored in, which is what keeps the watch cache's history of
// thousands of identical pods small.
func TestStoredPodsShareTheirFieldSets(t *testing.T) {
	set := `{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{}}}}}`
	for _, mediaType := range []string{runtime.ContentTypeProtobuf, runtime.ContentTypeJSON} {
		codec, err := StorageCodec(mediaType)
		if err != nil {
			t.Fatal(err)
		}
		var sets []string
		for i := range 2 {
			pod := &core.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i), Namespace: "ns",
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "bench", Operation: metav1.ManagedFieldsOperationUpdate,
					FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(set)}}}}
			data, err := runtime.Encode(codec, pod)
			if err != nil {
				t.Fatalf("encode as %s: %v", mediaType, err)
			}
			obj, err := runtime.Decode(codec, data)
			if err != nil {
				t.Fatalf("decode %s: %v", mediaType, err)
			}
			got := obj.(*core.Pod).ManagedFields
			if len(got) != 1 || got[0].FieldsV1.GetRawString() != set {
				t.Fatalf("decoded %s managedFields = %+v, want the one set", mediaType, got)
			}
			sets = append(sets, got[0].FieldsV1.GetRawString())
		}
		if unsafe.StringData(sets[0]) != unsafe.StringData(sets[1]) {
			t.Errorf("%s: two decoded pods hold two copies of the same field set", mediaType)
		}
	}
}
