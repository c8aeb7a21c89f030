package apiserver

import (
	"context"
	"net/http"
	"time"

	genericapiserver "k8s.io/apiserver/pkg/server"
)

// maxDeadlineMargin caps how much earlier than the request's deadline the
// API handlers must give up.
const maxDeadlineMargin = time.Second

// BuildHandlerChain is the generic server's default filter chain with one
// change: the API handlers see a deadline a little before the request's.
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
	return genericapiserver.DefaultBuildHandlerChain(withDeadlineMargin(apiHandler), c)
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
