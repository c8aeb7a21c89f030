package skiff

import (
	"net"
	"slices"
	"testing"
)

func TestAdminServer(t *testing.T) {
	for bind, want := range map[string]string{
		"127.0.0.1": "https://127.0.0.1:6443",
		"0.0.0.0":   "https://127.0.0.1:6443",
		"::":        "https://127.0.0.1:6443",
		"10.1.2.3":  "https://10.1.2.3:6443",
		"fd00::1":   "https://[fd00::1]:6443",
	} {
		if got := adminServer(net.ParseIP(bind), 6443); got != want {
			t.Errorf("--bind-address %s: admin server %s, want %s", bind, got, want)
		}
	}
}

// TestSchedulerRunsOnOneProcessorUnlessTheUserChooses: skiff up gives the
// scheduler GOMAXPROCS=1, and leaves a GOMAXPROCS of the user's alone (the
// child inherits it).
func TestSchedulerRunsOnOneProcessorUnlessTheUserChooses(t *testing.T) {
	none := func(string) string { return "" }
	if got := schedulerEnv(none); !slices.Equal(got, []string{"GOMAXPROCS=1"}) {
		t.Errorf("scheduler environment %q, want GOMAXPROCS=1", got)
	}
	users := func(k string) string {
		if k == "GOMAXPROCS" {
			return "4"
		}
		return ""
	}
	if got := schedulerEnv(users); got != nil {
		t.Errorf("scheduler environment %q with the user's GOMAXPROCS=4, want none of skiff's", got)
	}
}
