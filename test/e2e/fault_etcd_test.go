package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/e2e/framework"
)

// Phases of TestExternalEtcdLosesMembers, in order.
const (
	phaseBaseline  = iota // three members up
	phaseOneDown          // the leader killed: two of three, quorum kept
	phaseNoQuorum         // a second member killed: one of three
	phaseRestoring        // both restarted, cluster not yet healthy again
	phaseRecovered        // all three healthy again
	numPhases
)

var phaseNames = [numPhases]string{"baseline", "one-down", "no-quorum", "restoring", "recovered"}

// TestExternalEtcdLosesMembers is fault 5 of the fault suite: skiff-apiserver
// on an external three-member etcd under a steady load of pod creates. With
// one member killed the cluster keeps quorum and writes go on once the
// etcd client has failed over; with two killed, writes must fail with an
// error within the request timeout instead of hanging; once the members
// come back writes resume, and every create that was acknowledged at any
// point is still there.
func TestExternalEtcdLosesMembers(t *testing.T) {
	const (
		workers = 4
		// Short enough that a no-quorum write gives up well inside the
		// test's budget; the 60 s default would make the phase crawl.
		requestTimeout = 10 * time.Second
		// The clients wait a little longer than the server so that a
		// server that does not answer in time shows up as a hang here.
		clientTimeout = requestTimeout + 5*time.Second
		// Successes that show a phase's writes have (re)started.
		enough = 100
	)

	cluster := framework.StartEtcdCluster(t, 3)
	dataDir := filepath.Join(t.TempDir(), "data")
	server := framework.StartAPIServer(t, dataDir, framework.FreePort(t),
		"--etcd-servers", cluster.ClientURLs(),
		"--request-timeout", requestTimeout.String())
	// The embedded etcd must not have started: its data would be here.
	if entries, _ := filepath.Glob(filepath.Join(dataDir, "etcd", "*")); len(entries) > 0 {
		t.Fatalf("skiff-apiserver started its embedded etcd despite --etcd-servers: %v", entries)
	}
	cfg := server.AdminConfig(t)
	// Raw HTTP rather than the clientset for the writes: client-go retries
	// 5xx answers that carry Retry-After, and this test needs to see each
	// answer the server gives.
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatalf("HTTP client from kubeconfig: %v", err)
	}
	load := &podLoad{
		client:  hc,
		url:     cfg.Host + "/apis/core.skiff.dev/v1alpha1/namespaces/default/pods",
		timeout: clientTimeout,
	}
	load.start(workers)
	defer load.stop()

	waitSuccesses := func(p, n int, guard time.Duration) {
		t.Helper()
		framework.WaitFor(t, guard, fmt.Sprintf("%d successful creates in phase %s", n, phaseNames[p]), func() (bool, error) {
			return load.successes(p) >= n, nil
		})
	}

	waitSuccesses(phaseBaseline, enough, 60*time.Second)

	// Kill the leader: the worst single loss, as it forces an election on
	// top of the client losing one of its endpoints.
	first := cluster.Leader()
	if first < 0 {
		t.Fatal("no etcd member knows a leader")
	}
	load.setPhase(phaseOneDown)
	cluster.Kill(first)
	t.Logf("killed %s (leader)", cluster.Members[first].Name)
	waitSuccesses(phaseOneDown, enough, 60*time.Second)

	second := (first + 1) % len(cluster.Members)
	load.setPhase(phaseNoQuorum)
	cluster.Kill(second)
	t.Logf("killed %s: one of three members left", cluster.Members[second].Name)
	// Let every worker finish at least two writes that started and ended
	// without quorum, so each one's answer can be checked.
	framework.WaitFor(t, 3*clientTimeout+10*time.Second, "every worker to finish two no-quorum writes", func() (bool, error) {
		return load.minPerWorker(phaseNoQuorum, workers) >= 2, nil
	})
	probeHealth(t, server, "no quorum")

	load.setPhase(phaseRestoring)
	cluster.Restart(first)
	cluster.Restart(second)
	cluster.WaitHealthy(60 * time.Second)
	load.setPhase(phaseRecovered)
	waitSuccesses(phaseRecovered, enough, 60*time.Second)
	load.stop()

	attempts := load.all()
	byPhase := [numPhases]struct{ ok, failed int }{}
	for _, a := range attempts {
		// Counted where they ended: a write in flight at a kill belongs
		// with the writes the kill disturbed.
		if a.ok() {
			byPhase[a.endPhase].ok++
		} else {
			byPhase[a.endPhase].failed++
		}
	}
	for p := 0; p < numPhases; p++ {
		t.Logf("phase %-9s: %4d created, %3d failed; errors: %s", phaseNames[p], byPhase[p].ok, byPhase[p].failed, summarizeErrors(attempts, p))
	}

	if n := byPhase[phaseBaseline].failed; n > 0 {
		t.Errorf("%d creates failed with all three members up", n)
	}
	// An election and the client dropping the dead endpoint can fail the
	// writes in flight at the kill, and those that land during the
	// election; more than that means the client did not fail over.
	if n := byPhase[phaseOneDown].failed; n > 4*workers {
		t.Errorf("%d creates failed with one member down; expected at most a few around the kill", n)
	}
	// Only writes issued once the cluster was healthy again: one issued
	// while it was still regaining quorum may end after that and fail.
	recoveredFailed := 0
	for _, a := range attempts {
		if a.startPhase == phaseRecovered && !a.ok() {
			recoveredFailed++
		}
	}
	if recoveredFailed > 0 {
		t.Errorf("%d creates issued after the cluster was healthy again failed", recoveredFailed)
	}

	// Without quorum no write can commit: each must come back as a server
	// error with a message, within the request timeout plus slack.
	checked := 0
	for _, a := range attempts {
		if a.startPhase != phaseNoQuorum || a.endPhase != phaseNoQuorum {
			continue // straddles a phase change: its outcome is not decided by no-quorum alone
		}
		checked++
		t.Logf("no-quorum create %s: %d after %s: %q %v", a.name, a.code, a.took.Round(time.Millisecond), a.msg, a.err)
		switch {
		case a.err != nil:
			t.Errorf("no-quorum create %s: no answer after %s: %v", a.name, a.took.Round(time.Millisecond), a.err)
		case a.ok():
			t.Errorf("no-quorum create %s succeeded (%d) with one of three members up", a.name, a.code)
		case a.code < 500:
			t.Errorf("no-quorum create %s: status %d, want a 5xx: %s", a.name, a.code, a.msg)
		case a.msg == "":
			t.Errorf("no-quorum create %s: status %d without a message", a.name, a.code)
		}
	}
	// A write etcd could not serve (the first after a member is lost, and
	// every one without quorum) is the storage being unavailable, not the
	// server failing: a retriable 503 or 504, never 500. etcd's own errors
	// come with Retry-After, as kube-apiserver answers storage it cannot
	// reach; a request that reaches its deadline first is answered by the
	// generic handlers' 504, which upstream sends without one.
	for _, a := range attempts {
		if a.err != nil || a.code < 500 {
			continue
		}
		handlerTimeout := a.code == http.StatusGatewayTimeout && strings.Contains(a.msg, "request did not complete within requested timeout")
		if a.code != http.StatusServiceUnavailable && a.code != http.StatusGatewayTimeout || a.retryAfter == "" && !handlerTimeout {
			t.Errorf("create %s (phase %s): status %d with Retry-After %q, want 503 or 504 with Retry-After: %s",
				a.name, phaseNames[a.endPhase], a.code, a.retryAfter, a.msg)
		}
	}
	t.Logf("checked %d creates that ran wholly without quorum; slowest answer %s", checked, load.slowest(phaseNoQuorum).Round(time.Millisecond))

	// Nothing acknowledged may be lost. Creates that failed may or may not
	// have been committed (a timed-out proposal can still commit once
	// quorum returns), so extra pods are only counted.
	cs := clientset.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := cs.CoreV1alpha1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	stored := make(map[string]bool, len(list.Items))
	for _, p := range list.Items {
		stored[p.Name] = true
	}
	acked, lost := 0, 0
	for _, a := range attempts {
		if !a.ok() {
			continue
		}
		acked++
		if !stored[a.name] {
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged create %s (phase %s) is missing", a.name, phaseNames[a.startPhase])
			}
		}
	}
	t.Logf("%d creates acknowledged, %d listed, %d lost, %d unacknowledged creates committed anyway", acked, len(list.Items), lost, len(list.Items)-(acked-lost))
	if lost > 0 {
		t.Errorf("%d acknowledged creates lost", lost)
	}
}

// probeHealth logs what /readyz and /livez answer; it asserts nothing, as
// whether a server without its storage is alive or ready is a policy
// choice, and the test only wants it on record.
func probeHealth(t *testing.T, server *framework.APIServer, when string) {
	t.Helper()
	for _, path := range []string{"/readyz?verbose", "/livez?verbose"} {
		start := time.Now()
		code, body, err := server.Get(path)
		if err != nil {
			t.Logf("%s: GET %s: %v after %s", when, path, err, time.Since(start).Round(time.Millisecond))
			continue
		}
		var failing []string
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "[-]") {
				failing = append(failing, line)
			}
		}
		t.Logf("%s: GET %s: %d in %s; failing checks: %v", when, path, code, time.Since(start).Round(time.Millisecond), failing)
	}
}

// attempt is one pod create and how it ended.
type attempt struct {
	name       string
	worker     int
	startPhase int
	endPhase   int
	took       time.Duration
	code       int    // HTTP status; 0 when no answer came
	msg        string // the Status message of an error answer
	retryAfter string // the Retry-After header of an error answer
	err        error  // transport error or client timeout: no answer
}

func (a attempt) ok() bool { return a.err == nil && a.code == http.StatusCreated }

// podLoad is a steady stream of pod creates from a few workers, each
// create with a fresh name, recording every attempt.
type podLoad struct {
	client  *http.Client
	url     string
	timeout time.Duration

	phase    atomic.Int32
	stopping atomic.Bool
	wg       sync.WaitGroup
	stopOnce sync.Once

	mu       sync.Mutex
	attempts []attempt
}

func (l *podLoad) setPhase(p int) { l.phase.Store(int32(p)) }

func (l *podLoad) start(workers int) {
	for w := 0; w < workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; !l.stopping.Load(); i++ {
				a := l.create(w, fmt.Sprintf("load-%d-%d", w, i))
				l.mu.Lock()
				l.attempts = append(l.attempts, a)
				l.mu.Unlock()
				// Paced, so the load is steady rather than a flood on a
				// shared two-core machine; a failure waits longer so a
				// fast-failing server is not spun against.
				pause := 20 * time.Millisecond
				if !a.ok() {
					pause = 200 * time.Millisecond
				}
				time.Sleep(pause)
			}
		}()
	}
}

// stop lets each worker finish its create in flight and waits for them.
func (l *podLoad) stop() {
	l.stopOnce.Do(func() {
		l.stopping.Store(true)
		l.wg.Wait()
	})
}

func (l *podLoad) create(worker int, name string) attempt {
	a := attempt{name: name, worker: worker, startPhase: int(l.phase.Load())}
	start := time.Now()
	a.code, a.msg, a.retryAfter, a.err = l.post(name)
	a.took = time.Since(start)
	a.endPhase = int(l.phase.Load())
	return a
}

func (l *podLoad) post(name string) (code int, msg, retryAfter string, err error) {
	pod := v1alpha1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "c", Image: "busybox"}}},
	}
	body, err := json.Marshal(pod)
	if err != nil {
		return 0, "", "", fmt.Errorf("encode pod %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, "", "", fmt.Errorf("create pod %s: %w", name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", "", fmt.Errorf("read answer to create %s: %w", name, err)
	}
	if resp.StatusCode == http.StatusCreated {
		return resp.StatusCode, "", "", nil
	}
	retryAfter = resp.Header.Get("Retry-After")
	var st metav1.Status
	if err := json.Unmarshal(data, &st); err == nil && st.Message != "" {
		return resp.StatusCode, st.Message, retryAfter, nil
	}
	return resp.StatusCode, strings.TrimSpace(string(data)), retryAfter, nil
}

func (l *podLoad) all() []attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]attempt(nil), l.attempts...)
}

// successes is how many creates succeeded and ended in phase p.
func (l *podLoad) successes(p int) int {
	n := 0
	for _, a := range l.all() {
		if a.endPhase == p && a.ok() {
			n++
		}
	}
	return n
}

// minPerWorker is the fewest attempts any worker has finished wholly
// inside phase p.
func (l *podLoad) minPerWorker(p, workers int) int {
	per := make([]int, workers)
	for _, a := range l.all() {
		if a.startPhase == p && a.endPhase == p {
			per[a.worker]++
		}
	}
	sort.Ints(per)
	return per[0]
}

// slowest is the longest time an attempt wholly inside phase p took.
func (l *podLoad) slowest(p int) time.Duration {
	var max time.Duration
	for _, a := range l.all() {
		if a.startPhase == p && a.endPhase == p && a.took > max {
			max = a.took
		}
	}
	return max
}

// summarizeErrors groups the failures of attempts that ended in phase p by
// status and message, most frequent first.
func summarizeErrors(attempts []attempt, p int) string {
	counts := map[string]int{}
	for _, a := range attempts {
		if a.endPhase != p || a.ok() {
			continue
		}
		key := fmt.Sprintf("%d %q", a.code, a.msg)
		if a.err != nil {
			var ne interface{ Timeout() bool }
			kind := "error"
			if errors.As(a.err, &ne) && ne.Timeout() {
				kind = "timeout"
			}
			key = fmt.Sprintf("no answer (%s): %v", kind, a.err)
		}
		counts[key]++
	}
	if len(counts) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return counts[keys[i]] > counts[keys[j]] || counts[keys[i]] == counts[keys[j]] && keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d× %s", counts[k], k)
	}
	return strings.Join(parts, "; ")
}
