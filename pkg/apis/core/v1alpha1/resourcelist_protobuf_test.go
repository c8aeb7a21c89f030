package v1alpha1_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// field is one length-delimited protobuf field.
func field(num protowire.Number, value []byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, value)
}

// resourceEntry is one ResourceList map entry whose quantity's string is
// q, which resource.Quantity's own Marshal could never produce.
func resourceEntry(name, q string) []byte {
	return append(field(1, []byte(name)), field(2, field(1, []byte(q)))...)
}

// podWithRequests is a pod, in protobuf, whose second container requests
// cpu 1 and memory q.
func podWithRequests(t *testing.T, q string) []byte {
	t.Helper()
	first, err := (&v1alpha1.Container{Name: "a", Image: "i"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	second, err := (&v1alpha1.Container{Name: "b", Image: "i"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Fields may come in any order; a message field given again merges.
	requests := append(field(2, resourceEntry("cpu", "1")), field(2, resourceEntry("memory", q))...)
	second = append(second, field(9, requests)...) // Container.resources
	spec := append(field(1, first), field(1, second)...)
	pod, err := (&v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return append(pod, field(2, spec)...)
}

func TestProtobufResourceListRefusesCostlyQuantities(t *testing.T) {
	podType := reflect.TypeOf(v1alpha1.Pod{})
	for _, q := range costlyQuantities {
		q = strings.Trim(q, `"`)
		data := podWithRequests(t, q)
		_, err := v1alpha1.CheckProtobuf(data, podType)
		if err == nil {
			t.Errorf("%.60s: passed, want an error", q)
			continue
		}
		if want := `spec.containers[1].resources.requests: resource "memory"`; !strings.HasPrefix(err.Error(), want) || len(err.Error()) > 300 {
			t.Errorf("%.60s: error %q should start with %q and stay short", q, err, want)
		}
		// Unguarded, the generated code would parse it.
		withHangGuard(t, "the guard", func() { _, _ = v1alpha1.CheckProtobuf(data, podType) })
	}
}

func TestProtobufResourceListPassesValidQuantities(t *testing.T) {
	for _, q := range []string{"1", "100m", "1.5Gi", "1e3", "1E3", "5E", "1Ei", "9223372036854775807", "0.000000001", "1e-100", "1e100"} {
		data := podWithRequests(t, q)
		if _, err := v1alpha1.CheckProtobuf(data, reflect.TypeOf(&v1alpha1.Pod{})); err != nil {
			t.Errorf("%s: %v", q, err)
		}
		var pod v1alpha1.Pod
		if err := pod.Unmarshal(data); err != nil {
			t.Fatalf("%s: the generated decoder refused the test pod: %v", q, err)
		}
		if got := pod.Spec.Containers[1].Resources.Requests["memory"]; got.Cmp(resource.MustParse(q)) != 0 {
			t.Errorf("%s: decoded as %s", q, got.String())
		}
	}
}

// A node's capacity and allocatable are guarded too; so is a ResourceList
// reached through another group's types (apps.skiff.dev embeds a pod
// template), which the apiserver's tests cover.
func TestProtobufResourceListGuardsNodes(t *testing.T) {
	node, err := (&v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	status := field(2, resourceEntry("pods", "1e-2147483647")) // NodeStatus.allocatable
	node = append(node, field(3, status)...)
	_, err = v1alpha1.CheckProtobuf(node, reflect.TypeOf(v1alpha1.Node{}))
	if err == nil || !strings.HasPrefix(err.Error(), `status.allocatable: resource "pods"`) {
		t.Errorf("costly allocatable: %v", err)
	}
}

// Malformed data is the decoder's to refuse: the guard neither fails on it
// nor panics, whatever the length prefixes say.
func TestProtobufResourceListLeavesMalformedDataToTheDecoder(t *testing.T) {
	valid := podWithRequests(t, "1")
	cases := map[string][]byte{
		"empty":              nil,
		"garbage":            bytes.Repeat([]byte{0xff}, 64),
		"huge length prefix": append(protowire.AppendTag(nil, 2, protowire.BytesType), protowire.AppendVarint(nil, 1<<62)...),
		"bad varint":         bytes.Repeat([]byte{0x80}, 11),
		"group wire type":    protowire.AppendTag(nil, 2, protowire.StartGroupType),
	}
	for i := range valid {
		cases["truncated at "+string(rune('0'+i%10))+"/"+strings.Repeat("|", i/10)] = valid[:i]
	}
	for name, data := range cases {
		if _, err := v1alpha1.CheckProtobuf(data, reflect.TypeOf(v1alpha1.Pod{})); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestProtobufResourceListAllocatesNothing(t *testing.T) {
	data := podWithRequests(t, "1")
	podType := reflect.TypeOf(v1alpha1.Pod{})
	_, _ = v1alpha1.CheckProtobuf(data, podType) // builds the plan
	if n := testing.AllocsPerRun(100, func() { _, _ = v1alpha1.CheckProtobuf(data, podType) }); n != 0 {
		t.Errorf("checking a pod made %v allocations, want none", n)
	}
}

// TestProtobufElementBytes: what the elements of repeated fields cost once
// decoded, which a body of many empty elements inflates.
func TestProtobufElementBytes(t *testing.T) {
	containerSize := uint64(reflect.TypeOf(v1alpha1.Container{}).Size())
	cases := []struct {
		name string
		spec []byte
		want uint64
	}{
		{name: "no containers", want: 0},
		{name: "two containers", spec: append(field(1, nil), field(1, nil)...), want: 2 * containerSize},
		{name: "a container with two command words", spec: field(1, append(field(4, []byte("a")), field(4, []byte("b"))...)),
			want: containerSize + 2*uint64(reflect.TypeOf("").Size())},
		{name: "a million empty containers", spec: bytes.Repeat(field(1, nil), 1<<20), want: 1 << 20 * containerSize},
	}
	for _, c := range cases {
		pod, err := (&v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if c.spec != nil {
			pod = append(pod, field(2, c.spec)...)
		}
		got, err := v1alpha1.CheckProtobuf(pod, reflect.TypeOf(v1alpha1.Pod{}))
		if err != nil || got != c.want {
			t.Errorf("%s: %d bytes (err %v), want %d", c.name, got, err, c.want)
		}
	}
}
