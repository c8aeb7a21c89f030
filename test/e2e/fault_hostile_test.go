package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench"
	"skiff.dev/skiff/pkg/bench/stats"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/e2e/framework"
)

// TestHostileRequestsAtVolume is fault 7 of the fault suite: bad input at
// volume. A seeded generator (hostile_gen_test.go) produces thousands of
// malformed and hostile writes (huge and endless bodies, deep nesting,
// invalid UTF-8, unknown fields, wrong kinds and types, overlong names and
// labels, costly quantities, bad metadata, lists of tens of thousands of
// bad items, truncated JSON, wrong content types, bad JSON, merge,
// strategic and apply patches, bad statuses and bindings, blind
// mutations) to pods, pods/status, pods/binding, nodes, events and leases,
// and eight workers send them to a running skiff-apiserver. Every one must
// be answered, with a 4xx unless the generator knows it may be valid (then
// 2xx or 4xx, never 5xx); the server's memory must stay bounded; and a
// steady stream of valid creates and gets must keep succeeding throughout.
//
// SKIFF_HOSTILE_SEED reruns a seed; SKIFF_HOSTILE_REQUESTS=i,j,... sends
// only those requests of it; SKIFF_HOSTILE_SAVE_DIR keeps the failing
// requests after the test; SKIFF_HOSTILE_VERBOSE logs every answer.
func TestHostileRequestsAtVolume(t *testing.T) {
	const (
		workers     = 8
		maxRequests = 12000
		// The storm stops issuing requests after this long, however many
		// were sent: it bounds the test's run time on a loaded machine.
		stormBudget = 45 * time.Second
		// A request unanswered after this long counts as a hang.
		requestTimeout = 30 * time.Second
		// memoryBound is generous: the server idles near 85 MiB and peaks
		// near 250-350 MiB in this storm (eight requests of up to 3 MiB in
		// flight, each decoded, validated and answered with copies, and Go
		// returning freed memory lazily). What it catches is growth that
		// follows the input rather than the limits: an unbounded body read
		// (one endless stream is up to 32 MiB, eight at once 256 MiB), a
		// quantity blow-up (10^2147483647 is an 890 MiB integer), or error
		// messages built in quadratic time (a 1 MB body of bad labels took
		// the server past 1.2 GiB before skiff capped its error lists).
		memoryBound = 1 << 30
	)

	seed := time.Now().UnixNano() % 1_000_000_000
	if s := os.Getenv("SKIFF_HOSTILE_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("SKIFF_HOSTILE_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (rerun with SKIFF_HOSTILE_SEED=%d)", seed, seed)
	var only []int
	if s := os.Getenv("SKIFF_HOSTILE_REQUESTS"); s != "" {
		for _, f := range strings.Split(s, ",") {
			i, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				t.Fatalf("SKIFF_HOSTILE_REQUESTS=%q: %v", s, err)
			}
			only = append(only, i)
		}
	}
	saveDir := os.Getenv("SKIFF_HOSTILE_SAVE_DIR")
	if saveDir == "" {
		saveDir = t.TempDir()
	} else if err := os.MkdirAll(saveDir, 0o755); err != nil {
		t.Fatalf("SKIFF_HOSTILE_SAVE_DIR: %v", err)
	}

	dataDir := filepath.Join(t.TempDir(), "data")
	server := framework.StartAPIServer(t, dataDir, framework.FreePort(t))
	cfg := server.AdminConfig(t)
	client := server.AdminClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The hostile traffic gets its own connection: with client-go's shared
	// transport it would share one HTTP/2 connection with the valid
	// traffic, and megabyte uploads would queue the valid requests behind
	// them on the client side. A Proxy function opts out of that cache.
	hostileCfg := rest.CopyConfig(cfg)
	hostileCfg.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	hostileClient, err := rest.HTTPClientFor(hostileCfg)
	if err != nil {
		t.Fatalf("build hostile HTTP client: %v", err)
	}

	if err := createHostileTargets(ctx, client, kubernetes.NewForConfigOrDie(cfg)); err != nil {
		t.Fatal(err)
	}

	// Memory: sample the server's resident set all along.
	mem := &rssSampler{pid: server.Pid()}
	stopSampling := mem.start(100 * time.Millisecond)
	defer stopSampling()

	// Valid traffic: creates and gets at a steady pace, before, during and
	// after the storm.
	steady := &steadyTraffic{client: client}
	stopSteady := steady.start(ctx)
	defer stopSteady()

	// Baseline after warm-up: the server has served the targets and two
	// seconds of valid traffic.
	time.Sleep(2 * time.Second)
	baseline := mem.peakAndReset()
	t.Logf("server RSS baseline after warm-up: %d MiB", baseline>>20)

	gen := newHostileGen(seed)
	stats := newHostileStats(t, saveDir, seed)
	deadline := time.Now().Add(stormBudget)
	stormStart := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1) - 1)
				var i int
				switch {
				case only != nil && n < len(only):
					i = only[n]
				case only != nil || n >= maxRequests || time.Now().After(deadline):
					return
				default:
					i = n
				}
				req := gen.request(i)
				stats.record(&req, sendHostile(ctx, hostileClient, hostileCfg.Host, &req, requestTimeout))
			}
		}()
	}
	wg.Wait()
	stormTook := time.Since(stormStart)
	stormPeak := mem.peakAndReset()

	// The server must still be whole: ready, and creating valid pods.
	time.Sleep(time.Second)
	stopSteady()
	stopSampling()
	if server.Exited() {
		t.Fatalf("skiff-apiserver exited during the storm")
	}
	if code, body, err := server.Get("/readyz"); err != nil || code != http.StatusOK {
		t.Errorf("after the storm /readyz: code %d, err %v, body %s", code, err, body)
	}
	final := validHostilePod("after-the-storm")
	if _, err := client.CoreV1alpha1().Pods("default").Create(ctx, final, metav1.CreateOptions{}); err != nil {
		t.Errorf("after the storm a valid create failed: %v", err)
	}

	stats.report(stormTook, workers)
	steady.report(t)
	finalRSS := mem.last()
	t.Logf("server RSS: baseline %d MiB, peak during the storm %d MiB (%.1fx baseline), final %d MiB; bound %d MiB",
		baseline>>20, stormPeak>>20, float64(stormPeak)/float64(baseline), finalRSS>>20, memoryBound>>20)
	if stormPeak > memoryBound {
		t.Errorf("server RSS peaked at %d MiB during the storm, over the %d MiB bound", stormPeak>>20, memoryBound>>20)
	}
	if mem.errors() > 0 {
		t.Errorf("%d RSS samples failed: %v", mem.errors(), mem.firstErr())
	}
}

// createHostileTargets creates the objects that updates, patches and
// subresource requests aim at.
func createHostileTargets(ctx context.Context, client clientset.Interface, kube kubernetes.Interface) error {
	c := client.CoreV1alpha1()
	for _, name := range hostileTargetPods {
		if _, err := c.Pods("default").Create(ctx, validHostilePod(name), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create target pod %s: %w", name, err)
		}
	}
	node := &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: hostileTargetNode, Labels: map[string]string{"zone": "a"}}}
	if _, err := c.Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create target node: %w", err)
	}
	event := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: hostileTargetEvt, Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: hostileTargetPods[0]},
		Reason:         "Tested", Message: "target", Type: "Normal", Count: 1,
	}
	if _, err := kube.CoreV1().Events("default").Create(ctx, event, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create target event: %w", err)
	}
	holder, duration := "holder", int32(10)
	lease := &v1alpha1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: hostileTargetLse, Namespace: "default"},
		Spec:       v1alpha1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &duration},
	}
	if _, err := c.Leases("default").Create(ctx, lease, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create target lease: %w", err)
	}
	return nil
}

// validHostilePod is the typed twin of validPodObject: patches aimed at the
// targets rely on the paths it has (resources, tolerations).
func validHostilePod(name string) *v1alpha1.Pod {
	grace := int64(30)
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "hostile"}, Annotations: map[string]string{"note": "x"}},
		Spec: v1alpha1.PodSpec{
			Containers: []v1alpha1.Container{{
				Name: "c", Image: "busybox", ImagePullPolicy: v1alpha1.PullIfNotPresent,
				Command: []string{"sleep", "3600"},
				Env:     []v1alpha1.EnvVar{{Name: "A", Value: "b"}},
				Ports:   []v1alpha1.ContainerPort{{ContainerPort: 80, Protocol: v1alpha1.ProtocolTCP}},
				Resources: v1alpha1.ResourceRequirements{
					Requests: v1alpha1.ResourceList{"cpu": resource.MustParse("100m"), "memory": resource.MustParse("64Mi")},
					Limits:   v1alpha1.ResourceList{"cpu": resource.MustParse("1"), "memory": resource.MustParse("128Mi")},
				},
			}},
			RestartPolicy:                 v1alpha1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: &grace,
			NodeSelector:                  map[string]string{"disk": "ssd"},
			Tolerations:                   []v1alpha1.Toleration{{Key: "k", Operator: "Equal", Value: "v", Effect: "NoSchedule"}},
		},
	}
}

// hostileOutcome is what the server answered to one request.
type hostileOutcome struct {
	code     int // 0: no answer
	err      error
	warnings []string
	message  string
	took     time.Duration
}

// sendHostile sends one generated request and reads the answer.
func sendHostile(ctx context.Context, client *http.Client, host string, req *hostileRequest, timeout time.Duration) hostileOutcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var body io.Reader = http.NoBody
	if req.Size() > 0 {
		body = req.Body()
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, host+req.Path, body)
	if err != nil {
		return hostileOutcome{err: fmt.Errorf("build request: %w", err)}
	}
	if body != http.NoBody {
		hr.ContentLength = req.Size()
		if req.Chunked {
			hr.ContentLength = -1
		}
	}
	hr.Header.Set("Content-Type", req.ContentType)
	hr.Header.Set("Accept", "application/json")
	resp, err := client.Do(hr)
	if err != nil {
		return hostileOutcome{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(io.LimitReader(resp.Body, 2048))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	out := hostileOutcome{code: resp.StatusCode, warnings: resp.Header.Values("Warning"), message: string(msg), took: time.Since(start)}
	if err != nil {
		out.err = fmt.Errorf("read the %d answer: %w", resp.StatusCode, err)
	}
	return out
}

// hostileStats tallies answers by category and code, and reports failures.
type hostileStats struct {
	t       *testing.T
	saveDir string
	seed    int64
	verbose bool // log every answer

	mu        sync.Mutex
	byCat     map[string]map[int]int
	byCode    map[int]int
	accepted  map[string]int // 2xx to inputs that may be valid
	sent      int
	bytes     int64
	slowest   time.Duration
	slowestOf string
	failures  int
}

func newHostileStats(t *testing.T, saveDir string, seed int64) *hostileStats {
	return &hostileStats{t: t, saveDir: saveDir, seed: seed, verbose: os.Getenv("SKIFF_HOSTILE_VERBOSE") != "",
		byCat: map[string]map[int]int{}, byCode: map[int]int{}, accepted: map[string]int{}}
}

// verdict says what is wrong with an outcome, or "" when it is right.
func verdict(req *hostileRequest, out hostileOutcome) string {
	switch {
	case out.err != nil && out.code == 0:
		return fmt.Sprintf("no answer: %v", out.err)
	case out.err != nil:
		return out.err.Error()
	case out.code >= 500:
		return fmt.Sprintf("server error %d", out.code)
	}
	ok4xx := out.code >= 400 && out.code < 500
	ok2xx := out.code >= 200 && out.code < 300
	switch req.Expect {
	case want4xx:
		if !ok4xx {
			return fmt.Sprintf("answered %d to invalid input, want 4xx", out.code)
		}
	case wantEither:
		if !ok4xx && !ok2xx {
			return fmt.Sprintf("answered %d, want 2xx or 4xx", out.code)
		}
	case wantWarned:
		if !ok2xx {
			return fmt.Sprintf("answered %d to a valid object with unknown fields, want 2xx with a warning", out.code)
		}
		if len(out.warnings) == 0 {
			return "accepted unknown fields without a Warning header"
		}
	}
	return ""
}

func (s *hostileStats) record(req *hostileRequest, out hostileOutcome) {
	v := verdict(req, out)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.verbose {
		s.t.Logf("#%d %s (%s) %s %s: %d in %s: %.200s", req.Index, req.Category, req.Variant, req.Method, truncate(req.Path, 100),
			out.code, out.took.Round(time.Millisecond), out.message)
	}
	s.sent++
	s.bytes += req.Size()
	if s.byCat[req.Category] == nil {
		s.byCat[req.Category] = map[int]int{}
	}
	s.byCat[req.Category][out.code]++
	s.byCode[out.code]++
	if req.Expect != want4xx && out.code >= 200 && out.code < 300 {
		s.accepted[req.Category]++
	}
	if out.took > s.slowest {
		s.slowest, s.slowestOf = out.took, fmt.Sprintf("#%d %s (%s)", req.Index, req.Category, req.Variant)
	}
	if v == "" {
		return
	}
	s.failures++
	if s.failures > 30 {
		return // the histogram still counts them
	}
	saved := s.save(req)
	body := req.Body()
	head, _ := io.ReadAll(io.LimitReader(body, 300))
	s.t.Errorf("request #%d (%s: %s) %s %s [%s, %d bytes, want %s]: %s\n  answer: %.300s\n  body: %q\n  saved: %s",
		req.Index, req.Category, req.Variant, req.Method, truncate(req.Path, 200), truncate(req.ContentType, 60), req.Size(), req.Expect,
		v, out.message, head, saved)
}

// save writes the request where it can be replayed from: method, path and
// content type on the first lines, then the body.
func (s *hostileStats) save(req *hostileRequest) string {
	path := filepath.Join(s.saveDir, fmt.Sprintf("hostile-seed%d-req%d.http", s.seed, req.Index))
	f, err := os.Create(path)
	if err != nil {
		return fmt.Sprintf("(not saved: %v)", err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "%s %s\nContent-Type: %s\n\n", req.Method, req.Path, req.ContentType)
	if _, err := io.Copy(w, req.Body()); err != nil {
		return fmt.Sprintf("(not saved: %v)", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Sprintf("(not saved: %v)", err)
	}
	return path
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s...(%d bytes)", s[:n], len(s))
}

// report logs the histogram of answers by category and code.
func (s *hostileStats) report(took time.Duration, workers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.t
	t.Logf("sent %d hostile requests (%d MiB of bodies) in %s (%.0f/s) from %d workers; slowest answer %s for %s",
		s.sent, s.bytes>>20, took.Round(time.Millisecond), float64(s.sent)/took.Seconds(), workers, s.slowest.Round(time.Millisecond), s.slowestOf)
	codes := sortedInts(s.byCode)
	var b strings.Builder
	fmt.Fprintf(&b, "%-15s %6s", "category", "total")
	for _, c := range codes {
		fmt.Fprintf(&b, " %5d", c)
	}
	b.WriteString("  accepted-as-valid\n")
	cats := make([]string, 0, len(s.byCat))
	for c := range s.byCat {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, cat := range cats {
		total := 0
		for _, n := range s.byCat[cat] {
			total += n
		}
		fmt.Fprintf(&b, "%-15s %6d", cat, total)
		for _, c := range codes {
			fmt.Fprintf(&b, " %5d", s.byCat[cat][c])
		}
		fmt.Fprintf(&b, "  %d\n", s.accepted[cat])
	}
	fmt.Fprintf(&b, "%-15s %6d", "all", s.sent)
	for _, c := range codes {
		fmt.Fprintf(&b, " %5d", s.byCode[c])
	}
	b.WriteString("\n(code 0: no answer)")
	t.Logf("answers by category and HTTP code:\n%s", b.String())
	if s.failures > 0 {
		t.Errorf("%d of %d hostile requests were answered wrongly (seed %d)", s.failures, s.sent, s.seed)
	}
}

func sortedInts(m map[int]int) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// steadyTraffic creates and reads back valid pods at a steady pace.
type steadyTraffic struct {
	client clientset.Interface

	mu       sync.Mutex
	creates  []time.Duration
	gets     []time.Duration
	failures []string
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

func (s *steadyTraffic) start(ctx context.Context) (stop func()) {
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.done)
		pods := s.client.CoreV1alpha1().Pods("default")
		for i := 0; ; i++ {
			select {
			case <-s.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			name := fmt.Sprintf("steady-%d", i)
			start := time.Now()
			_, err := pods.Create(ctx, validHostilePod(name), metav1.CreateOptions{})
			took := time.Since(start)
			if err != nil {
				s.fail(fmt.Sprintf("create %s after %s: %v", name, took, err))
				continue
			}
			start = time.Now()
			got, err := pods.Get(ctx, name, metav1.GetOptions{})
			gotTook := time.Since(start)
			s.mu.Lock()
			s.creates = append(s.creates, took)
			s.gets = append(s.gets, gotTook)
			s.mu.Unlock()
			switch {
			case err != nil:
				s.fail(fmt.Sprintf("get %s after %s: %v", name, gotTook, err))
			case got.Spec.Containers[0].Image != "busybox":
				s.fail(fmt.Sprintf("get %s: image %q, want busybox", name, got.Spec.Containers[0].Image))
			}
		}
	}()
	return func() {
		s.once.Do(func() { close(s.stop) })
		<-s.done
	}
}

func (s *steadyTraffic) fail(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, msg)
}

func (s *steadyTraffic) report(t *testing.T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	creates, gets := stats.Summarize(s.creates), stats.Summarize(s.gets)
	t.Logf("valid traffic: %d creates (p50 %s, p99 %s, max %s), %d gets (p50 %s, p99 %s, max %s), %d failures",
		creates.Count, creates.P50, creates.P99, creates.Max, gets.Count, gets.P50, gets.P99, gets.Max, len(s.failures))
	for i, f := range s.failures {
		if i == 10 {
			t.Errorf("... and %d more valid requests failed", len(s.failures)-10)
			break
		}
		t.Errorf("valid request failed during the storm: %s", f)
	}
	if len(s.creates) == 0 {
		t.Errorf("no valid pod was created during the storm")
	}
}

// rssSampler samples a process's VmRSS from /proc.
type rssSampler struct {
	pid int

	mu     sync.Mutex
	peak   int64
	latest int64
	failed int
	err0   error
}

func (m *rssSampler) start(every time.Duration) (stop func()) {
	stopCh, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			m.sample()
			select {
			case <-stopCh:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(stopCh) })
		<-done
	}
}

func (m *rssSampler) sample() {
	mem, err := bench.ReadProcessMemory(m.pid)
	rss := mem.RSS
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.failed++
		if m.err0 == nil {
			m.err0 = err
		}
		return
	}
	m.latest = rss
	m.peak = max(m.peak, rss)
}

// peakAndReset returns the peak since the last call.
func (m *rssSampler) peakAndReset() int64 {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.peak
	m.peak = m.latest
	return p
}

func (m *rssSampler) last() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.latest
}

func (m *rssSampler) errors() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed
}

func (m *rssSampler) firstErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err0
}
