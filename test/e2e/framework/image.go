package framework

import (
	"debug/elf"
)

// StaticBusybox returns the path of a statically linked busybox (Debian's
// busybox-static), or "" when there is none: only a static binary runs
// alone in an image's single layer.
func StaticBusybox() string {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p
		}
	}
	return ""
}
