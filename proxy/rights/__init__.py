"""The recipient's side: "why am I receiving this?", a copy of one's data, erasure."""
