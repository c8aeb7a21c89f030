package apiserver

import (
	"context"
	"net/http"
	"runtime"
	"time"

	"k8s.io/apiserver/pkg/endpoints/request"
	genericapiserver "k8s.io/apiserver/pkg/server"
	utilflowcontrol "k8s.io/apiserver/pkg/util/flowcontrol"
)

// maxDeadlineMargin caps how much earlier than the request's deadline the
// API handlers must give up.
const maxDeadlineMargin = time.Second

// BuildHandlerChain is the generic server's default filter chain with two
// changes: the API handlers see a deadline a little before the request's,
// and only a few watches initialize at once (withWatchInitLimit).
//
// The timeout filter and the API handlers both wait on the request's
// deadline. When storage holds a request until that deadline, as etcd does
// without quorum (the etcd client retries a timed-out write until its
// context ends), both fire at once, and if the handler has begun writing
// its error when the filter fires, the filter can no longer send its 504:
// it resets the HTTP/2 stream or drops the HTTP/1 connection, and the
// client gets no status at all. With the handlers' deadline earlier, they
// answer with their own 504 Timeout status while the filter still waits.
func BuildHandlerChain(apiHandler http.Handler, c *genericapiserver.Config) http.Handler {
	return genericapiserver.DefaultBuildHandlerChain(withWatchInitLimit(withDeadlineMargin(apiHandler), watchInitSlots()), c)
}

// withDeadlineMargin runs h with the request's deadline, if it has one,
// brought forward by a tenth of the time left, at most maxDeadlineMargin.
// Long-running requests (watches) carry no deadline and pass unchanged.
func withDeadlineMargin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline, ok := r.Context().Deadline()
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		margin := min(time.Until(deadline)/10, maxDeadlineMargin)
		ctx, cancel := context.WithDeadline(r.Context(), deadline.Add(-margin))
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// watchInitSlots is how many watches may initialize at once: a couple per
// CPU, as that work is CPU-bound while it lasts.
func watchInitSlots() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// maxWatchInitHold bounds how long one watch keeps its slot, should its
// storage never say it has initialized.
const maxWatchInitHold = 10 * time.Second

// withWatchInitLimit lets at most slots watch requests initialize at once;
// the others wait for a slot. A watch initializes when its storage has
// sent it its initial events (the state at resourceVersion 0, or the
// history since an older one), and the watch cache makes each watcher its
// own deep copy of each of those objects before it is encoded, so N
// watches starting together over an object of S bytes hold N copies at
// once: 200 watches over a 1.5 MB pod took gigabytes. Upstream bounds this
// with priority and fairness, which accounts for a watch's initialization
// as a request in flight until the storage signals it done
// (utilflowcontrol.WatchInitialized); skiff serves without priority and
// fairness (it needs the core API's FlowSchemas) and its max-in-flight
// limits exempt watches, so it bounds them here on the same signal.
func withWatchInitLimit(h http.Handler, slots int) http.Handler {
	sem := make(chan struct{}, slots)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, ok := request.RequestInfoFrom(r.Context())
		if !ok || !info.IsResourceRequest || info.Verb != "watch" {
			h.ServeHTTP(w, r)
			return
		}
		select {
		case sem <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		signal := utilflowcontrol.NewInitializationSignal()
		released := make(chan struct{})
		go func() {
			defer close(released)
			timer := time.NewTimer(maxWatchInitHold)
			defer timer.Stop()
			done := make(chan struct{})
			go func() { signal.Wait(); close(done) }()
			select {
			case <-done:
			case <-timer.C:
				signal.Signal() // lets the waiting goroutine end
			}
			<-sem
		}()
		defer func() {
			signal.Signal() // the handler ended before its storage signalled
			<-released
		}()
		h.ServeHTTP(w, r.WithContext(utilflowcontrol.WithInitializationSignal(r.Context(), signal)))
	})
}
