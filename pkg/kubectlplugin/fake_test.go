package kubectlplugin

import (
	"bytes"
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
)

// fakeFactory hands the commands a fake clientset.
type fakeFactory struct {
	client *fake.Clientset
	ns     string
}

func (f fakeFactory) Client() (clientset.Interface, error) { return f.client, nil }
func (f fakeFactory) Namespace() (string, error)           { return f.ns, nil }
func (f fakeFactory) RESTConfig() (*rest.Config, error) {
	return nil, errors.New("the fake factory has no server to stream from")
}

// runFake runs the plugin with args on a fake clientset holding objects.
func runFake(t *testing.T, client *fake.Clientset, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCommandWithFactory(fakeFactory{client: client, ns: "default"}, genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func newFake(objects ...runtime.Object) *fake.Clientset { return fake.NewClientset(objects...) }
