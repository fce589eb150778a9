// ordersaga-deploy-check: the deployment files read by the real loaders, for the tests in tests/deploy.
//
//	ordersaga-deploy-check compose --file docker-compose.yml [--env-file .env.example] [--profile observability]
//	    loads the file with the compose-spec loader (schema, interpolation, merge keys, profiles), checks that
//	    every bind-mounted file exists, and prints the normalized project as JSON.
//	ordersaga-deploy-check k8s [--peers peers.yaml] [--assume-secret NAME]... rendered.yaml
//	    decodes every object strictly into its Go type (unknown fields are errors), cross-checks the objects
//	    against each other, and prints the NetworkPolicy reachability as JSON.
//
// Exit status 1 with one line per problem on stderr when anything is wrong.
package main

import (
	"fmt"
	"os"
	"strings"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var problems []string
	var err error
	switch os.Args[1] {
	case "compose":
		problems, err = runCompose(os.Args[2:])
	case "k8s":
		problems, err = runK8s(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "problem:", p)
		}
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: ordersaga-deploy-check compose --file F [--env-file E] [--profile P]... | k8s [--peers F] [--assume-secret N]... FILE")
	os.Exit(2)
}
