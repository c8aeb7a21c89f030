package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/test/e2e/framework"
)

// TestWatchStormOverLargeObject is fault 8 of the fault suite: one pod
// near the largest etcd stores (100k labels, about 1.4 MB of JSON), then
// 200 watches opened at once with resourceVersion=0, as 200 informers
// starting together do, each sent the pod, then a few updates of it sent
// to all 200. The server's memory must follow the object times a small
// factor, not the object times the watchers (it took 3.8 GB of heap and
// kept 4.1 GB of RSS before skiff bounded it), and must be handed back
// once the watches end. Figures are printed; only a generous ceiling is
// asserted.
func TestWatchStormOverLargeObject(t *testing.T) {
	const (
		watchers = 200
		labels   = 100_000
		updates  = 3
		// rssCeiling is generous: the server idles near 80 MiB and peaks
		// near 250 MiB here (the pod held a few times over: the etcd
		// value, the watch cache, one shared encoding per format, and the
		// copies of the few watches initializing at once). Before skiff
		// bounded it this storm peaked at 3.9 GiB and kept it; with shared
		// encodings but unbounded initialization, 1.5 GiB.
		rssCeiling = 1 << 30
	)
	dataDir := filepath.Join(t.TempDir(), "data")
	server := framework.StartAPIServer(t, dataDir, framework.FreePort(t))
	cfg := server.AdminConfig(t)
	client := server.AdminClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	mem := &rssSampler{pid: server.Pid()}
	stopSampling := mem.start(100 * time.Millisecond)
	defer stopSampling()
	time.Sleep(time.Second)
	baseline := mem.peakAndReset()

	big := &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "big", Labels: make(map[string]string, labels)},
		Spec:       v1alpha1.PodSpec{Containers: []v1alpha1.Container{{Name: "c", Image: "busybox"}}},
	}
	for i := 0; i < labels; i++ {
		big.Labels[fmt.Sprintf("l%06d", i)] = "v"
	}
	pods := client.CoreV1alpha1().Pods("default")
	if _, err := pods.Create(ctx, big, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create the large pod: %v", err)
	}
	afterCreate := mem.peakAndReset()

	// Raw HTTP/2 streams, JSON as kubectl asks, each read to the end as a
	// live informer reads.
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var received atomic.Int64
	watchCtx, stopWatches := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, watchers)
	url := cfg.Host + "/apis/core.skiff.dev/v1alpha1/namespaces/default/pods?watch=1&resourceVersion=0"
	for i := 0; i < watchers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(watchCtx, http.MethodGet, url, nil)
			req.Header.Set("Accept", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				if watchCtx.Err() == nil {
					errs <- err
				}
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("watch: HTTP %d", resp.StatusCode)
				return
			}
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
			for sc.Scan() {
				received.Add(1)
			}
		}()
	}
	want := int64(watchers)
	framework.WaitFor(t, 5*time.Minute, "every watcher to receive the large pod", func() (bool, error) {
		select {
		case err := <-errs:
			return false, err
		default:
		}
		return received.Load() >= want, nil
	})
	for i := 1; i <= updates; i++ {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"round":"%d"}}}`, i)
		if _, err := pods.Patch(ctx, "big", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatalf("update %d of the large pod: %v", i, err)
		}
		want += watchers
		framework.WaitFor(t, 5*time.Minute, fmt.Sprintf("every watcher to receive update %d", i), func() (bool, error) {
			return received.Load() >= want, nil
		})
	}
	stormPeak := mem.peakAndReset()
	stopWatches()
	wg.Wait()

	// Memory handed back: sampled for a while after the watches ended;
	// printed, not asserted.
	var settled int64
	settleStart := time.Now()
	for time.Since(settleStart) < 90*time.Second {
		time.Sleep(5 * time.Second)
		if settled = mem.peakAndReset(); settled < 2*afterCreate {
			break
		}
	}
	settleTook := time.Since(settleStart).Round(time.Second)
	if server.Exited() {
		t.Fatal("skiff-apiserver exited during the storm")
	}
	if _, err := pods.Get(ctx, "big", metav1.GetOptions{}); err != nil {
		t.Errorf("get the large pod after the storm: %v", err)
	}
	t.Logf("server RSS: baseline %d MiB, after the create %d MiB, peak with %d watchers %d MiB, %s after they ended %d MiB; ceiling %d MiB",
		baseline>>20, afterCreate>>20, watchers, stormPeak>>20, settleTook, settled>>20, rssCeiling>>20)
	if stormPeak > rssCeiling {
		t.Errorf("server RSS peaked at %d MiB with %d watchers of one large pod, over the %d MiB ceiling", stormPeak>>20, watchers, rssCeiling>>20)
	}
	if mem.errors() > 0 {
		t.Errorf("%d RSS samples failed: %v", mem.errors(), mem.firstErr())
	}
}
