package bench

import (
	"os"
	"strings"
	"testing"
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
