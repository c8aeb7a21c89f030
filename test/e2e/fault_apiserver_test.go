package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	skiffclient "skiff.dev/skiff/pkg/generated/clientset/versioned/typed/core/v1alpha1"
	informers "skiff.dev/skiff/pkg/generated/informers/externalversions"
	"skiff.dev/skiff/test/e2e/framework"
)

// TestAPIServerKilledDuringCreates is fault 1 of the fault suite: 8 writers
// create 2000 pods while the API server (and the etcd it embeds, in the
// same process) is killed with SIGKILL partway through. After a restart on
// the same data dir every create the server acknowledged must be there,
// intact and at the resourceVersion it was acknowledged with; creates that
// were in flight at the kill may or may not have landed.
func TestAPIServerKilledDuringCreates(t *testing.T) {
	const workers, total, killAfter = 8, 2000, 600
	dataDir := filepath.Join(t.TempDir(), "data")
	port := framework.FreePort(t)
	server := framework.StartAPIServer(t, dataDir, port)
	pods := server.AdminClient(t).CoreV1alpha1().Pods("default")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	type ack struct {
		uid types.UID
		rv  string
	}
	var (
		mu     sync.Mutex
		acked  = map[string]ack{}
		failed = map[string]error{}
		next   atomic.Int64
		nAcked atomic.Int64
		// reached is closed by the writer whose create is the killAfter-th
		// acknowledged one; the killer waits on it.
		reached = make(chan struct{})
	)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				name := fmt.Sprintf("kill-%04d", i)
				created, err := pods.Create(ctx, killPod(name), metav1.CreateOptions{})
				mu.Lock()
				if err != nil {
					failed[name] = err
				} else {
					acked[name] = ack{uid: created.UID, rv: created.ResourceVersion}
				}
				mu.Unlock()
				if err == nil && nAcked.Add(1) == killAfter {
					close(reached)
				}
			}
		}()
	}

	var killedAt time.Time
	var ackedAtKill int64
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		select {
		case <-reached:
		case <-ctx.Done():
			return
		}
		ackedAtKill = nAcked.Load()
		killedAt = time.Now()
		server.Kill()
	}()
	wg.Wait()
	<-killed
	createPhase := time.Since(start)
	if killedAt.IsZero() {
		t.Fatalf("the server was never killed: %d of %d creates acknowledged", nAcked.Load(), total)
	}
	if len(failed) == 0 {
		t.Fatalf("all %d creates succeeded: the kill came too late to test anything", total)
	}

	restartStart := time.Now()
	server = framework.StartAPIServer(t, dataDir, port)
	restart := time.Since(restartStart)
	pods = server.AdminClient(t).CoreV1alpha1().Pods("default")
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods after restart: %v", err)
	}
	present := map[string]*v1alpha1.Pod{}
	for i := range list.Items {
		present[list.Items[i].Name] = &list.Items[i]
	}

	var missing, corrupt []string
	for name, a := range acked {
		p, ok := present[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		if problem := checkKillPod(p); problem != "" {
			corrupt = append(corrupt, name+": "+problem)
			continue
		}
		if p.UID != a.uid || p.ResourceVersion != a.rv {
			corrupt = append(corrupt, fmt.Sprintf("%s: uid/resourceVersion %s/%s, acknowledged as %s/%s", name, p.UID, p.ResourceVersion, a.uid, a.rv))
		}
	}
	var inFlight, stray []string
	for name, p := range present {
		if _, ok := acked[name]; ok {
			continue
		}
		if _, ok := failed[name]; !ok {
			stray = append(stray, name)
			continue
		}
		inFlight = append(inFlight, name)
		if problem := checkKillPod(p); problem != "" {
			corrupt = append(corrupt, name+" (unacknowledged): "+problem)
		}
	}
	sort.Strings(missing)
	sort.Strings(corrupt)
	sort.Strings(inFlight)
	sort.Strings(stray)

	t.Logf("creates: %d acknowledged (%d when the kill was sent), %d failed, in %s; restart took %s",
		len(acked), ackedAtKill, len(failed), createPhase.Round(time.Millisecond), restart.Round(time.Millisecond))
	t.Logf("after restart: %d pods exist, %d acknowledged missing, %d unacknowledged but present %v",
		len(present), len(missing), len(inFlight), inFlight)
	t.Logf("failure kinds: %s", errorKinds(failed))
	if len(missing) > 0 {
		t.Errorf("%d acknowledged creates lost, e.g. %v", len(missing), firstStrings(missing, 10))
	}
	if len(corrupt) > 0 {
		t.Errorf("%d pods not as created, e.g. %v", len(corrupt), firstStrings(corrupt, 10))
	}
	if len(stray) > 0 {
		t.Errorf("%d pods exist that no one created: %v", len(stray), firstStrings(stray, 10))
	}

	// The restarted server must take writes, not only serve what it has.
	after, err := pods.Create(ctx, killPod("after-restart"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create after restart: %v", err)
	}
	if _, err := strconv.ParseUint(after.ResourceVersion, 10, 64); err != nil {
		t.Errorf("pod created after restart has resourceVersion %q: %v", after.ResourceVersion, err)
	}
}

// killPod is a pod whose container spec is derived from its name, so a pod
// read back can be checked against what was sent without keeping a copy.
func killPod(name string) *v1alpha1.Pod {
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"fault": "apiserver-kill"}},
		Spec: v1alpha1.PodSpec{Containers: []v1alpha1.Container{{
			Name:    "c",
			Image:   "busybox:1.36",
			Command: []string{"/bin/sh", "-c"},
			Args:    []string{"echo " + name},
		}}},
	}
}

// checkKillPod returns what is wrong with a pod read back, or "".
func checkKillPod(p *v1alpha1.Pod) string {
	if _, err := strconv.ParseUint(p.ResourceVersion, 10, 64); err != nil {
		return fmt.Sprintf("resourceVersion %q: %v", p.ResourceVersion, err)
	}
	if p.UID == "" {
		return "no uid"
	}
	if p.Labels["fault"] != "apiserver-kill" {
		return fmt.Sprintf("labels %v", p.Labels)
	}
	want := killPod(p.Name).Spec.Containers
	if len(p.Spec.Containers) != len(want) {
		return fmt.Sprintf("%d containers, want %d", len(p.Spec.Containers), len(want))
	}
	// Compare only the fields the writer set: defaulting fills in others.
	got := p.Spec.Containers[0]
	if got.Name != want[0].Name || got.Image != want[0].Image ||
		!reflect.DeepEqual(got.Command, want[0].Command) || !reflect.DeepEqual(got.Args, want[0].Args) {
		return fmt.Sprintf("container %+v, want %+v", got, want[0])
	}
	return ""
}

// errorKinds summarises create errors by message, with counts, since a
// kill produces a handful of distinct transport errors many times over.
func errorKinds(errs map[string]error) string {
	kinds := map[string]int{}
	for _, err := range errs {
		msg := err.Error()
		// Drop the per-request URL and port so equal causes group together.
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		kinds[msg]++
	}
	var parts []string
	for k, n := range kinds {
		parts = append(parts, fmt.Sprintf("%d× %q", n, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func firstStrings(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// TestWatchBehindCompactionGets410 is fault 6 of the fault suite: a client
// that falls behind gets 410 Gone for its stale resourceVersion, and an
// informer that gets it relists and ends up with the server's state.
//
// An informer falls behind the realistic way: it is cut off from the
// server by a network partition (a TCP proxy in front of the server that
// drops every connection and refuses new ones) while writes go on, and its
// reflector keeps retrying the watch from the last resourceVersion it saw.
//
// Where the 410 comes from depends on the watch cache:
//   - "etcd": the pods' watch cache is off (--watch-cache-sizes=pods#0), so
//     watches go to etcd, and etcd compaction (every second here) is what
//     makes the old revision unavailable.
//   - "watch-cache": the default. A watch is served from the cache's event
//     window, which reaches back to the cache's last list from etcd, not to
//     etcd's compaction; compaction alone does not make a watch stale. Nor
//     can writes push an old event out in a test's time: the window grows
//     (up to 100k events) while its oldest event is under 75 s old. The
//     window restarts when the API server does, so the server is restarted
//     during the partition.
func TestWatchBehindCompactionGets410(t *testing.T) {
	t.Run("etcd", func(t *testing.T) { testStaleWatch(t, false) })
	t.Run("watch-cache", func(t *testing.T) { testStaleWatch(t, true) })
}

func testStaleWatch(t *testing.T, watchCache bool) {
	const nPods, updates = 5, 200
	args := []string{"--etcd-compaction-interval=1s"}
	if !watchCache {
		args = append(args, "--watch-cache-sizes=pods.core.skiff.dev#0")
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	port := framework.FreePort(t)
	server := framework.StartAPIServer(t, dataDir, port, args...)
	pods := server.AdminClient(t).CoreV1alpha1().Pods("default")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	for i := 0; i < nPods; i++ {
		p := &v1alpha1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("stale-%d", i), Labels: map[string]string{"n": "0"}},
			Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "c", Image: "busybox"}}},
		}
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create: %v", err)
		}
	}

	// The informer reaches the server only through the proxy, and its
	// requests are logged, so the test sees the 410 and the relist.
	proxy := startPartitionProxy(t, fmt.Sprintf("127.0.0.1:%d", port))
	reqs := &requestLog{}
	cfg := server.AdminConfig(t)
	cfg.Host = "https://" + proxy.addr
	// JSON, so the request log can read ERROR events out of watch streams.
	cfg.ContentType, cfg.AcceptContentTypes = "application/json", "application/json"
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &loggedTransport{next: rt, log: reqs} })
	factory := informers.NewSharedInformerFactoryWithOptions(clientset.NewForConfigOrDie(cfg), 0, informers.WithNamespace("default"))
	podInformer := factory.Core().V1alpha1().Pods()
	informer, lister := podInformer.Informer(), podInformer.Lister()
	stop := make(chan struct{})
	defer func() { close(stop); factory.Shutdown() }()
	factory.Start(stop)
	for typ, ok := range factory.WaitForCacheSync(stop) {
		if !ok {
			t.Fatalf("informer for %v never synced", typ)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("informer requests:\n%s", reqs.dump(""))
		}
	})

	// One update seen by the informer's watch: a watch that ends having
	// delivered nothing is "very short" to the reflector and makes it
	// relist straight away, which is not the resume this test is about.
	if err := bumpLabel(ctx, pods, "stale-0"); err != nil {
		t.Fatal(err)
	}
	framework.WaitFor(t, 30*time.Second, "informer sees the first update", func() (bool, error) {
		p, err := lister.Pods("default").Get("stale-0")
		return err == nil && p.Labels["n"] == "1", nil
	})

	proxy.Cut()
	reqs.setPhase("partitioned")
	// Read after the cut: nothing can move it now, and it is the
	// resourceVersion the reflector will resume its watch from.
	staleRV := informer.LastSyncResourceVersion()
	for i := 0; i < updates; i++ {
		if err := bumpLabel(ctx, pods, fmt.Sprintf("stale-%d", i%nPods)); err != nil {
			t.Fatal(err)
		}
	}

	var gone string
	if !watchCache {
		// Compaction runs every second and compacts to the revision it saw
		// a tick earlier; poll until it has passed staleRV.
		framework.WaitFor(t, 30*time.Second, "a watch from "+staleRV+" to get 410", func() (bool, error) {
			g, detail, err := watchFrom(ctx, pods, staleRV)
			gone = detail
			return g, err
		})
	} else {
		// The watch cache still holds every event since the server started,
		// compacted in etcd or not: the watch is served, not refused.
		// Give the compactor, ticking every second, time to pass staleRV:
		// this only sets the scene for what the log line below reports.
		time.Sleep(2500 * time.Millisecond)
		g, detail, err := watchFrom(ctx, pods, staleRV)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("before restart, with etcd compacting every second, a watch from %s: gone=%v (%s)", staleRV, g, detail)

		restartStart := time.Now()
		code := server.Stop(30 * time.Second)
		server = framework.StartAPIServer(t, dataDir, port, args...)
		t.Logf("server stopped (exit code %d) and restarted in %s", code, time.Since(restartStart).Round(time.Millisecond))
		pods = server.AdminClient(t).CoreV1alpha1().Pods("default")
		framework.WaitFor(t, 30*time.Second, "a watch from "+staleRV+" to get 410 after the restart", func() (bool, error) {
			g, detail, err := watchFrom(ctx, pods, staleRV)
			gone = detail
			return g, err
		})
	}
	t.Logf("raw watch from %s: %s", staleRV, gone)

	reqs.setPhase("healed")
	proxy.Heal(t)
	healed := time.Now()
	var want map[string]string
	framework.WaitFor(t, 60*time.Second, "the informer to converge on the server's pods", func() (bool, error) {
		list, err := pods.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, fmt.Errorf("list pods: %w", err)
		}
		want = map[string]string{}
		for _, p := range list.Items {
			want[p.Name] = p.ResourceVersion
		}
		cached, err := lister.List(labels.Everything())
		if err != nil {
			return false, err
		}
		got := map[string]string{}
		for _, p := range cached {
			got[p.Name] = p.ResourceVersion
		}
		return reflect.DeepEqual(got, want), nil
	})

	c := reqs.counts("healed")
	t.Logf("stale resourceVersion %s; while partitioned: %v; after healing: %v", staleRV, reqs.counts("partitioned"), c)
	t.Logf("informer requests after healing:\n%s", reqs.dump("healed"))
	t.Logf("informer converged on %d pods %s after the partition healed (most of it the reflector's backoff)",
		len(want), time.Since(healed).Round(time.Millisecond))
	if c.gone == 0 {
		t.Errorf("the informer never got a 410 for its stale resourceVersion %s", staleRV)
	}
	if c.relists == 0 {
		t.Errorf("the informer converged without relisting")
	}
	if first410, firstRelist := reqs.firstIndex("healed", isGone), reqs.firstIndex("healed", isRelist); first410 >= 0 && firstRelist >= 0 && firstRelist < first410 {
		t.Errorf("the informer relisted (request %d) before it was told its resourceVersion is gone (request %d)", firstRelist, first410)
	}
}

// bumpLabel adds one to pod name's "n" label.
func bumpLabel(ctx context.Context, pods skiffclient.PodInterface, name string) error {
	for {
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get %s: %w", name, err)
		}
		n, err := strconv.Atoi(p.Labels["n"])
		if err != nil {
			return fmt.Errorf("%s label n=%q: %w", name, p.Labels["n"], err)
		}
		p.Labels["n"] = strconv.Itoa(n + 1)
		if _, err = pods.Update(ctx, p, metav1.UpdateOptions{}); err == nil {
			return nil
		} else if !apierrors.IsConflict(err) {
			return fmt.Errorf("update %s: %w", name, err)
		}
	}
}

// watchFrom opens a watch at rv and reports whether the server said 410
// Gone, either by failing the request or as the stream's first event, with
// a description of what it said.
func watchFrom(ctx context.Context, pods skiffclient.PodInterface, rv string) (bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	w, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
	if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		return true, fmt.Sprintf("request failed: %v", err), nil
	}
	if err != nil {
		return false, "", fmt.Errorf("watch from %s: %w", rv, err)
	}
	defer w.Stop()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			return false, "watch closed without an event", nil
		}
		if ev.Type == watch.Error {
			status, _ := ev.Object.(*metav1.Status)
			if status != nil && status.Code == http.StatusGone {
				return true, fmt.Sprintf("ERROR event %d %s: %s", status.Code, status.Reason, status.Message), nil
			}
			return false, "", fmt.Errorf("watch from %s: error event %v", rv, ev.Object)
		}
		p, _ := ev.Object.(*v1alpha1.Pod)
		if p == nil {
			return false, fmt.Sprintf("first event %s", ev.Type), nil
		}
		return false, fmt.Sprintf("served: first event %s %s at %s", ev.Type, p.Name, p.ResourceVersion), nil
	case <-time.After(3 * time.Second):
		return false, "no event within 3s", nil
	}
}

// partitionProxy forwards TCP connections to a target. Cut drops every
// connection and closes the listener, so clients see their streams end
// and new dials refused, as when a network partition isolates them;
// Heal listens again on the same address.
type partitionProxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

func startPartitionProxy(t *testing.T, target string) *partitionProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &partitionProxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

func (p *partitionProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *partitionProxy) forward(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut while dialling
		p.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(server, client); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, server); done <- struct{}{} }()
	<-done
	client.Close()
	server.Close()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// Cut partitions the clients from the target.
func (p *partitionProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Heal ends the partition.
func (p *partitionProxy) Heal(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	// The port was just ours; a brief retry covers a slow close.
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("proxy listen again on %s: %v", p.addr, err)
}

// requestLog records the informer's pod
// requests (lists, watch-list streams and plain watches), their results,
// and whether the server answered 410, as a status or as an ERROR event
// inside a watch stream.
type requestLog struct {
	mu    sync.Mutex
	phase string
	reqs  []*loggedRequest
}

type loggedRequest struct {
	phase, kind, rv, result string
	gone                    bool
}

// Kinds of request. A relist is a list or a watch-list stream: both fetch
// the whole state afresh; client-go uses the second when the server
// supports it.
const (
	kindList      = "list"
	kindWatchList = "watch-list"
	kindWatch     = "watch"
)

func (l *requestLog) setPhase(phase string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phase = phase
}

// loggedTransport records requests in log.
type loggedTransport struct {
	next http.RoundTripper
	log  *requestLog
}

func (t *loggedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/pods") {
		return t.next.RoundTrip(req)
	}
	l := t.log
	q := req.URL.Query()
	e := &loggedRequest{kind: kindList, rv: q.Get("resourceVersion")}
	switch {
	case q.Get("watch") == "true" && q.Get("sendInitialEvents") == "true":
		e.kind = kindWatchList
	case q.Get("watch") == "true":
		e.kind = kindWatch
	}
	l.mu.Lock()
	e.phase = l.phase
	l.reqs = append(l.reqs, e)
	l.mu.Unlock()

	resp, err := t.next.RoundTrip(req)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil && utilnet.IsConnectionRefused(err):
		e.result = "connection refused"
	case err != nil:
		e.result = err.Error()
	default:
		e.result = resp.Status
		e.gone = resp.StatusCode == http.StatusGone
		if e.kind != kindList && resp.StatusCode == http.StatusOK {
			resp.Body = l.sniff(e, resp.Body)
		}
	}
	return resp, err
}

// sniff passes a watch stream through unchanged while a decoder reads a
// copy of it, marking e gone if an ERROR event carries a 410 status.
func (l *requestLog) sniff(e *loggedRequest, body io.ReadCloser) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		dec := json.NewDecoder(pr)
		for {
			var ev metav1.WatchEvent
			if err := dec.Decode(&ev); err != nil {
				// Keep draining: the tee must never block the informer.
				_, _ = io.Copy(io.Discard, pr)
				return
			}
			if ev.Type != string(watch.Error) {
				continue
			}
			var status metav1.Status
			if json.Unmarshal(ev.Object.Raw, &status) == nil && status.Code == http.StatusGone {
				l.mu.Lock()
				e.gone = true
				e.result += ", then ERROR " + strconv.Itoa(int(status.Code)) + " " + string(status.Reason)
				l.mu.Unlock()
			}
		}
	}()
	return &sniffedBody{Reader: io.TeeReader(body, pw), body: body, pw: pw}
}

type sniffedBody struct {
	io.Reader
	body io.ReadCloser
	pw   *io.PipeWriter
}

func (s *sniffedBody) Close() error {
	s.pw.Close()
	return s.body.Close()
}

type requestCounts struct {
	requests, refused, relists, watches, gone int
}

func (c requestCounts) String() string {
	return fmt.Sprintf("%d requests (%d refused), %d relists, %d watches, %d answered 410",
		c.requests, c.refused, c.relists, c.watches, c.gone)
}

func isRelist(e *loggedRequest) bool {
	return (e.kind == kindList || e.kind == kindWatchList) && strings.HasPrefix(e.result, "200")
}

func isGone(e *loggedRequest) bool { return e.gone }

func (l *requestLog) counts(phase string) requestCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	var c requestCounts
	for _, e := range l.reqs {
		if e.phase != phase {
			continue
		}
		c.requests++
		if e.result == "connection refused" {
			c.refused++
		}
		if isRelist(e) {
			c.relists++
		}
		if e.kind == kindWatch {
			c.watches++
		}
		if e.gone {
			c.gone++
		}
	}
	return c
}

// firstIndex is the position among phase's requests of the first for
// which match holds, or -1.
func (l *requestLog) firstIndex(phase string, match func(*loggedRequest) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := 0
	for _, e := range l.reqs {
		if e.phase != phase {
			continue
		}
		if match(e) {
			return i
		}
		i++
	}
	return -1
}

// dump lists phase's requests, or all of them when phase is "".
func (l *requestLog) dump(phase string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for i, e := range l.reqs {
		if phase != "" && e.phase != phase {
			continue
		}
		fmt.Fprintf(&b, "  %3d [%s] %s rv=%q: %s\n", i, e.phase, e.kind, e.rv, e.result)
	}
	return b.String()
}
