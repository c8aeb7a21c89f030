package runtime

import (
	"strings"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// Expand replaces $(NAME) references in s the way Kubernetes does for
// command, args and env values: a defined name is replaced by its value, an
// undefined one is left as written, and $$ escapes a literal $.
func Expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// ContainerEnv returns the container's environment with references
// expanded: each value may refer to the variables defined before it, and to
// base (what the runtime itself provides), as upstream allows.
func ContainerEnv(c *v1alpha1.Container, base map[string]string) []v1alpha1.EnvVar {
	defined := make(map[string]string, len(base)+len(c.Env))
	for k, v := range base {
		defined[k] = v
	}
	lookup := func(name string) (string, bool) { v, ok := defined[name]; return v, ok }
	out := make([]v1alpha1.EnvVar, 0, len(c.Env))
	for _, e := range c.Env {
		v := Expand(e.Value, lookup)
		defined[e.Name] = v
		out = append(out, v1alpha1.EnvVar{Name: e.Name, Value: v})
	}
	return out
}

// ContainerCommand returns command and args with references to env expanded.
func ContainerCommand(c *v1alpha1.Container, env []v1alpha1.EnvVar) (command, args []string) {
	defined := make(map[string]string, len(env))
	for _, e := range env {
		defined[e.Name] = e.Value
	}
	lookup := func(name string) (string, bool) { v, ok := defined[name]; return v, ok }
	for _, s := range c.Command {
		command = append(command, Expand(s, lookup))
	}
	for _, s := range c.Args {
		args = append(args, Expand(s, lookup))
	}
	return command, args
}
