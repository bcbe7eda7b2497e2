"""Report formats of `mini-review review`: text, json, sarif and GitHub workflow commands."""
