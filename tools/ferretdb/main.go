// Command ordersaga-ferretdb serves the MongoDB wire protocol on top of SQLite
// (or PostgreSQL) by embedding FerretDB. The stock ferretdb binary built with
// `go install` panics at start (its version check needs a generated file), so
// the project builds this small wrapper instead. Clients reach FerretDB through
// a proxy that serializes write commands per collection (serialize.go), so that
// single-document updates are atomic as they are on MongoDB.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to serve the MongoDB wire protocol on")
	handler := flag.String("handler", "sqlite", "storage backend: sqlite or postgresql")
	sqliteDir := flag.String("sqlite-dir", ".data/ferretdb", "directory for the SQLite backend's files")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL URL for the postgresql backend")
	parentPID := flag.Int("parent-pid", 0, "exit when this process is gone (the stack runner), so nothing is left behind")
	logLevel := flag.String("log-level", "error", "debug, info, warn or error (FerretDB warns about every unsupported command, such as endSessions)")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		log.Fatalf("ordersaga-ferretdb: bad -log-level: %v", err)
	}
	// FerretDB itself listens on a private Unix socket; clients reach it through the write serializer.
	sockDir, err := os.MkdirTemp("", "ordersaga-ferretdb-")
	if err != nil {
		log.Fatalf("ordersaga-ferretdb: %v", err)
	}
	defer os.RemoveAll(sockDir)
	socket := filepath.Join(sockDir, "ferretdb.sock")
	cfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{Unix: socket},
		Handler:  *handler,
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	switch *handler {
	case "sqlite":
		if err := os.MkdirAll(*sqliteDir, 0o755); err != nil {
			log.Fatalf("ordersaga-ferretdb: cannot create %s: %v", *sqliteDir, err)
		}
		cfg.SQLiteURL = "file:" + *sqliteDir + "/"
	case "postgresql":
		if *postgresURL == "" {
			log.Fatal("ordersaga-ferretdb: -postgresql-url is required with -handler postgresql")
		}
		cfg.PostgreSQLURL = *postgresURL
	default:
		log.Fatalf("ordersaga-ferretdb: unknown handler %q", *handler)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *parentPID > 0 {
		go func() {
			for range time.Tick(2 * time.Second) {
				if syscall.Kill(*parentPID, 0) != nil {
					fmt.Fprintf(os.Stderr, "ordersaga-ferretdb: parent %d is gone, stopping\n", *parentPID)
					stop()
					return
				}
			}
		}()
	}

	f, err := ferretdb.New(cfg)
	if err != nil {
		log.Fatalf("ordersaga-ferretdb: %v", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("ordersaga-ferretdb: %v", err)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	ran := make(chan error, 1)
	go func() { ran <- f.Run(ctx) }()
	s := &serializer{locks: map[string]*sync.Mutex{}}
	go func() {
		if err := s.serve(ln, func() (net.Conn, error) { return net.Dial("unix", socket) }); err != nil && ctx.Err() == nil {
			log.Fatalf("ordersaga-ferretdb: %v", err)
		}
	}()
	fmt.Fprintf(os.Stderr, "ordersaga-ferretdb: serving MongoDB wire protocol on %s (%s, writes serialized per collection)\n", *listen, *handler)
	if err := <-ran; err != nil && ctx.Err() == nil {
		log.Fatalf("ordersaga-ferretdb: %v", err)
	}
}
