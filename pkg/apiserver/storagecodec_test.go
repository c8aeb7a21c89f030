package apiserver

import (
	"bytes"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/pkg/apis/core"
)

func TestStorageCodec(t *testing.T) {
	pod := &core.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: core.PodSpec{NodeName: "n1"}}
	encoded := map[string][]byte{}
	for _, c := range []struct {
		mediaType string
		prefix    []byte
	}{
		{runtime.ContentTypeProtobuf, []byte("k8s\x00")},
		{runtime.ContentTypeJSON, []byte("{")},
	} {
		codec, err := StorageCodec(c.mediaType)
		if err != nil {
			t.Fatal(err)
		}
		data, err := runtime.Encode(codec, pod)
		if err != nil {
			t.Fatalf("encode as %s: %v", c.mediaType, err)
		}
		if !bytes.HasPrefix(data, c.prefix) {
			t.Errorf("stored as %s: %q, want the prefix %q", c.mediaType, data, c.prefix)
		}
		encoded[c.mediaType] = data
	}
	// Either codec reads what the other wrote: a switch of
	// --storage-media-type leaves the stored data readable.
	for _, mediaType := range []string{runtime.ContentTypeProtobuf, runtime.ContentTypeJSON} {
		codec, _ := StorageCodec(mediaType)
		for written, data := range encoded {
			obj, err := runtime.Decode(codec, data)
			if err != nil {
				t.Fatalf("codec for %s decoding %s: %v", mediaType, written, err)
			}
			if got, ok := obj.(*core.Pod); !ok || got.Name != "p" || got.Spec.NodeName != "n1" {
				t.Errorf("codec for %s decoding %s = %#v, want the internal pod", mediaType, written, obj)
			}
		}
	}
	if _, err := StorageCodec("application/x-unknown"); err == nil {
		t.Error("an unknown storage media type was accepted")
	}
}
