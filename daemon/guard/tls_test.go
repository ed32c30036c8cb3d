package guard

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hactl-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	c, err := TLSConfig(cert, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	if c.RootCAs == nil || len(c.Certificates) != 1 {
		t.Fatalf("CA pool %v, %d certificates", c.RootCAs != nil, len(c.Certificates))
	}
	if c, err := TLSConfig("", "", ""); err != nil || c.RootCAs != nil || len(c.Certificates) != 0 {
		t.Fatalf("no files: %v %v", c, err)
	}
	for _, tc := range []struct {
		name          string
		ca, cert, key string
		want          string
	}{
		{"missing ca", filepath.Join(dir, "none"), "", "", "ca_file"},
		{"ca not PEM", key + "x", "", "", "ca_file"},
		{"cert without key", "", cert, "", "cert_file/key_file"},
		{"key is not the cert's", "", key, key, "cert_file/key_file"},
	} {
		if tc.name == "ca not PEM" {
			if err := os.WriteFile(tc.ca, []byte("not a certificate"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := TLSConfig(tc.ca, tc.cert, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no endpoints", Config{Node: "a", TTL: 2 * time.Second}, "no endpoints"},
		{"short ttl", Config{Node: "a", Endpoints: []string{"http://127.0.0.1:1"}, TTL: time.Second / 2}, "ttl"},
		{"no node", Config{Endpoints: []string{"http://127.0.0.1:1"}, TTL: 2 * time.Second}, "node"},
	} {
		if _, err := New(tc.cfg, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
