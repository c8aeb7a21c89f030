package etcd

import (
	"path/filepath"
	"testing"
	"time"

	"skiff.dev/skiff/pkg/pki"
)

func TestEmbeddedKeepsFewRaftEntries(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Start(dir, ca, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	if got := e.etcd.Server.Cfg.SnapshotCatchUpEntries; got != catchUpEntries {
		t.Errorf("etcd keeps %d entries for followers, want %d: it has none", got, catchUpEntries)
	}
}
