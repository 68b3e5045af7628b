"""Files into figures: each module reads one kind of file (pure: text in, observations out),
`textfile` opens a file or refuses it in one line, `export` writes the figures back out."""
