package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRestartsAProcessThatExitsNonZero: a component that exits 1 (as the
// scheduler does when it loses its Lease) is started again after the
// back-off, and Stop ends the supervision.
func TestRestartsAProcessThatExitsNonZero(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	p, err := Start(Spec{
		Name: "quitter", Path: "/bin/sh",
		Args:   []string{"-c", `echo run >> "$0"; exit 1`, runs},
		LogDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute) // a hang guard: the back-off starts at 1 s
	for countRuns(runs) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the process ran %d times in a minute, want a restart after its exit 1", countRuns(runs))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := p.Stop(10 * time.Second); err != nil && !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("Stop: %v", err)
	}
	n := countRuns(runs)
	time.Sleep(2500 * time.Millisecond) // past the next back-off
	if after := countRuns(runs); after != n {
		t.Errorf("the process ran %d more times after Stop", after-n)
	}
}

func countRuns(path string) int {
	data, _ := os.ReadFile(path)
	return strings.Count(string(data), "run")
}

// TestEnvReachesTheProcess: a Spec's Env is the child's on top of the
// supervisor's own environment, and wins where both name a variable.
func TestEnvReachesTheProcess(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SKIFF_TEST_KEPT", "kept")
	t.Setenv("SKIFF_TEST_OVERRIDDEN", "parent")
	out := filepath.Join(dir, "env")
	p, err := Start(Spec{
		Name: "env", Path: "/bin/sh",
		Args:   []string{"-c", `echo "$SKIFF_TEST_KEPT $SKIFF_TEST_OVERRIDDEN" > "$0.tmp" && mv "$0.tmp" "$0"; sleep 60`, out},
		Env:    []string{"SKIFF_TEST_OVERRIDDEN=child"},
		LogDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(10 * time.Second)
	deadline := time.Now().Add(time.Minute) // a hang guard
	var data []byte
	for {
		if data, err = os.ReadFile(out); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := strings.TrimSpace(string(data)); got != "kept child" {
		t.Errorf("the child saw %q, want %q", got, "kept child")
	}
}
