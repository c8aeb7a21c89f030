package runtime

import (
	"reflect"
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"NAME": "world", "EMPTY": ""}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	for _, tc := range []struct{ name, in, want string }{
		{"plain text is unchanged", "hello", "hello"},
		{"a defined variable is replaced", "hello $(NAME)!", "hello world!"},
		{"an empty variable is replaced by nothing", "a$(EMPTY)b", "ab"},
		{"an undefined variable is left as written", "$(MISSING) x", "$(MISSING) x"},
		{"a double dollar escapes", "$$(NAME)", "$(NAME)"},
		{"a lone dollar stays", "cost $5 $", "cost $5 $"},
		{"an unclosed reference stays", "$(NAME", "$(NAME"},
		{"shell variables are not touched", "echo $NAME ${NAME}", "echo $NAME ${NAME}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Expand(tc.in, lookup); got != tc.want {
				t.Errorf("Expand(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestContainerEnvAndCommand(t *testing.T) {
	c := &v1alpha1.Container{
		Command: []string{"echo", "$(GREETING)"},
		Args:    []string{"$(LATER)", "$(HOME)"},
		Env: []v1alpha1.EnvVar{
			{Name: "EARLY", Value: "$(GREETING)"},
			{Name: "GREETING", Value: "hi $(HOME)"},
			{Name: "LATER", Value: "$(GREETING)!"},
		},
	}
	env := ContainerEnv(c, map[string]string{"HOME": "/h"})
	want := []v1alpha1.EnvVar{{Name: "EARLY", Value: "$(GREETING)"}, {Name: "GREETING", Value: "hi /h"}, {Name: "LATER", Value: "hi /h!"}}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env = %v, want %v (a value sees only variables defined before it)", env, want)
	}
	cmd, args := ContainerCommand(c, env)
	if !reflect.DeepEqual(cmd, []string{"echo", "hi /h"}) || !reflect.DeepEqual(args, []string{"hi /h!", "$(HOME)"}) {
		t.Errorf("command %v args %v: want references to the container env expanded, others kept", cmd, args)
	}
}

func TestLatest(t *testing.T) {
	cs := []Container{
		{ID: "a0", Name: "a", Attempt: 0},
		{ID: "b0", Name: "b", Attempt: 0},
		{ID: "a2", Name: "a", Attempt: 2},
		{ID: "a1", Name: "a", Attempt: 1},
	}
	latest, prev := Latest(cs, "a")
	if latest == nil || latest.ID != "a2" || prev == nil || prev.ID != "a1" {
		t.Errorf("Latest(a) = %v, %v; want a2, a1", latest, prev)
	}
	latest, prev = Latest(cs, "b")
	if latest == nil || latest.ID != "b0" || prev != nil {
		t.Errorf("Latest(b) = %v, %v; want b0, nil", latest, prev)
	}
	if latest, prev = Latest(cs, "c"); latest != nil || prev != nil {
		t.Errorf("Latest(c) = %v, %v; want nothing", latest, prev)
	}
}
