package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/kubelet/runtime"
)

// record is what the state keeps of one container: enough for a restarted
// kubelet to find its process again and to report it.
type record struct {
	runtime.Container
	// PID is the process (and process group) the container runs as.
	PID int `json:"pid,omitempty"`
	// ProcStart is the process's start time from /proc/<pid>/stat, which
	// tells it apart from a later process that reuses the pid.
	ProcStart uint64 `json:"procStart,omitempty"`
}

// The state is one small file per container, <root>/containers/<id>.json,
// so recording a start or an exit writes that container's file only and
// containers starting at once do not wait on each other.
const stateDirName = "containers"

func (r *Runtime) stateDir() string           { return filepath.Join(r.root, stateDirName) }
func (r *Runtime) stateFile(id string) string { return filepath.Join(r.stateDir(), id+".json") }

// loadState reads every container record under dir.
func loadState(dir string) ([]record, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var out []record
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue // a write interrupted by a crash
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read state: %w", err)
		}
		var rec record
		if err := json.Unmarshal(data, &rec); err != nil || rec.ID == "" {
			// A record that cannot be read cannot be adopted; its process,
			// if any, is killed as unknown.
			klog.ErrorS(err, "Skipping unreadable container record", "file", e.Name())
			continue
		}
		out = append(out, rec)
	}
	return out, nil
}

// save writes c's record, replacing its file whole (write, then rename), so
// a crash leaves the old record or the new one. It survives the kubelet's
// death, not a power loss: it does not fsync. Saves of one container are
// ordered, and the last one writes its latest state; a removed container is
// not written back.
func (r *Runtime) save(c *container) error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	r.mu.Lock()
	rec, current := c.rec, r.containers[c.rec.ID] == c
	r.mu.Unlock()
	if !current {
		return nil
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode container %s: %w", rec.ID, err)
	}
	if err := os.MkdirAll(r.stateDir(), 0o700); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	path := r.stateFile(rec.ID)
	if err := os.WriteFile(path+".tmp", data, 0o600); err != nil {
		return fmt.Errorf("write container state: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("replace container state: %w", err)
	}
	return nil
}

// unsave deletes the record of a container already removed from the map.
func (r *Runtime) unsave(c *container) error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	if err := os.Remove(r.stateFile(c.rec.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove container state: %w", err)
	}
	return nil
}
