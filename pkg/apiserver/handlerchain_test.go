package apiserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
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
