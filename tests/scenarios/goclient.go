// goclient.go — Go's crypto/tls as a plain HTTPS client (field-clients.bash builds it into its
// WORK directory): dial, verify against a CA file with ServerName, send a GET, print the status
// line or the error crypto/tls returned. Go picks its own alerts (bad_certificate for most
// verification failures).
//
//	goclient ADDR SNI CAFILE [MAXVER]   (MAXVER 1.2 caps the version at TLS 1.2)
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: goclient ADDR SNI CAFILE [MAXVER]")
		os.Exit(2)
	}
	pem, err := os.ReadFile(os.Args[3])
	if err != nil {
		fmt.Println("go:", err)
		os.Exit(2)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: roots, ServerName: os.Args[2]}
	if len(os.Args) > 4 && os.Args[4] == "1.2" {
		cfg.MaxVersion = tls.VersionTLS12
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", os.Args[1], cfg)
	if err != nil {
		fmt.Println("go:", err)
		os.Exit(1)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", os.Args[2])
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		fmt.Println("go:", err)
		os.Exit(1)
	}
	fmt.Printf("go: %s", line)
}
