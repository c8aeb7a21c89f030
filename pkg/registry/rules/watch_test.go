package rules

import (
	"bytes"
	"io"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/pkg/apis/core"
)

// TestShareEncodings: watchers each handed their own copy of one object
// version get one shared object, encoded once for all of them; another
// version is another object.
func TestShareEncodings(t *testing.T) {
	pod := &core.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", UID: "u1", ResourceVersion: "7"}}
	const watchers = 5
	var got []k8sruntime.Object
	for i := 0; i < watchers; i++ {
		fake := watch.NewFake()
		w := shareEncodings(fake)
		go fake.Add(pod.DeepCopy()) // each watcher its own copy, as the watch cache does
		ev := <-w.ResultChan()
		got = append(got, ev.Object)
		w.Stop()
	}
	encodes := 0
	encode := func(obj k8sruntime.Object, w io.Writer) error {
		encodes++
		_, err := w.Write([]byte(obj.(*core.Pod).Name))
		return err
	}
	for i, obj := range got {
		if obj != got[0] {
			t.Fatalf("watcher %d got %p, watcher 0 %p: not shared", i, obj, got[0])
		}
		co, ok := obj.(k8sruntime.CacheableObject)
		if !ok {
			t.Fatalf("watcher %d got a %T, not a cacheable object", i, obj)
		}
		var buf bytes.Buffer
		if err := co.CacheEncode("json", encode, &buf); err != nil || buf.String() != "p" {
			t.Fatalf("watcher %d encoded %q, %v", i, buf.String(), err)
		}
	}
	if encodes != 1 {
		t.Errorf("encoded %d times for %d watchers, want once", encodes, watchers)
	}

	newer := pod.DeepCopy()
	newer.ResourceVersion = "8"
	if shared(watch.Modified, newer) == got[0] {
		t.Error("another resourceVersion shares the old version's object")
	}
	if obj := shared(watch.Bookmark, pod); obj != k8sruntime.Object(pod) {
		t.Error("a bookmark was wrapped")
	}
}
