package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"

	"skiff.dev/skiff/pkg/kubelet/logs"
)

// output connects a container's stdout and stderr, through one FIFO each,
// to its log file.
type output struct {
	fifos []string
	// childStdout and childStderr are the FIFOs opened read-write, handed
	// to the process: holding a read end itself, it never gets SIGPIPE.
	childStdout, childStderr *os.File
	stdout, stderr           *os.File
	log                      *os.File
}

// openOutput creates the FIFOs of a new container and opens its log.
func openOutput(stdoutFIFO, stderrFIFO, logPath string) (o *output, err error) {
	o = &output{fifos: []string{stdoutFIFO, stderrFIFO}}
	defer func() {
		if err != nil {
			o.closeChildEnds()
			o.close()
		}
	}()
	for _, p := range o.fifos {
		_ = os.Remove(p)
		if err := unix.Mkfifo(p, 0o600); err != nil {
			return nil, fmt.Errorf("create fifo %s: %w", p, err)
		}
	}
	if o.childStdout, err = openChildEnd(stdoutFIFO); err != nil {
		return nil, err
	}
	if o.childStderr, err = openChildEnd(stderrFIFO); err != nil {
		return nil, err
	}
	if err := o.openReadEnds(logPath); err != nil {
		return nil, err
	}
	return o, nil
}

// reopenOutput reattaches to the FIFOs of an adopted container.
func reopenOutput(stdoutFIFO, stderrFIFO, logPath string) (*output, error) {
	o := &output{fifos: []string{stdoutFIFO, stderrFIFO}}
	if err := o.openReadEnds(logPath); err != nil {
		o.close()
		return nil, err
	}
	return o, nil
}

func openChildEnd(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open fifo %s: %w", path, err)
	}
	// A bigger pipe lets the process write on while the kubelet restarts.
	if _, err := unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, pipeSize); err != nil {
		klog.V(4).InfoS("Could not grow fifo", "path", path, "err", err)
	}
	return f, nil
}

func (o *output) openReadEnds(logPath string) error {
	var err error
	// Non-blocking, so opening does not wait for a writer and reads go
	// through Go's poller; a FIFO without writers reads as EOF.
	if o.stdout, err = os.OpenFile(o.fifos[0], os.O_RDONLY|syscall.O_NONBLOCK, 0); err != nil {
		return fmt.Errorf("open fifo: %w", err)
	}
	if o.stderr, err = os.OpenFile(o.fifos[1], os.O_RDONLY|syscall.O_NONBLOCK, 0); err != nil {
		return fmt.Errorf("open fifo: %w", err)
	}
	if o.log, err = os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	return nil
}

// copy copies both streams into the log, and to the clients attached to
// att, until their writers are gone; the returned channel is closed when
// both are done.
func (o *output) copy(att *attachments) <-chan struct{} {
	w := logs.NewWriter(o.log, nil)
	done := make(chan struct{})
	errs := make(chan error, 2)
	go func() { errs <- w.Copy(logs.Stdout, io.TeeReader(o.stdout, att.writer(true))) }()
	go func() { errs <- w.Copy(logs.Stderr, io.TeeReader(o.stderr, att.writer(false))) }()
	go func() {
		for range 2 {
			if err := <-errs; err != nil && !errors.Is(err, os.ErrClosed) {
				klog.V(2).InfoS("Copying container output", "err", err)
			}
		}
		close(done)
	}()
	return done
}

// closeChildEnds closes the kubelet's copies of the process's ends.
func (o *output) closeChildEnds() {
	for _, f := range []*os.File{o.childStdout, o.childStderr} {
		if f != nil {
			f.Close()
		}
	}
}

// close closes the read ends and the log, and removes the FIFOs: only a
// running container needs them.
func (o *output) close() {
	for _, f := range []*os.File{o.stdout, o.stderr, o.log} {
		if f != nil {
			f.Close()
		}
	}
	for _, p := range o.fifos {
		_ = os.Remove(p)
	}
}
