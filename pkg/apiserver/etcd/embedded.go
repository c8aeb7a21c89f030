// Package etcd runs the single-member etcd that skiff-apiserver embeds when
// no --etcd-servers are given. It listens only on loopback, over TLS, and
// accepts only clients holding a certificate from the cluster CA, so the API
// server stays the only thing that talks to it.
package etcd

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/pki"
)

// catchUpEntries is how many applied raft entries etcd keeps in memory
// after each in-memory snapshot (every 100 entries), for a follower to catch
// up from. The embedded etcd is one member and has no followers: etcd's
// default, 5000 entries, each a whole write (a pod is several KiB), held
// about 8 MiB of the API server's live heap at 1000 nodes and 10000 pods
// with churn, for no one.
const catchUpEntries = 100

// Embedded is a running embedded etcd and what a client needs to reach it.
type Embedded struct {
	etcd  *embed.Etcd
	space *spaceGuard
	stop  context.CancelFunc
	// ClientURL is the https URL the API server's storage dials.
	ClientURL string
	// CAFile, CertFile and KeyFile are the client's TLS material.
	CAFile, CertFile, KeyFile string
}

// Start runs etcd with its data under dir/etcd and its certificates under
// dir/pki, minted from ca. It returns once etcd serves, or fails after
// timeout.
func Start(dir string, ca *pki.CA, timeout time.Duration) (*Embedded, error) {
	pkiDir := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", pkiDir, err)
	}
	serving, err := ca.ServingCert("skiff-etcd", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		return nil, fmt.Errorf("mint etcd serving certificate: %w", err)
	}
	if err := serving.WriteFiles(pkiDir, "etcd-server.crt", "etcd-server.key"); err != nil {
		return nil, err
	}
	client, err := ca.ClientCert("skiff-apiserver-etcd-client", nil)
	if err != nil {
		return nil, fmt.Errorf("mint etcd client certificate: %w", err)
	}
	if err := client.WriteFiles(pkiDir, "etcd-client.crt", "etcd-client.key"); err != nil {
		return nil, err
	}

	// Ports are picked afresh on every start: nothing outside this process
	// dials etcd, and a fixed port would collide between servers on one
	// machine (tests run many).
	clientPort, err := freePort()
	if err != nil {
		return nil, err
	}
	peerPort, err := freePort()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "etcd")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dataDir, err)
	}
	free, err := checkStartSpace(dataDir)
	if err != nil {
		return nil, err
	}
	clientURL := url.URL{Scheme: "https", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	peerURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}

	cfg := embed.NewConfig()
	cfg.Name = "skiff"
	cfg.Dir = dataDir
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = fmt.Sprintf("skiff=%s", peerURL.String())
	cfg.ClientTLSInfo = transport.TLSInfo{
		CertFile:       filepath.Join(pkiDir, "etcd-server.crt"),
		KeyFile:        filepath.Join(pkiDir, "etcd-server.key"),
		TrustedCAFile:  filepath.Join(pkiDir, pki.CACertFile),
		ClientCertAuth: true,
	}
	// etcd's own logs go to stderr at warn; the API server logs what matters.
	cfg.LogLevel = "warn"
	cfg.QuotaBackendBytes = quotaFor(free, dbSize(dataDir))
	cfg.SnapshotCatchUpEntries = catchUpEntries

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", cfg.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-time.After(timeout):
		e.Server.Stop()
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s not ready after %s", cfg.Dir, timeout)
	}
	klog.V(1).InfoS("Embedded etcd is serving", "dir", cfg.Dir, "url", clientURL.String(), "quotaMiB", cfg.QuotaBackendBytes>>20)
	if err := preallocateDB(dataDir, cfg.QuotaBackendBytes); err != nil {
		// Not fatal: the space guard still refuses writes before the
		// volume fills, unless someone else fills it at once.
		klog.ErrorS(err, "Cannot allocate the embedded etcd's database blocks ahead; a volume filled by another writer may stop etcd")
	}
	guard := &spaceGuard{dir: dataDir, etcd: e}
	ctx, cancel := context.WithCancel(context.Background())
	go guard.run(ctx)
	return &Embedded{
		etcd:      e,
		space:     guard,
		stop:      cancel,
		ClientURL: clientURL.String(),
		CAFile:    filepath.Join(pkiDir, pki.CACertFile),
		CertFile:  filepath.Join(pkiDir, "etcd-client.crt"),
		KeyFile:   filepath.Join(pkiDir, "etcd-client.key"),
	}, nil
}

// Stop shuts etcd down after its in-flight requests.
func (e *Embedded) Stop() {
	e.stop()
	e.etcd.Close()
}

// WriteRefusal is nil while etcd's volume has room for writes, and
// otherwise the error to refuse them with (see spaceGuard).
func (e *Embedded) WriteRefusal() error { return e.space.WriteRefusal() }

// dbSize is the disk space the database already in dir holds (its blocks
// allocated ahead included), 0 when there is none.
func dbSize(dir string) int64 {
	fi, err := os.Stat(dbPath(dir))
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return max(fi.Size(), st.Blocks*512)
	}
	return fi.Size()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
