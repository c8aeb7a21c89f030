package framework

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// etcdBuild is the etcd server of the module skiff already requires, so
// the external cluster runs the same etcd version the embedded one does.
var etcdBuild = &goBuild{
	what:   "etcd",
	envVar: "SKIFF_ETCD_BIN",
	file:   "etcd",
	args:   []string{"go.etcd.io/etcd/server/v3"},
}

// EtcdBinary returns the path of a real etcd server binary: $SKIFF_ETCD_BIN
// when set, otherwise one built once per test process.
func EtcdBinary(t testing.TB) string {
	t.Helper()
	return etcdBuild.path(t)
}

// EtcdMember is one member of an EtcdCluster. Its ports and data dir stay
// the same across restarts, so a restarted member rejoins with its log.
type EtcdMember struct {
	Name      string
	ClientURL string
	PeerURL   string
	DataDir   string

	args    []string
	proc    *Process
	restart int
}

// Running reports whether the member's process is alive.
func (m *EtcdMember) Running() bool { return m.proc != nil && !m.proc.Exited() }

// EtcdCluster is a multi-member etcd cluster of real etcd processes on
// loopback. It speaks plain HTTP on both client and peer URLs: it is a
// throwaway test cluster reachable only from this machine, and TLS would
// add certificates to mint without changing what the fault tests exercise
// (membership, quorum and client failover).
type EtcdCluster struct {
	t       testing.TB
	bin     string
	Members []*EtcdMember
}

// StartEtcdCluster starts an n-member cluster, each member with its own free
// client and peer ports and a data dir under the test's temp dir, and waits
// until every member reports healthy.
func StartEtcdCluster(t testing.TB, n int) *EtcdCluster {
	t.Helper()
	c := &EtcdCluster{t: t, bin: EtcdBinary(t)}
	// FreePort releases each port before the next call, so the kernel may
	// hand the same one out twice: keep asking until all are distinct.
	taken := map[int]bool{}
	port := func() int {
		for {
			if p := FreePort(t); !taken[p] {
				taken[p] = true
				return p
			}
		}
	}
	var initial []string
	for i := 0; i < n; i++ {
		m := &EtcdMember{
			Name:      fmt.Sprintf("etcd-%d", i),
			ClientURL: fmt.Sprintf("http://127.0.0.1:%d", port()),
			PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", port()),
			DataDir:   filepath.Join(t.TempDir(), "etcd"),
		}
		c.Members = append(c.Members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	for _, m := range c.Members {
		m.args = []string{
			"--name", m.Name,
			"--data-dir", m.DataDir,
			"--listen-client-urls", m.ClientURL,
			"--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL,
			"--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", strings.Join(initial, ","),
			// Ignored once the data dir exists, so restarts rejoin as
			// the same member rather than bootstrapping anew.
			"--initial-cluster-state", "new",
			"--initial-cluster-token", "skiff-e2e",
			"--log-level", "warn",
		}
		c.startMember(m)
	}
	c.WaitHealthy(60 * time.Second)
	return c
}

func (c *EtcdCluster) startMember(m *EtcdMember) {
	c.t.Helper()
	name := m.Name
	if m.restart > 0 {
		name = fmt.Sprintf("%s-restart%d", m.Name, m.restart)
	}
	m.proc = Start(c.t, name, c.bin, m.args...)
}

// ClientURLs are every member's client URL, comma-separated as
// --etcd-servers takes them.
func (c *EtcdCluster) ClientURLs() string {
	urls := make([]string, len(c.Members))
	for i, m := range c.Members {
		urls[i] = m.ClientURL
	}
	return strings.Join(urls, ",")
}

// Kill sends SIGKILL to member i and waits for it to exit: no shutdown, no
// leadership transfer, as a crashed machine.
func (c *EtcdCluster) Kill(i int) {
	c.Members[i].proc.Kill()
}

// Restart starts member i again with the same name, ports and data dir.
func (c *EtcdCluster) Restart(i int) {
	c.t.Helper()
	m := c.Members[i]
	if m.Running() {
		c.t.Fatalf("restart %s: still running", m.Name)
	}
	m.restart++
	c.startMember(m)
}

// WaitHealthy waits until every member answers /health with true, which
// etcd gives only when the member has a leader and a linearizable read
// through it succeeds: the cluster has quorum and this member is part of it.
func (c *EtcdCluster) WaitHealthy(timeout time.Duration) {
	c.t.Helper()
	WaitFor(c.t, timeout, "etcd cluster healthy", func() (bool, error) {
		for _, m := range c.Members {
			if !m.Running() {
				return false, fmt.Errorf("%s exited", m.Name)
			}
			if !m.Healthy() {
				return false, nil
			}
		}
		return true, nil
	})
}

var etcdHTTP = &http.Client{Timeout: 3 * time.Second}

// Healthy reports whether the member answers /health with true.
func (m *EtcdMember) Healthy() bool {
	resp, err := etcdHTTP.Get(m.ClientURL + "/health")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var h struct {
		Health string `json:"health"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return false
	}
	return resp.StatusCode == http.StatusOK && h.Health == "true"
}

// Leader returns the index of the member that the running members agree
// leads the cluster, asked through etcd's JSON gateway, or -1 when no
// running member knows one.
func (c *EtcdCluster) Leader() int {
	ids := map[string]int{}
	leader := ""
	for i, m := range c.Members {
		if !m.Running() {
			continue
		}
		st, err := m.status()
		if err != nil {
			continue
		}
		ids[st.Header.MemberID] = i
		if st.Leader != "" && st.Leader != "0" {
			leader = st.Leader
		}
	}
	if i, ok := ids[leader]; ok {
		return i
	}
	return -1
}

// etcdStatus is the part of etcd's maintenance status we read; the gateway
// writes 64-bit ids as strings.
type etcdStatus struct {
	Header struct {
		MemberID string `json:"member_id"`
	} `json:"header"`
	Leader string `json:"leader"`
}

func (m *EtcdMember) status() (*etcdStatus, error) {
	resp, err := etcdHTTP.Post(m.ClientURL+"/v3/maintenance/status", "application/json", bytes.NewReader([]byte("{}")))
	if err != nil {
		return nil, fmt.Errorf("status of %s: %w", m.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("status of %s: %w", m.Name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status of %s: %s: %s", m.Name, resp.Status, body)
	}
	var st etcdStatus
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("status of %s: %w", m.Name, err)
	}
	return &st, nil
}

// LogPath is the log file of the member's current process.
func (m *EtcdMember) LogPath() string {
	if m.proc == nil {
		return ""
	}
	return m.proc.LogPath
}
