"""Review a local repository or a diff file without a GitHub App: the `mini-review review` command."""
