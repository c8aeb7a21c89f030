package apiserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	genericrequest "k8s.io/apiserver/pkg/endpoints/request"
	utilflowcontrol "k8s.io/apiserver/pkg/util/flowcontrol"
)

func TestWithDeadlineMargin(t *testing.T) {
	cases := []struct {
		name       string
		timeout    time.Duration // 0: no deadline
		wantMargin time.Duration
	}{
		{"no deadline is left alone", 0, 0},
		{"long timeouts lose at most a second", 60 * time.Second, time.Second},
		{"short timeouts lose a tenth", 2 * time.Second, 200 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var reqDeadline time.Time
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				reqDeadline = time.Now().Add(tc.timeout)
				ctx, cancel = context.WithDeadline(ctx, reqDeadline)
				defer cancel()
			}
			var got time.Time
			var has bool
			h := withDeadlineMargin(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				got, has = r.Context().Deadline()
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
			if tc.timeout == 0 {
				if has {
					t.Fatalf("handler got a deadline %v; the request had none", got)
				}
				return
			}
			if !has {
				t.Fatal("handler got no deadline")
			}
			margin := reqDeadline.Sub(got)
			// time.Until runs a moment after the deadline was set, so the
			// tenth is of slightly less than the timeout.
			if margin > tc.wantMargin || margin < tc.wantMargin-10*time.Millisecond {
				t.Errorf("deadline brought forward by %v, want about %v", margin, tc.wantMargin)
			}
		})
	}
}

// TestWithWatchInitLimit: watches wait for a slot to initialize, and give
// it up once initialized, not when they end hours later.
func TestWithWatchInitLimit(t *testing.T) {
	const slots, watches = 2, 10
	var mu sync.Mutex
	var initializing, most, initialized int
	end := make(chan struct{})
	h := withWatchInitLimit(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		initializing++
		most = max(most, initializing)
		mu.Unlock()
		time.Sleep(10 * time.Millisecond) // sending the initial events
		mu.Lock()
		initializing--
		initialized++
		mu.Unlock()
		utilflowcontrol.WatchInitialized(r.Context())
		<-end // the watch goes on
	}), slots)
	request := func(verb string) *http.Request {
		info := &genericrequest.RequestInfo{IsResourceRequest: true, Verb: verb, Resource: "pods"}
		return httptest.NewRequest(http.MethodGet, "/", nil).WithContext(genericrequest.WithRequestInfo(context.Background(), info))
	}
	var wg sync.WaitGroup
	for i := 0; i < watches; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.ServeHTTP(httptest.NewRecorder(), request("watch"))
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := initialized
		mu.Unlock()
		if n == watches {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d watches initialized: slots are held past initialization", n, watches)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if most > slots {
		t.Errorf("%d watches initialized at once, want at most %d", most, slots)
	}
	// Other requests never wait for a slot, even with all of them taken by
	// watches that never signal.
	stuck := withWatchInitLimit(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {}), 0)
	done := make(chan struct{})
	go func() { stuck.ServeHTTP(httptest.NewRecorder(), request("list")); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("a list waited for a watch slot")
	}
	close(end)
	wg.Wait()
}
