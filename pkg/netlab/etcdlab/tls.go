//go:build linux

package etcdlab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// TLS are the PEM files of a TLS cluster (Options.TLS): the CA that signs
// everything, the members' server certificate (one for all, with every
// member's address) and a client certificate. With ClientCertAuth the
// members require a client certificate signed by CA.
type TLS struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
	ClientCertAuth                                   bool
}

// WriteTLS makes a CA, a server certificate valid for the given addresses
// and a client certificate, writes them under dir (keys 0600) and returns
// their paths. They are valid for a day from an hour ago.
func WriteTLS(dir string, addrs ...netip.Addr) (TLS, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return TLS{}, err
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hactl lab etcd CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return TLS{}, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return TLS{}, err
	}
	f := TLS{CA: filepath.Join(dir, "ca.pem")}
	if err := writePEM(f.CA, "CERTIFICATE", caDER, 0o644); err != nil {
		return TLS{}, err
	}
	leaf := func(serial int64, name string, usage x509.ExtKeyUsage, ips []net.IP) (certFile, keyFile string, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return "", "", err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: ips,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return "", "", err
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return "", "", err
		}
		certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		if err := writePEM(certFile, "CERTIFICATE", der, 0o644); err != nil {
			return "", "", err
		}
		return certFile, keyFile, writePEM(keyFile, "EC PRIVATE KEY", kder, 0o600)
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1)}
	for _, a := range addrs {
		ips = append(ips, net.IP(a.AsSlice()))
	}
	if f.ServerCert, f.ServerKey, err = leaf(2, "server", x509.ExtKeyUsageServerAuth, ips); err != nil {
		return TLS{}, err
	}
	if f.ClientCert, f.ClientKey, err = leaf(3, "client", x509.ExtKeyUsageClientAuth, nil); err != nil {
		return TLS{}, err
	}
	return f, nil
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

// args are etcd's flags for serving clients over TLS.
func (f TLS) args() []string {
	a := []string{"--cert-file", f.ServerCert, "--key-file", f.ServerKey}
	if f.ClientCertAuth {
		a = append(a, "--client-cert-auth", "--trusted-ca-file", f.CA)
	}
	return a
}
