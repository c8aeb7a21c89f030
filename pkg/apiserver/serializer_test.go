package apiserver

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

func field(num protowire.Number, value []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), value)
}

// envelope is a protobuf request body: the prefix and a runtime.Unknown.
func envelope(apiVersion, kind string, raw []byte) []byte {
	typeMeta := append(field(1, []byte(apiVersion)), field(2, []byte(kind))...)
	return append(append(append([]byte{}, protobufPrefix...), field(1, typeMeta)...), field(2, raw)...)
}

func podWithLimit(t *testing.T, q string) []byte {
	t.Helper()
	meta, err := (&v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	entry := append(field(1, []byte("cpu")), field(2, field(1, []byte(q)))...)
	container := append(append(field(1, []byte("c")), field(2, []byte("i"))...), field(9, field(1, entry))...)
	return append(meta, field(2, field(1, container))...)
}

// decoders are what the request handlers decode protobuf bodies with: the
// strict serializer for creates and updates, the other for the rest.
func decoders(t *testing.T) map[string]kruntime.Decoder {
	t.Helper()
	info, ok := kruntime.SerializerInfoForMediaType(skiffCodecs.SupportedMediaTypes(), kruntime.ContentTypeProtobuf)
	if !ok {
		t.Fatal("skiff's groups offer no protobuf")
	}
	internal := schema.GroupVersion{Group: core.GroupName, Version: kruntime.APIVersionInternal}
	return map[string]kruntime.Decoder{
		"serializer":        skiffCodecs.DecoderToVersion(info.Serializer, internal),
		"strict serializer": skiffCodecs.DecoderToVersion(info.StrictSerializer, internal),
	}
}

func TestProtobufBodiesAreGuardedAgainstCostlyQuantities(t *testing.T) {
	costly := envelope("core.skiff.dev/v1alpha1", "Pod", podWithLimit(t, "1e-2147483647"))
	fine := envelope("core.skiff.dev/v1alpha1", "Pod", podWithLimit(t, "250m"))
	// No apiVersion or kind: the URL's, as a client may leave them out.
	untyped := append(append([]byte{}, protobufPrefix...), field(2, podWithLimit(t, "1e1000000000"))...)
	defaults := &schema.GroupVersionKind{Group: "core.skiff.dev", Version: "v1alpha1", Kind: "Pod"}
	for name, d := range decoders(t) {
		for _, body := range [][]byte{costly, untyped} {
			// Unguarded, the decode would run for minutes.
			done := make(chan error, 1)
			go func() { _, _, err := d.Decode(body, defaults, &core.Pod{}); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), `spec.containers[0].resources.limits: resource "cpu"`) {
					t.Errorf("%s: a costly quantity gave %v, want the guard's error", name, err)
				}
			case <-time.After(time.Minute):
				t.Fatalf("%s: decoding a costly quantity did not return within a minute", name)
			}
		}
		obj, _, err := d.Decode(fine, defaults, &core.Pod{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := obj.(*core.Pod).Spec.Containers[0].Resources.Limits["cpu"]; got.String() != "250m" {
			t.Errorf("%s: decoded limit %s, want 250m", name, got.String())
		}
	}
}

// TestBadProtobufBodiesAllocateLittle: a length prefix is only believed
// as far as the body goes, so no bad body makes the decoder allocate more
// than a small multiple of its own size.
func TestBadProtobufBodiesAllocateLittle(t *testing.T) {
	huge := func(num protowire.Number) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.BytesType), 1<<62)
	}
	valid := envelope("core.skiff.dev/v1alpha1", "Pod", podWithLimit(t, "1"))
	cases := map[string][]byte{
		"garbage":                          append(append([]byte{}, protobufPrefix...), bytes.Repeat([]byte{0xff}, 1000)...),
		"a huge length in the envelope":    append(append([]byte{}, protobufPrefix...), huge(2)...),
		"a huge length in the pod":         envelope("core.skiff.dev/v1alpha1", "Pod", huge(2)),
		"a huge length in a container":     envelope("core.skiff.dev/v1alpha1", "Pod", field(2, huge(1))),
		"a huge length in a resource list": envelope("core.skiff.dev/v1alpha1", "Pod", field(2, field(1, field(9, huge(1))))),
		"a huge length in the type":        append(append([]byte{}, protobufPrefix...), huge(1)...),
		"truncated":                        valid[:len(valid)-3],
		"an unknown kind":                  envelope("core.skiff.dev/v1alpha1", "Pony", huge(2)),
		// Each two bytes would be a 200-byte Container: 1.7 GiB unguarded.
		"3 MiB of empty containers":    envelope("core.skiff.dev/v1alpha1", "Pod", field(2, bytes.Repeat([]byte{0x0a, 0x00}, 3<<20/2))),
		"3 MiB of empty command words": envelope("core.skiff.dev/v1alpha1", "Pod", field(2, field(1, bytes.Repeat([]byte{0x22, 0x00}, 3<<20/2)))),
	}
	for decoderName, d := range decoders(t) {
		for name, body := range cases {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, err := d.Decode(body, nil, &core.Pod{})
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Errorf("%s, %s: decoded", decoderName, name)
			}
			if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 64<<10+16*uint64(len(body)) {
				t.Errorf("%s, %s: %d bytes allocated for a %d-byte body", decoderName, name, allocated, len(body))
			}
		}
	}
}
