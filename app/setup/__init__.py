"""`mini-review setup`: register the GitHub App through GitHub's manifest flow and write `.env`."""
