// Command ordersaga-kafka-broker serves the Kafka protocol for local runs and tests by embedding kfake
// (github.com/twmb/franz-go/pkg/kfake), an in-process Kafka cluster with consumer groups, idempotent
// producers and on-disk persistence. One broker per port; all listen on 127.0.0.1.
//
//	ordersaga-kafka-broker [--ports 9092[,9093,...]] [--data-dir DIR] [--partitions N] [--log-level info] [--parent-pid PID]
//
// Once every broker listens it prints one address per line on stdout, then "ready"; a port of 0 takes a
// free port, so a caller reads the addresses instead of guessing one. SIGINT or SIGTERM closes the
// cluster, which flushes the data dir so topics, records and committed offsets survive a restart.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	portsFlag := flag.String("ports", "9092", "comma-separated ports, one broker each (0 picks a free port)")
	dataDir := flag.String("data-dir", "", "persist topics, records and group offsets here (empty: in memory only)")
	syncWrites := flag.Bool("sync", false, "fsync every produced batch (slower; default syncs on segment roll and shutdown)")
	partitions := flag.Int("partitions", 3, "partitions of a topic created without a count (auto-created or CreateTopics with -1)")
	autoCreate := flag.Bool("auto-create-topics", true, "create a topic on first metadata request that asks for it, as Kafka's auto.create.topics.enable")
	logLevel := flag.String("log-level", "warn", "none, error, warn, info or debug (written to stderr)")
	clusterID := flag.String("cluster-id", "ordersaga-local", "cluster id reported in metadata (a data dir keeps the one it was created with)")
	parentPID := flag.Int("parent-pid", 0, "stop when this process is gone (the stack runner), so nothing is left behind")
	flag.Parse()

	ports, err := parsePorts(*portsFlag)
	if err != nil {
		fail(err)
	}
	level, err := parseLevel(*logLevel)
	if err != nil {
		fail(err)
	}
	opts := []kfake.Opt{
		kfake.Ports(ports...),
		kfake.DefaultNumPartitions(*partitions),
		kfake.ClusterID(*clusterID),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, level)),
	}
	if *autoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
	}
	if *syncWrites {
		opts = append(opts, kfake.SyncWrites())
	}

	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		fail(err)
	}
	for _, addr := range cluster.ListenAddrs() {
		fmt.Println(addr)
	}
	fmt.Println("ready")

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	if *parentPID > 0 {
		go func() {
			for range time.Tick(2 * time.Second) {
				if syscall.Kill(*parentPID, 0) != nil {
					fmt.Fprintf(os.Stderr, "ordersaga-kafka-broker: parent %d is gone, stopping\n", *parentPID)
					sigs <- syscall.SIGTERM
					return
				}
			}
		}()
	}
	<-sigs
	done := make(chan struct{})
	go func() {
		cluster.Close()
		close(done)
	}()
	// A second signal while the data dir is flushing gives up on the flush.
	select {
	case <-done:
	case <-sigs:
		fmt.Fprintln(os.Stderr, "ordersaga-kafka-broker: forced exit before the data dir was flushed")
		os.Exit(1)
	}
}

func parsePorts(s string) ([]int, error) {
	var ports []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("--ports: %q is not a port number", p)
		}
		ports = append(ports, n)
	}
	return ports, nil
}

func parseLevel(s string) (kfake.LogLevel, error) {
	switch strings.ToLower(s) {
	case "none":
		return kfake.LogLevelNone, nil
	case "error":
		return kfake.LogLevelError, nil
	case "warn":
		return kfake.LogLevelWarn, nil
	case "info":
		return kfake.LogLevelInfo, nil
	case "debug":
		return kfake.LogLevelDebug, nil
	}
	return kfake.LogLevelNone, fmt.Errorf("--log-level: %q is not one of none, error, warn, info, debug", s)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ordersaga-kafka-broker:", err)
	os.Exit(2)
}
