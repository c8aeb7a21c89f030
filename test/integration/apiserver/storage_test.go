package apiserver

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/pkg/apiserver/etcd"
	"skiff.dev/skiff/pkg/pki"
	"skiff.dev/skiff/test/integration/framework"
)

// TestStorageReadsJSONWrittenByEarlierServers starts the server on a data
// dir written by main at 8c90653, which stored objects as JSON (see
// testdata/README.md): every object reads back, an update or a create stores
// protobuf, and an object nobody touched stays JSON and stays readable.
func TestStorageReadsJSONWrittenByEarlierServers(t *testing.T) {
	dir := t.TempDir()
	untarGz(t, "testdata/main-8c90653-etcd.tar.gz", dir)
	s := framework.StartTestServerInDir(t, dir)
	ctx := testContext(t)
	const ns = "fixture"

	pods, err := s.Client.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(pods.Items) != 2 {
		t.Fatalf("list the pods main stored: %v (%d pods, want 2)", err, len(pods.Items))
	}
	kept, err := s.Client.CoreV1alpha1().Pods(ns).Get(ctx, "stays-json", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cpu := kept.Spec.Containers[0].Resources.Requests["cpu"]; cpu.String() != "100m" {
		t.Errorf("stays-json requests cpu %s, want 100m", cpu.String())
	}
	node, err := s.Client.CoreV1alpha1().Nodes().Get(ctx, "fixture-node", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mem := node.Status.Allocatable["memory"]; mem.String() != "8Gi" {
		t.Errorf("node allocatable memory %s, want 8Gi", mem.String())
	}
	if _, err := s.Client.CoreV1alpha1().Leases(ns).Get(ctx, "fixture-lease", metav1.GetOptions{}); err != nil {
		t.Errorf("get lease: %v", err)
	}
	if _, err := s.Client.AppsV1alpha1().ReplicaSets(ns).Get(ctx, "fixture-rs", metav1.GetOptions{}); err != nil {
		t.Errorf("get replicaset: %v", err)
	}
	if _, err := s.Client.AppsV1alpha1().Deployments(ns).Get(ctx, "fixture-deploy", metav1.GetOptions{}); err != nil {
		t.Errorf("get deployment: %v", err)
	}
	if _, err := s.Kube.CoreV1().Events(ns).Get(ctx, "fixture-event", metav1.GetOptions{}); err != nil {
		t.Errorf("get the core/v1 event: %v", err)
	}

	updated, err := s.Client.CoreV1alpha1().Pods(ns).Get(ctx, "gets-updated", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	updated.Labels["touched"] = "yes"
	if _, err := s.Client.CoreV1alpha1().Pods(ns).Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update a pod stored as JSON: %v", err)
	}
	mustCreatePod(t, s.Client, ns, newPod("new"))
	s.Stop()

	stored := readEtcd(t, dir, "/registry/")
	for _, c := range []struct {
		key      string
		protobuf bool
	}{
		{"/pods/fixture/stays-json", false},
		{"/pods/fixture/gets-updated", true},
		{"/pods/fixture/new", true},
		{"/nodes/fixture-node", false},
	} {
		value, ok := stored[c.key]
		if !ok {
			t.Errorf("no key ends in %s; keys: %v", c.key, keysOf(stored))
			continue
		}
		if got := bytes.HasPrefix(value, protobufMagic); got != c.protobuf {
			t.Errorf("%s stored as protobuf = %v, want %v: %q", c.key, got, c.protobuf, truncate(value))
		}
	}

	// Both forms read back after a restart.
	s = framework.StartTestServerInDir(t, dir)
	for _, name := range []string{"stays-json", "gets-updated", "new"} {
		if _, err := s.Client.CoreV1alpha1().Pods(ns).Get(testContext(t), name, metav1.GetOptions{}); err != nil {
			t.Errorf("get %s after the restart: %v", name, err)
		}
	}
}

// readEtcd starts the data dir's etcd on its own and returns the values
// under prefix, keyed by the rest of the key after the group
// ("/pods/fixture/new" for "/registry/core.skiff.dev/pods/fixture/new").
func readEtcd(t *testing.T, dir, prefix string) map[string][]byte {
	t.Helper()
	ca, err := pki.LoadCA(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := etcd.Start(dir, ca, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	tlsConfig, err := transport.TLSInfo{CertFile: e.CertFile, KeyFile: e.KeyFile, TrustedCAFile: e.CAFile}.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{e.ClientURL}, TLS: tlsConfig, DialTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := c.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("read etcd: %v", err)
	}
	out := map[string][]byte{}
	for _, kv := range resp.Kvs {
		key := strings.TrimPrefix(string(kv.Key), prefix)
		if _, rest, ok := strings.Cut(key, "/"); ok && strings.Contains(key[:len(key)-len(rest)], ".") {
			key = rest // drop a group name such as core.skiff.dev
		}
		out["/"+key] = kv.Value
	}
	return out
}

func keysOf(m map[string][]byte) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// untarGz unpacks a .tar.gz of plain files and directories into dir.
func untarGz(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("read %s: %v", archive, err)
		}
		target := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o700)
		case tar.TypeReg:
			var out *os.File
			if out, err = os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err == nil {
				_, err = io.Copy(out, tr)
				if cerr := out.Close(); err == nil {
					err = cerr
				}
			}
		}
		if err != nil {
			t.Fatalf("unpack %s: %v", h.Name, err)
		}
	}
}
