package rules

import (
	"bytes"
	"io"
	"runtime"
	"sync"
	"weak"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// The watch cache hands each watcher its own deep copy of every object it
// sends from its store or its history: the initial state of a watch from
// resourceVersion 0 and the events replayed to a watch from an older
// resourceVersion. Only the events it dispatches live are shared
// (k8s.io/apiserver's cachingObject), encoded once for all watchers. A
// private copy is encoded by each watcher into buffers its watch session
// keeps for its lifetime, so N watchers starting together over an object
// of S bytes cost N copies, N encodings and N retained buffers of about S
// each: 200 informers starting over one 1.5 MB pod took the heap from 79 MB
// to 3.8 GB.
//
// shareEncodings gives those events the same treatment as the live ones:
// every copy of one object version is replaced by one shared object that
// caches its encodings, so the object is encoded once per format and the
// watchers' buffers stay small (a watch session writes cached bytes
// straight through). The shared objects are held weakly: once no watcher
// still has one in flight it is collected with its encodings.
func shareEncodings(w watch.Interface) watch.Interface {
	out := &sharedWatch{in: w, result: make(chan watch.Event), done: make(chan struct{})}
	go out.run()
	return out
}

type sharedWatch struct {
	in     watch.Interface
	result chan watch.Event
	done   chan struct{}
	once   sync.Once
}

func (w *sharedWatch) Stop() {
	w.once.Do(func() { close(w.done) })
	w.in.Stop()
}

func (w *sharedWatch) ResultChan() <-chan watch.Event { return w.result }

func (w *sharedWatch) run() {
	defer close(w.result)
	for {
		select {
		case ev, ok := <-w.in.ResultChan():
			if !ok {
				return
			}
			ev.Object = shared(ev.Type, ev.Object)
			select {
			case w.result <- ev:
			case <-w.done:
				return
			}
		case <-w.done:
			return
		}
	}
}

// versionKey names one version of one object.
type versionKey struct {
	uid             types.UID
	resourceVersion string
}

// sharedObjects maps a version of an object to its shared wrapper while
// any watcher holds it.
var sharedObjects sync.Map // versionKey → weak.Pointer[sharedObject]

// shared returns the shared wrapper of obj's version, creating it from obj
// when there is none. Objects the watch cache already shares, bookmarks and
// errors, and objects without a UID and resourceVersion pass unchanged.
func shared(t watch.EventType, obj k8sruntime.Object) k8sruntime.Object {
	if t != watch.Added && t != watch.Modified && t != watch.Deleted {
		return obj
	}
	if _, ok := obj.(k8sruntime.CacheableObject); ok {
		return obj
	}
	m, ok := obj.(metaObject)
	if !ok {
		return obj
	}
	key := versionKey{uid: m.GetUID(), resourceVersion: m.GetResourceVersion()}
	if key.uid == "" || key.resourceVersion == "" {
		return obj
	}
	for {
		if v, ok := sharedObjects.Load(key); ok {
			if s := v.(weak.Pointer[sharedObject]).Value(); s != nil {
				return s
			}
			sharedObjects.CompareAndDelete(key, v)
		}
		s := &sharedObject{metaObject: m}
		wp := weak.Make(s)
		if _, loaded := sharedObjects.LoadOrStore(key, wp); loaded {
			continue // another watcher stored one first: use it
		}
		runtime.AddCleanup(s, func(k versionKey) { sharedObjects.CompareAndDelete(k, wp) }, key)
		return s
	}
}

type metaObject interface {
	k8sruntime.Object
	metav1.Object
}

// sharedObject is one version of an object, read by many watchers, that
// encodes itself once per encoder. It is never modified: the watch
// handlers only encode what they are sent, and GetObject and
// DeepCopyObject hand out copies.
type sharedObject struct {
	metaObject

	mu        sync.Mutex
	encodings map[k8sruntime.Identifier]*encoding
}

type encoding struct {
	once sync.Once
	raw  []byte
	err  error
}

var (
	_ k8sruntime.CacheableObject = &sharedObject{}
	_ metav1.Object              = &sharedObject{}
)

// CacheEncode writes the object as encode writes it, encoding it only the
// first time for id.
func (s *sharedObject) CacheEncode(id k8sruntime.Identifier, encode func(k8sruntime.Object, io.Writer) error, w io.Writer) error {
	s.mu.Lock()
	if s.encodings == nil {
		s.encodings = map[k8sruntime.Identifier]*encoding{}
	}
	e, ok := s.encodings[id]
	if !ok {
		e = &encoding{}
		s.encodings[id] = e
	}
	s.mu.Unlock()
	e.once.Do(func() {
		var buf bytes.Buffer
		// A copy: encoders may set fields (the kind) on what they encode.
		e.err = encode(s.GetObject(), &buf)
		// Exactly sized: the encoding is kept as long as the object.
		e.raw = bytes.Clone(buf.Bytes())
	})
	if e.err != nil {
		return e.err
	}
	if sp, ok := w.(k8sruntime.Splice); ok {
		sp.Splice(e.raw)
		return nil
	}
	_, err := w.Write(e.raw)
	return err
}

// GetObject returns a copy of the object, the caller's to change.
func (s *sharedObject) GetObject() k8sruntime.Object { return s.metaObject.DeepCopyObject() }

// DeepCopyObject returns a copy of the plain object.
func (s *sharedObject) DeepCopyObject() k8sruntime.Object { return s.metaObject.DeepCopyObject() }
