package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// runCompose loads a Compose file as `docker compose config` does, without the OS environment (so the result
// depends only on the files), and prints the normalized project.
func runCompose(args []string) ([]string, error) {
	fs := flag.NewFlagSet("compose", flag.ExitOnError)
	file := fs.String("file", "docker-compose.yml", "the Compose file")
	var envFiles, profiles stringList
	fs.Var(&envFiles, "env-file", "an env file for interpolation (repeatable)")
	fs.Var(&profiles, "profile", "a profile to enable (repeatable)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(*file)
	if err != nil {
		return nil, err
	}
	opts := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithProfiles(profiles),
		cli.WithResolvedPaths(true),
		cli.WithConsistency(true),
	}
	if len(envFiles) > 0 {
		opts = append(opts, cli.WithEnvFiles(envFiles...), cli.WithDotEnv)
	}
	options, err := cli.NewProjectOptions([]string{abs}, opts...)
	if err != nil {
		return nil, err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return nil, err
	}
	var problems []string
	for name, svc := range project.Services {
		for _, v := range svc.Volumes {
			// The project's own files (the host's, like the Docker socket, are the host's business).
			if v.Type == types.VolumeTypeBind && strings.HasPrefix(v.Source, project.WorkingDir+string(filepath.Separator)) {
				if _, err := os.Stat(v.Source); err != nil {
					problems = append(problems, fmt.Sprintf("service %s: bind mount source %s does not exist", name, v.Source))
				}
			}
		}
		if svc.Build != nil {
			dockerfile := svc.Build.Dockerfile
			if dockerfile == "" {
				dockerfile = "Dockerfile"
			}
			if !filepath.IsAbs(dockerfile) {
				dockerfile = filepath.Join(svc.Build.Context, dockerfile)
			}
			if _, err := os.Stat(dockerfile); err != nil {
				problems = append(problems, fmt.Sprintf("service %s: build file %s does not exist", name, dockerfile))
			}
		}
	}
	for name, c := range project.Configs {
		if c.File != "" {
			if _, err := os.Stat(c.File); err != nil {
				problems = append(problems, fmt.Sprintf("config %s: file %s does not exist", name, c.File))
			}
		}
	}
	out, err := project.MarshalJSON()
	if err != nil {
		return nil, err
	}
	fmt.Println(string(out))
	return problems, nil
}
