package skiff

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"skiff.dev/skiff/pkg/pki"
)

type servingCertOptions struct {
	dataDir   string
	nodeName  string
	addresses []string
	certFile  string
	keyFile   string
}

func newKubeletServingCertCommand() *cobra.Command {
	o := &servingCertOptions{dataDir: "./skiff-data"}
	cmd := &cobra.Command{
		Use:   "kubelet-serving-cert --node-name NAME --address IP_OR_NAME...",
		Short: "Mint a kubelet's serving certificate, signed by the data dir's CA",
		Long: `Mints the serving certificate of a kubelet's HTTPS API for its node name and
every address it reports (--node-ip, hostname), signed by the CA in --data-dir.
The API server verifies it (--kubelet-certificate-authority, by default that CA)
before it sends the kubelet a pods/log request. Give the kubelet the files with
--tls-cert-file and --tls-private-key-file:

  skiff kubelet-serving-cert --node-name worker-1 --address 10.0.0.5 \
      --cert-file worker-1.crt --key-file worker-1.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run() },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.dataDir, "data-dir", o.dataDir, "The API server's --data-dir, which holds the CA.")
	fs.StringVar(&o.nodeName, "node-name", "", "The kubelet's --node-name.")
	fs.StringArrayVar(&o.addresses, "address", nil, "An IP address or DNS name the node reports (its --node-ip, hostname); repeat for several.")
	fs.StringVar(&o.certFile, "cert-file", "", "Where to write the certificate (default NODE.crt).")
	fs.StringVar(&o.keyFile, "key-file", "", "Where to write the key, mode 0600 (default NODE.key).")
	_ = cmd.MarkFlagRequired("node-name")
	return cmd
}

func (o *servingCertOptions) run() error {
	ca, err := pki.LoadCA(filepath.Join(o.dataDir, "pki"))
	if err != nil {
		return fmt.Errorf("no CA in --data-dir %s (start skiff-apiserver there first): %w", o.dataDir, err)
	}
	kp, err := ca.KubeletServingCert(o.nodeName, o.addresses)
	if err != nil {
		return err
	}
	certFile, keyFile := o.certFile, o.keyFile
	if certFile == "" {
		certFile = o.nodeName + ".crt"
	}
	if keyFile == "" {
		keyFile = o.nodeName + ".key"
	}
	return writePair(kp, certFile, keyFile)
}

// writePair writes a certificate and its key, the key readable only by its
// owner.
func writePair(kp *pki.KeyPair, certFile, keyFile string) error {
	if err := os.WriteFile(certFile, kp.CertPEM, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", certFile, err)
	}
	if err := os.WriteFile(keyFile, kp.KeyPEM, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", keyFile, err)
	}
	return nil
}
