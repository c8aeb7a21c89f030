package etcd

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/server/v3/embed"
	"golang.org/x/sys/unix"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
)

// How the embedded etcd lives on a disk that can fill.
//
// etcd does not survive a full disk: a WAL append or a bbolt page write
// that fails for want of space ends the process (bbolt's "fatal", raft's
// "failed to save"), and the API server with it. What etcd offers instead
// is its space quota (--quota-backend-bytes): a write that would take the
// database past it is refused, the NOSPACE alarm is raised, and from then
// on only reads and deletes are served until an operator compacts,
// defragments and disarms the alarm. But the quota counts the database
// only, not the WAL (a 64 MiB segment at a time, kept until a snapshot
// covers it) nor whatever else shares the volume. So skiff:
//   - refuses to start when the volume cannot hold a WAL segment and a
//     database, with an error that says so (not a panic from deep in etcd);
//   - sizes the quota to the volume: a third of what is free for the
//     database, the rest for the WAL and defragmentation;
//   - allocates the database file's disk blocks up to the quota ahead of
//     time (fallocate, keeping its size), so that bbolt's page writes land
//     in blocks it already has and cannot fail when someone else fills
//     the volume (etcd preallocates each WAL segment, and the next one
//     ahead, for the same reason);
//   - watches the volume's free space, and refuses writes at the API
//     server (503 with Retry-After) while less than reserveBytes is free,
//     before etcd can hit the end of the disk;
//   - once space is back, does what an operator does after NOSPACE:
//     defragments the database if that gives space back, and disarms the
//     alarm, so service resumes without a restart.
const (
	// walSegmentBytes is the size etcd preallocates for each WAL file.
	walSegmentBytes = 64 << 20
	// MinFreeBytes is what a start needs free: a WAL segment, the first
	// pages of the database, and the reserve.
	MinFreeBytes = walSegmentBytes + reserveBytes
	// reserveBytes is the free space below which writes are refused: room
	// for the WAL to cut its next segment and for the deletes and
	// compactions that free space.
	reserveBytes = 48 << 20
	// resumeBytes is the free space above which writes resume, a little
	// over the reserve so that the gate does not flap.
	resumeBytes = reserveBytes + 16<<20
	// maxQuotaBytes is etcd's recommended maximum quota.
	maxQuotaBytes = 8 << 30
	// minQuotaBytes is a floor: etcd needs some room to be of use at all.
	minQuotaBytes = 16 << 20
	// spaceCheckInterval is how often free space is measured.
	spaceCheckInterval = time.Second
)

// freeBytes is the space an unprivileged writer may still use on the
// volume holding dir.
func freeBytes(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("measure free space of %s: %w", dir, err)
	}
	return int64(st.Bavail) * st.Bsize, nil
}

// checkStartSpace fails with a clear error when dir's volume cannot hold
// what etcd writes at start.
func checkStartSpace(dir string) (free int64, err error) {
	free, err = freeBytes(dir)
	if err != nil {
		return 0, err
	}
	if free < MinFreeBytes {
		return free, fmt.Errorf("the volume of %s has %d MiB free; the embedded etcd needs at least %d MiB (a %d MiB WAL segment and %d MiB in reserve): free some space or choose another --data-dir",
			dir, free>>20, MinFreeBytes>>20, walSegmentBytes>>20, reserveBytes>>20)
	}
	return free, nil
}

// quotaFor sizes the backend quota for a volume with free bytes free and a
// database of dbBytes already on it.
func quotaFor(free, dbBytes int64) int64 {
	// A third for the database: the WAL holds every write since the last
	// snapshot (as much again), and a defragmentation writes a copy.
	q := (free-MinFreeBytes)/3 + dbBytes
	return min(max(q, minQuotaBytes), maxQuotaBytes)
}

// spaceGuard watches a data dir's volume and the etcd on it.
type spaceGuard struct {
	dir  string
	etcd *embed.Etcd
	// low is set while writes are refused for want of free space.
	low  atomic.Bool
	free atomic.Int64
}

// WriteRefusal is nil while etcd's volume has room for writes, and
// otherwise the 503 to answer them with.
func (g *spaceGuard) WriteRefusal() error {
	if !g.low.Load() {
		return nil
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure,
		Code:   http.StatusServiceUnavailable,
		Reason: metav1.StatusReasonServiceUnavailable,
		Message: fmt.Sprintf("the storage volume is full (%d MiB free of the %d MiB kept in reserve): writes are refused until space is freed",
			g.free.Load()>>20, reserveBytes>>20),
		Details: &metav1.StatusDetails{RetryAfterSeconds: 10},
	}}
}

// run checks free space and the NOSPACE alarm until ctx ends.
func (g *spaceGuard) run(ctx context.Context) {
	tick := time.NewTicker(spaceCheckInterval)
	defer tick.Stop()
	for {
		g.check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (g *spaceGuard) check(ctx context.Context) {
	free, err := freeBytes(g.dir)
	if err != nil {
		klog.ErrorS(err, "Cannot watch the embedded etcd's free space")
		return
	}
	g.free.Store(free)
	switch {
	case !g.low.Load() && free < reserveBytes:
		g.low.Store(true)
		klog.InfoS("Embedded etcd's volume is nearly full: refusing writes until space is freed", "dir", g.dir, "freeMiB", free>>20, "reserveMiB", reserveBytes>>20)
	case g.low.Load() && free >= resumeBytes:
		g.low.Store(false)
		klog.InfoS("Embedded etcd's volume has space again: accepting writes", "dir", g.dir, "freeMiB", free>>20)
	}
	g.recoverFromNoSpace(ctx, free)
}

// recoverFromNoSpace does, while writes are refused, what an operator does
// after etcd's NOSPACE alarm: defragment when that returns space (deleted
// and compacted revisions leave free pages that the quota and the disk
// still count) and there is room on disk for the copy it makes, then, once
// the database is under its quota and the volume has room, disarm the
// alarm.
func (g *spaceGuard) recoverFromNoSpace(ctx context.Context, free int64) {
	s := g.etcd.Server
	var alarmed bool
	for _, a := range s.Alarms() {
		if a.Alarm == pb.AlarmType_NOSPACE {
			alarmed = true
		}
	}
	if !alarmed && !g.low.Load() {
		return
	}
	be := s.Backend()
	quota := s.Cfg.QuotaBackendBytes
	size, inUse := be.Size(), be.SizeInUse()
	if size-inUse > size/4 && free > inUse+walSegmentBytes/4 {
		start := time.Now()
		if err := be.Defrag(); err != nil {
			klog.ErrorS(err, "Defragment the embedded etcd after NOSPACE")
			return
		}
		klog.InfoS("Defragmented the embedded etcd", "beforeMiB", size>>20, "afterMiB", be.Size()>>20, "took", time.Since(start))
		size = be.Size()
		// The defragmented copy is a new file, without the old one's
		// blocks: allocate them again.
		if err := preallocateDB(g.dir, quota); err != nil {
			klog.ErrorS(err, "Allocate the embedded etcd's database blocks after defragmenting")
		}
	}
	// Disarm only with space on the volume and a tenth of the quota free,
	// or the next write raises the alarm again.
	if !alarmed || g.low.Load() || size > quota-quota/10 {
		return
	}
	req := &pb.AlarmRequest{Action: pb.AlarmRequest_DEACTIVATE, MemberID: uint64(s.MemberID()), Alarm: pb.AlarmType_NOSPACE}
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.Alarm(actx, req); err != nil {
		klog.ErrorS(err, "Disarm the embedded etcd's NOSPACE alarm")
		return
	}
	klog.InfoS("Disarmed the embedded etcd's NOSPACE alarm", "dbMiB", size>>20, "quotaMiB", quota>>20)
}

// dbPath is where etcd keeps its database under dir.
func dbPath(dir string) string { return filepath.Join(dir, "member", "snap", "db") }

// preallocateDB allocates the disk blocks of dir's database file up to
// bytes without changing its size (FALLOC_FL_KEEP_SIZE): bbolt grows the
// file by truncating it longer, which on most filesystems allocates
// nothing, so its page writes would otherwise need new blocks, and fail
// fatally on a full volume.
func preallocateDB(dir string, bytes int64) error {
	f, err := os.OpenFile(dbPath(dir), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open the embedded etcd's database: %w", err)
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, bytes); err != nil {
		return fmt.Errorf("allocate %d MiB for %s: %w", bytes>>20, f.Name(), err)
	}
	return nil
}
