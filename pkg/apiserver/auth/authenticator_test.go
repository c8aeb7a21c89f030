package auth

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
)

func TestAuthenticator(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte("s3cret,kubelet-n1,uid-1,\"system:nodes,extra\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	authn, err := NewAuthenticator(nil, tokenFile)
	if err != nil {
		t.Fatalf("NewAuthenticator: %v", err)
	}
	tests := []struct {
		name       string
		path       string
		token      string
		wantOK     bool
		wantUser   string
		wantGroups []string
	}{
		{name: "a known token is its user, authenticated", path: "/apis", token: "s3cret", wantOK: true,
			wantUser: "kubelet-n1", wantGroups: []string{"system:nodes", "extra", user.AllAuthenticated}},
		{name: "no credentials on /healthz is anonymous", path: "/healthz", wantOK: true,
			wantUser: user.Anonymous, wantGroups: []string{user.AllUnauthenticated}},
		{name: "no credentials on /version is anonymous", path: "/version", wantOK: true,
			wantUser: user.Anonymous, wantGroups: []string{user.AllUnauthenticated}},
		{name: "no credentials on the API is refused", path: "/apis/core.skiff.dev/v1alpha1/pods", wantOK: false},
		{name: "an unknown token on the API is refused", path: "/apis/core.skiff.dev/v1alpha1/pods", token: "wrong", wantOK: false},
		{name: "an unknown token on /healthz is refused, not anonymous", path: "/healthz", token: "wrong", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, "https://skiff.test"+tt.path, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, ok, _ := authn.AuthenticateRequest(req)
			if ok != tt.wantOK {
				t.Fatalf("authenticated = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if got := resp.User.GetName(); got != tt.wantUser {
				t.Errorf("user = %q, want %q", got, tt.wantUser)
			}
			groups := map[string]bool{}
			for _, g := range resp.User.GetGroups() {
				groups[g] = true
			}
			for _, g := range tt.wantGroups {
				if !groups[g] {
					t.Errorf("groups = %v, want %q among them", resp.User.GetGroups(), g)
				}
			}
		})
	}
}

func TestAuthenticatorMissingTokenFile(t *testing.T) {
	if _, err := NewAuthenticator(nil, filepath.Join(t.TempDir(), "missing.csv")); err == nil {
		t.Error("a missing --token-auth-file was accepted")
	}
}

// TestTokenReviewAuthenticator: a reviewed token is the user a request with
// it would be, in system:authenticated exactly once; no file, no tokens.
func TestTokenReviewAuthenticator(t *testing.T) {
	if a, err := NewTokenReviewAuthenticator(""); a != nil || err != nil {
		t.Errorf("no token file: %v, %v; want nil, nil", a, err)
	}
	file := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(file, []byte("t1,alice,u1,\"dev\"\nt2,bob,u2,\"system:authenticated\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := NewTokenReviewAuthenticator(file)
	if err != nil {
		t.Fatal(err)
	}
	for token, want := range map[string][]string{"t1": {"dev", "system:authenticated"}, "t2": {"system:authenticated"}} {
		resp, ok, err := a.AuthenticateToken(context.Background(), token)
		if err != nil || !ok || !slices.Equal(resp.User.GetGroups(), want) {
			t.Errorf("token %s: %+v %v %v, want groups %v", token, resp, ok, err, want)
		}
	}
	if _, ok, _ := a.AuthenticateToken(context.Background(), "guess"); ok {
		t.Error("a guessed token authenticated")
	}
}
