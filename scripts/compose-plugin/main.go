// Command docker-compose is the `docker compose` CLI plugin: compose's own command tree, run as a
// Docker CLI plugin (or standalone, as `docker-compose`).
package main

import (
	"os"

	"github.com/docker/cli/cli-plugins/metadata"
	"github.com/docker/cli/cli-plugins/plugin"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/cmd/compatibility"
	commands "github.com/docker/compose/v5/cmd/compose"
	"github.com/docker/compose/v5/cmd/prompt"
	"github.com/docker/compose/v5/pkg/compose"
	"github.com/spf13/cobra"
)

// version is set at link time (-X main.version=…) to the compose module's version.
var version = "unknown"

func main() {
	if plugin.RunningStandalone() {
		os.Args = append([]string{"docker"}, compatibility.Convert(os.Args[1:])...)
	}
	plugin.Run(func(cli command.Cli) *cobra.Command {
		options := &commands.BackendOptions{Options: []compose.Option{
			compose.WithPrompt(prompt.NewPrompt(cli.In(), cli.Out()).Confirm),
		}}
		root := commands.RootCommand(cli, options)
		persistent := root.PersistentPreRunE
		root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
			if err := plugin.PersistentPreRunE(cmd, args); err != nil {
				return err
			}
			if persistent != nil {
				return persistent(cmd, args)
			}
			return nil
		}
		return root
	}, metadata.Metadata{SchemaVersion: "0.1.0", Vendor: "Docker Inc.", Version: version},
		command.WithUserAgent("compose/"+version))
}
