"""Rolling data releases: scrubbed dataset dumps that reproduce the leaderboard."""
