package bench

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseProcStatus(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    ProcessMemory
		wantErr bool
	}{
		{
			name:   "resident and peak in kB",
			status: "Name:\tskiff-apiserver\nVmPeak:\t 2000000 kB\nVmHWM:\t  150000 kB\nVmRSS:\t  120000 kB\nThreads:\t12\n",
			want:   ProcessMemory{RSS: 120000 * 1024, PeakRSS: 150000 * 1024},
		},
		{
			name:   "with the anonymous part",
			status: "VmHWM:\t  150000 kB\nVmRSS:\t  120000 kB\nRssAnon:\t   80000 kB\nRssFile:\t   40000 kB\n",
			want:   ProcessMemory{RSS: 120000 * 1024, PeakRSS: 150000 * 1024, AnonRSS: 80000 * 1024},
		},
		{name: "a kernel thread has neither", status: "Name:\tkthreadd\nThreads:\t1\n", wantErr: true},
		{name: "a unit other than kB is not guessed at", status: "VmHWM:\t1 MB\nVmRSS:\t1 MB\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStatus(strings.NewReader(tt.status))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	// utime 250 and stime 50 ticks: 3 s. The command holds a space and a
	// parenthesis, as a process may name itself.
	const stat = "4242 (skiff sched) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 50 0 0 20 0 12 0 100 2000000 3000 18446744073709551615\n"
	got, err := parseProcStat(stat)
	if err != nil {
		t.Fatal(err)
	}
	if got != 3 {
		t.Errorf("CPU time %v s, want 3", got)
	}
	for _, bad := range []string{"", "4242 skiff S 1", "4242 (skiff) S 1 2 3"} {
		if _, err := parseProcStat(bad); err == nil {
			t.Errorf("parseProcStat(%q): no error", bad)
		}
	}
}

func TestReadOwnProcessCPU(t *testing.T) {
	// Spend some CPU so the reading cannot be zero.
	deadline := time.Now().Add(50 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
		_ = strings.Repeat("x", n%64)
	}
	s, err := ReadProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s <= 0 {
		t.Errorf("own CPU time %v s, want above 0 after a busy loop", s)
	}
}

func TestReadOwnProcessMemory(t *testing.T) {
	m, err := ReadProcessMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.PeakRSS < m.RSS {
		t.Errorf("own memory %+v: want a resident size and a peak at least as large", m)
	}
}

func TestMetricValue(t *testing.T) {
	metrics := `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.2345678e+08
process_resident_memory_bytes_total{x="y"} 5
apiserver_request_total{code="200",verb="LIST"} 3
`
	tests := []struct {
		name    string
		metric  string
		want    float64
		wantErr bool
	}{
		{name: "gauge in exponent notation", metric: "process_resident_memory_bytes", want: 1.2345678e+08},
		{name: "a metric that is only a prefix of another is absent", metric: "process_resident", wantErr: true},
		{name: "missing metric", metric: "process_virtual_memory_bytes", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := metricValue([]byte(metrics), tt.metric)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
